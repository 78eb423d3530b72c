/**
 * The ruleset bundle: one JSON document that carries every approved rule to the systems that
 * act on traffic. Schema first (zod), type derived, JSON Schema published from the same
 * schema (`bundleJsonSchema`). This module imports zod only, so the runtime evaluator
 * (src/runtime) can validate a bundle without pulling in DuckDB, the AWS SDK or node:fs.
 *
 * Integrity: `sha256` is the SHA-256 of the RFC 8785 (JCS) canonical JSON of the document
 * without its `sha256` member (src/runtime/canonical.ts), hex, lower case.
 */
import { z } from 'zod';

/** The schema version this build writes and the only one its runtime accepts. */
export const BUNDLE_SCHEMA = 'rulegen.ruleset/1';

export const ACTIONS = ['log', 'challenge', 'block'] as const;
/** Rollout stages, in order. A stage caps the rule's action: shadow acts on nothing, block is the rule's own action. */
export const STAGES = ['shadow', 'challenge', 'block'] as const;
export type Action = (typeof ACTIONS)[number];
export type Stage = (typeof STAGES)[number];

const COMPARISON = ['<', '<=', '>', '>=', '=', '!='] as const;

export const LiteralSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('number'), value: z.number().refine(Number.isFinite, 'must be finite') }),
  z.strictObject({ kind: z.literal('string'), value: z.string() }),
  z.strictObject({ kind: z.literal('boolean'), value: z.boolean() }),
]);

const feature = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must match ^[a-z][a-z0-9_]*$');

/** The AST of src/rule/ast.ts as JSON (same `kind` tags and fields). */
export type ExprJson =
  | { kind: 'comparison'; feature: string; op: (typeof COMPARISON)[number]; value: z.infer<typeof LiteralSchema> }
  | { kind: 'between'; feature: string; low: z.infer<typeof LiteralSchema>; high: z.infer<typeof LiteralSchema> }
  | { kind: 'in'; feature: string; negated: boolean; values: z.infer<typeof LiteralSchema>[] }
  | { kind: 'isNull'; feature: string; negated: boolean }
  | { kind: 'feature'; feature: string }
  | { kind: 'and'; operands: ExprJson[] }
  | { kind: 'or'; operands: ExprJson[] }
  | { kind: 'not'; operand: ExprJson };

export const ExprSchema: z.ZodType<ExprJson> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('comparison'), feature, op: z.enum(COMPARISON), value: LiteralSchema }),
    z.strictObject({ kind: z.literal('between'), feature, low: LiteralSchema, high: LiteralSchema }),
    z.strictObject({ kind: z.literal('in'), feature, negated: z.boolean(), values: z.array(LiteralSchema).min(1) }),
    z.strictObject({ kind: z.literal('isNull'), feature, negated: z.boolean() }),
    z.strictObject({ kind: z.literal('feature'), feature }),
    z.strictObject({ kind: z.literal('and'), operands: z.array(ExprSchema).min(2) }),
    z.strictObject({ kind: z.literal('or'), operands: z.array(ExprSchema).min(2) }),
    z.strictObject({ kind: z.literal('not'), operand: ExprSchema }),
  ]),
);

/** The catalog subset a rule needs: names, types, units (and a category's closed list). */
export const FeatureSpecSchema = z.strictObject({
  name: feature,
  type: z.enum(['number', 'boolean', 'category']),
  unit: z.string().optional(),
  values: z.array(z.string()).optional(),
});
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;

const CompiledSchema = z.strictObject({ sql: z.string(), parameters: z.array(z.union([z.number(), z.string(), z.boolean()])) });

export const EvidenceSchema = z.strictObject({
  window: z.strictObject({ name: z.string(), from: z.string(), to: z.string(), rows: z.number() }),
  counts: z.strictObject({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number(), unlabeled_hits: z.number() }),
  precision: z.number().nullable(),
  recall: z.number().nullable(),
  fpr: z.number().nullable(),
  fpr_upper95: z.number().nullable(),
  hit_rate: z.number().nullable(),
});
/** A rule's measured behaviour on the test window when the release was built. */
export type Evidence = z.infer<typeof EvidenceSchema>;

export const HistoryEntrySchema = z.strictObject({
  from: z.enum(STAGES),
  to: z.enum(STAGES),
  at: z.string(),
  reviewer: z.string(),
  override: z.string().nullable(),
});

export const BundleRuleSchema = z.strictObject({
  id: z.string().min(1),
  /** 1 for a rule's first release; +1 each release in which its condition or action changed. */
  version: z.number().int().min(1),
  title: z.string(),
  action: z.enum(ACTIONS),
  level: z.string(),
  stage: z.enum(STAGES),
  /** When the rule entered its stage (null: no staged rollout recorded, the rule acts in full). */
  since: z.string().nullable(),
  history: z.array(HistoryEntrySchema),
  condition: z.string(),
  ast: ExprSchema,
  features: z.array(FeatureSpecSchema).min(1),
  compiled: z.strictObject({ duckdb: CompiledSchema, postgres: CompiledSchema, trino: CompiledSchema, spark: CompiledSchema }),
  evidence: EvidenceSchema.nullable(),
});
export type BundleRule = z.infer<typeof BundleRuleSchema>;

export const BundleSchema = z.strictObject({
  schema: z.literal(BUNDLE_SCHEMA),
  version: z.string().min(1),
  created: z.string(),
  generator: z.string(),
  previous: z.strictObject({ version: z.string(), sha256: z.string() }).nullable(),
  gate: z.strictObject({ max_fpr: z.number(), min_precision: z.number(), min_support: z.number() }),
  rules: z.array(BundleRuleSchema),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
/** A ruleset bundle; `sha256` covers everything else in it. */
export type Bundle = z.infer<typeof BundleSchema>;

/** The bundle's JSON Schema (draft 2020-12), generated from the zod schema. */
export function bundleJsonSchema(): Record<string, unknown> {
  return { title: `rulegen ruleset bundle (${BUNDLE_SCHEMA})`, ...z.toJSONSchema(BundleSchema, { io: 'input' }) } as Record<string, unknown>;
}
