/** rulegen.yaml: schema first, type derived. Every field has a default. */
import { z } from 'zod';
import { PROVIDERS } from '../llm/types.js';
import { DEFAULT_LOGS, LogsSchema } from './logs.js';

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a SQL identifier: lower-case letters, digits, _');

export const DataSchema = z
  .object({
    table: identifier.default('sessions'),
    id: identifier.default('session_id'),
    time: identifier.default('ts'),
    label: identifier.default('label'),
    segments: z.array(identifier).default(['country', 'device_class']),
  })
  .strict();

export const SplitSchema = z
  .object({
    test_fraction: z.number().gt(0).lt(1).default(0.3),
    test_from: z.union([z.string(), z.date()]).optional(),
  })
  .strict();

export const GateSchema = z
  .object({
    max_fpr: z.number().min(0).max(1).default(0.001),
    min_precision: z.number().min(0).max(1).default(0.95),
    min_support: z.number().int().min(0).default(20),
    /** Upper 95% bound of the deployed set's FPR (union of block/challenge rules); default max_fpr. */
    set_max_fpr: z.number().min(0).max(1).optional(),
    /** A rule fails on a protected segment value or population when the LOWER 95% bound of its FPR there exceeds this; default 3 x max_fpr. */
    segment_max_fpr: z.number().min(0).max(1).optional(),
    /** Test recall (overall and per test week) must stay at or above this share of train recall. */
    min_recall_ratio: z.number().min(0).max(1).default(0.5),
    /** Hit-set Jaccard at or above which a candidate duplicates another rule. */
    max_jaccard: z.number().gt(0).max(1).default(0.9),
  })
  .strict();

/** The gate with its derived defaults resolved (set_max_fpr = max_fpr, segment_max_fpr = 3 x max_fpr). */
export type ResolvedGate = z.infer<typeof GateSchema> & { set_max_fpr: number; segment_max_fpr: number };

export function resolveGate(g: z.infer<typeof GateSchema>): ResolvedGate {
  return { ...g, set_max_fpr: g.set_max_fpr ?? g.max_fpr, segment_max_fpr: g.segment_max_fpr ?? Math.min(1, 3 * g.max_fpr) };
}

/**
 * A segment: a column whose values are judged one by one, or a population defined by a
 * condition in the rule language. `protected: true` makes a rule's harm there a gate failure.
 */
export const SegmentSchema = z.union([
  z.object({ column: identifier, protected: z.boolean().default(false) }).strict(),
  z.object({ name: identifier, where: z.string().trim().min(1, 'must not be empty'), protected: z.boolean().default(false) }).strict(),
]);
export type SegmentSpec = z.infer<typeof SegmentSchema>;

export const LlmSchema = z
  .object({
    provider: z.enum(PROVIDERS).optional(),
    models: z.array(z.string().min(1)).default(['us.anthropic.claude-sonnet-4-5-20250929-v1:0']),
    fallback: z.array(z.string().min(1)).default(['us.anthropic.claude-haiku-4-5-20251001-v1:0']),
    region: z.string().default('us-east-1'),
    endpoint: z.string().url().optional(),
    max_concurrency: z.number().int().min(1).max(64).default(4),
    temperature: z.number().min(0).max(1).default(0.2),
    max_tokens: z.number().int().min(256).default(8192),
    timeout_ms: z.number().int().min(1000).default(120000),
    /** Bound on a whole `propose` run's model calls (ms): calls still running then are stopped, later ones not made. */
    run_timeout_ms: z.number().int().min(1000).default(900000),
    retry: z
      .object({ mode: z.enum(['standard', 'adaptive']).default('adaptive'), max_attempts: z.number().int().min(1).max(20).default(4) })
      .strict()
      .default({ mode: 'adaptive', max_attempts: 4 }),
    repair_rounds: z.number().int().min(0).max(5).default(2),
    guardrail: z.object({ id: z.string(), version: z.string() }).strict().optional(),
    /** Rules asked for per call; `propose --count N` makes ceil(N / rules_per_call) calls per model. */
    rules_per_call: z.number().int().min(1).max(20).default(5),
    /** Stop making calls once a run has cost this much (USD); `--max-cost` overrides it. */
    max_cost_usd: z.number().positive().optional(),
    /** Folder of recorded responses (relative to the workspace); default: the shipped fixtures/llm. */
    cassettes: z.string().min(1).optional(),
  })
  .strict();

/**
 * Where the backtest and the ranking run (issue 18): the embedded store, or a PostgreSQL or
 * Athena engine that holds the sessions table. No secrets here: PostgreSQL's password comes from
 * PGPASSWORD or ~/.pgpass, AWS credentials from the default chain.
 */
export const EngineSchema = z
  .object({
    kind: z.enum(['duckdb', 'postgres', 'athena']).default('duckdb'),
    /** postgres: postgres://user@host:5432/database (no password); default the PG* environment variables. */
    url: z.string().min(1).optional(),
    /** athena */
    workgroup: z.string().min(1).optional(),
    database: z.string().min(1).optional(),
    catalog: z.string().min(1).optional(),
    output_location: z
      .string()
      .regex(/^s3:\/\//, 'must be an s3:// location')
      .optional(),
    region: z.string().min(1).optional(),
    /** athena: stop a run that would scan more than this many GB; `--max-scan-gb` overrides it. */
    max_scan_gb: z.number().positive().optional(),
    /** athena: a statement running longer than this is stopped. */
    timeout_ms: z.number().int().min(1000).default(1_800_000),
  })
  .strict();

export const ConfigSchema = z
  .object({
    data: DataSchema.default(DataSchema.parse({})),
    split: SplitSchema.default(SplitSchema.parse({})),
    gate: GateSchema.default(GateSchema.parse({})),
    llm: LlmSchema.default(LlmSchema.parse({})),
    paths: z
      .object({
        rules: z.string().min(1).default('rules'),
        candidates: z.string().min(1).default('candidates'),
        docs: z.string().min(1).default('docs'),
      })
      .strict()
      .default({ rules: 'rules', candidates: 'candidates', docs: 'docs' }),
    logs: LogsSchema.default(DEFAULT_LOGS),
    rank: z
      .object({ top: z.number().int().min(1).default(15) })
      .strict()
      .default({ top: 15 }),
    /** Segments and populations beyond `data.segments` (which stays a shorthand for unprotected columns). */
    segments: z.array(SegmentSchema).default([]),
    engine: EngineSchema.default(EngineSchema.parse({})),
  })
  .strict();

/** A loaded, normalised and checked rulegen.yaml. */
export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_CONFIG: Config = ConfigSchema.parse({});

/** Every segment column (data.segments and `segments: - column:`), each once, with whether it is protected. */
export function segmentColumns(c: Config): { column: string; protected: boolean }[] {
  const out = new Map<string, boolean>();
  for (const s of c.data.segments) out.set(s, out.get(s) ?? false);
  for (const s of c.segments) if ('column' in s) out.set(s.column, (out.get(s.column) ?? false) || s.protected);
  return [...out].map(([column, p]) => ({ column, protected: p }));
}

/** The populations of `segments:` (entries with `where:`), in file order, with their index there. */
export function populationSpecs(c: Config): { name: string; where: string; protected: boolean; index: number }[] {
  return c.segments.flatMap((s, index) => ('where' in s ? [{ name: s.name, where: s.where, protected: s.protected, index }] : []));
}
