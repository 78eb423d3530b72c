/** features.yaml: the only source of column names that rules may use. */
import { z } from 'zod';

export const FEATURE_NAME = /^[a-z][a-z0-9_]*$/;

export const FeatureSchema = z
  .object({
    name: z.string().regex(FEATURE_NAME, 'must match ^[a-z][a-z0-9_]*$'),
    type: z.enum(['number', 'boolean', 'category']),
    unit: z.string().optional(),
    description: z.string().min(1, 'must describe the feature in plain words'),
    range: z.tuple([z.number().nullable(), z.number().nullable()]).optional(),
    values: z.array(z.string()).optional(),
    sensitive: z.boolean().default(false),
  })
  .strict();

export const CatalogSchema = z.array(FeatureSchema);

/** One catalog feature; `name` is a SQL identifier, unique in its catalog. */
export type Feature = z.infer<typeof FeatureSchema>;
export type FeatureType = Feature['type'];

/** A checked catalog: names unique, lookup by name. */
export interface Catalog {
  readonly features: readonly Feature[];
  get(name: string): Feature | undefined;
}

export function makeCatalog(features: readonly Feature[]): Catalog {
  const byName = new Map(features.map((f) => [f.name, f]));
  return Object.freeze({ features: Object.freeze([...features]), get: (n: string) => byName.get(n) });
}
