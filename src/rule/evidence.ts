/**
 * The `backtest:` block of a rule file: the evidence every backtest rewrites (DESIGN.md).
 * One schema for the writer (backtest/run.ts `evidenceBlock` returns this type), the rule-file
 * schema, and the readers (the docs and report). Files are edited by hand and older files lack
 * later fields, so every field is optional and figures may be null (a rate with no denominator);
 * unknown keys are kept.
 */
import { z } from 'zod';

const num = z.number().nullable().optional();
/** YAML 1.2 reads an unquoted timestamp as a string; a hand-edited file may still hold a Date. */
const time = z.union([z.string(), z.date()]);
const counts = z.looseObject({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number(), unlabeled_hits: z.number().optional() });

export const EvidenceSchema = z.looseObject({
  as_of: time.optional(),
  data: z.looseObject({ rows: num, from: time.optional(), to: time.optional(), window: z.string().optional() }).optional(),
  /** Which evaluator measured it (issue 13): `kernel` (columnar) or `sql` (the reference engine). Same figures either way. */
  engine: z.string().optional(),
  counts: counts.optional(),
  precision: num,
  precision_lower95: num,
  recall: num,
  fpr: num,
  fpr_upper95: num,
  hit_rate: num,
  /** The train window's figures, when the judged window is test (is the rule stable across the split?). */
  train: z.looseObject({ counts: counts.optional(), recall: num, fpr: num }).optional(),
  daily: z
    .looseObject({
      worst_fpr: num,
      worst_day: time.nullable().optional(),
      days: num,
      /** The first day of the test window: the series runs across the split. */
      split: time.nullable().optional(),
      series: z.array(z.looseObject({ day: time, window: z.string().optional(), hits: num, tp: num, fp: num, recall: num, fpr: num })).optional(),
    })
    .optional(),
  segments: z.record(z.string(), z.looseObject({ fpr: num, fpr_upper95: num, fpr_lower95: num, humans: num, hits: num })).optional(),
  populations: z
    .record(z.string(), z.looseObject({ protected: z.boolean().optional(), fpr: num, fpr_upper95: num, fpr_lower95: num, humans: num, fp: num, hits: num }))
    .optional(),
  incremental_recall: num,
  /** What the rule adds to the deployed set (approved block/challenge rules). */
  set: z
    .looseObject({
      deployed_rules: num,
      incremental_fp: num,
      incremental_fpr: num,
      incremental_tp: num,
      incremental_recall: num,
      fp_share: num,
      with_rule: z.looseObject({ fp: num, fpr: num, fpr_upper95: num, recall: num }).optional(),
    })
    .optional(),
  /** Gate findings beyond the per-rule figures (set, segment, stability, duplicate, warnings, undetermined, power). */
  gate: z.record(z.string(), z.union([z.array(z.string()), z.string()])).optional(),
  overlap: z.array(z.looseObject({ id: z.string(), jaccard: z.number() })).optional(),
  variations: z
    .array(z.looseObject({ feature: z.string(), op: z.string(), value: z.number(), recall: num, fpr: num, fpr_upper95: num, precision: num }))
    .optional(),
});

/** A `backtest:` block as written and as read back. */
export type Evidence = z.infer<typeof EvidenceSchema>;

/** The evidence a rule file records, or null when it has none or the block does not fit the schema. */
export function readEvidence(raw: unknown): Evidence | null {
  if (raw === null || raw === undefined || (typeof raw === 'object' && Object.keys(raw).length === 0)) return null;
  const p = EvidenceSchema.safeParse(raw);
  return p.success ? p.data : null;
}
