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
    /**
     * A category's closed list of values (values outside it are rejected at ingest), or `open`:
     * any value is kept, and none is ever sent to a model (data-borne text is not trusted).
     */
    values: z.union([z.array(z.string()).min(1), z.literal('open')]).optional(),
    /** A short noun phrase for plain-English renderings ("requests per minute"); the description is a sentence. */
    label: z.string().min(1).optional(),
    sensitive: z.boolean().default(false),
    /**
     * Derived from the same source as the label (e.g. the user agent when labels come from it):
     * rank flags it and propose never uses it, whatever it scores.
     */
    leak: z.boolean().optional(),
    /** The feature may separate (almost) perfectly without being a label leak: propose may use it. */
    leak_ok: z.boolean().optional(),
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

/** The catalog's closed list of values for a category feature, or null when the set is open or unlisted. */
export function listedValues(f: Feature): readonly string[] | null {
  return Array.isArray(f.values) ? f.values : null;
}

export function makeCatalog(features: readonly Feature[]): Catalog {
  const byName = new Map(features.map((f) => [f.name, f]));
  return Object.freeze({ features: Object.freeze([...features]), get: (n: string) => byName.get(n) });
}
