/**
 * Measured false-positive scenarios (issue 16): what `rulegen fp` and `propose --refine` record
 * in a rule's provenance, shown next to the false positives its author expects.
 */
import { z } from 'zod';
import { fmtPct } from '../format.js';
import type { Rule } from '../rule/file.js';
import { cell, count, day, type DocRule } from './view-common.js';

const num = z.number().nullable().optional();

const ScenarioRecordSchema = z.looseObject({ description: z.string(), condition: z.string(), share: num, fp: num, tp: num });
type ScenarioRecord = z.infer<typeof ScenarioRecordSchema>;
const FpAnalysisSchema = z.looseObject({
  window: z
    .looseObject({ name: z.string().optional(), from: z.union([z.string(), z.date()]).optional(), to: z.union([z.string(), z.date()]).optional() })
    .optional(),
  false_positives: num,
  true_positives: num,
  scenarios: z.array(ScenarioRecordSchema).optional(),
  remaining: z.array(ScenarioRecordSchema).optional(),
  populations: z.array(z.looseObject({ name: z.string(), description: z.string(), automation: z.boolean().optional() })).optional(),
  change: z.string().optional(),
});
const RefineRecordSchema = z.looseObject({
  round: z.number(),
  generator: z.string().optional(),
  from: z.string(),
  to: z.string(),
  change: z.string(),
  evidence: z.looseObject({ scenarios: z.array(ScenarioRecordSchema).optional(), gate_reasons: z.array(z.string()).optional() }).optional(),
});
const MeasuredSchema = z.looseObject({
  fp_analysis: FpAnalysisSchema.optional(),
  derived_from: z.looseObject({ id: z.string().optional(), condition: z.string().optional() }).optional(),
  refine: z.array(RefineRecordSchema).optional(),
});

/** A scenario's share as "62%" (the description may already start with it). */
const shareText = (s: ScenarioRecord): string =>
  typeof s.share === 'number' ? `${Math.round(100 * s.share)}%` : (/^(\d+%)/.exec(s.description)?.[1] ?? 'n/a');
const scenarioText = (s: ScenarioRecord): string => s.description.replace(/^\d+% of false positives: /, '');

/**
 * The measured side of "who could be matched by mistake": the FP scenarios that `rulegen fp`
 * or a `propose --refine` round measured for this rule (or the rule it was derived from), with
 * their shares and conditions, and the populations a model named. Null when none was recorded.
 */
export function measuredFpView(rule: Rule) {
  const m = MeasuredSchema.safeParse(rule.provenance ?? {});
  if (!m.success) return null;
  const fa = m.data.fp_analysis;
  const refine = m.data.refine ?? [];
  const row = (s: ScenarioRecord, status: string) => ({
    share: shareText(s),
    description: cell(scenarioText(s)),
    condition: cell(s.condition),
    status,
  });
  if (fa && (fa.scenarios?.length || fa.remaining?.length)) {
    const w = fa.window;
    const of = m.data.derived_from?.id
      ? `rule ${m.data.derived_from.id}`
      : m.data.derived_from?.condition
        ? `the condition "${m.data.derived_from.condition}"`
        : 'this rule';
    return {
      source:
        `Measured by rulegen fp on the ${w?.name ?? 'train'} window${w?.from ? ` (${day(w.from)} to ${day(w.to)})` : ''} ` +
        `for ${of}: ${fa.false_positives ?? 'n/a'} false positives, ${fa.true_positives ?? 'n/a'} true ` +
        `positives.${fa.change ? ` This rule's change: ${fa.change}.` : ''}`,
      // offline derivations list the scenarios they exclude and those that remain; a model's, all of the source rule's
      scenarios: [
        ...(fa.scenarios ?? []).map((s) => row(s, fa.populations ? 'measured on the source rule' : m.data.derived_from ? 'excluded' : 'matched')),
        ...(fa.remaining ?? []).map((s) => row(s, 'still matched')),
      ],
      populations: (fa.populations ?? []).map((p) => ({ name: p.name, description: p.description, automation: Boolean(p.automation) })),
    };
  }
  const last = [...refine].reverse().find((r) => r.evidence?.scenarios?.length);
  if (last) {
    return {
      source:
        `Measured by rulegen fp on the train window for the version before refine round ${last.round} ("${last.from}"), which failed the ` +
        `gate${last.evidence?.gate_reasons?.length ? ` (${last.evidence.gate_reasons.join('; ')})` : ''}; ` +
        `round ${last.round}${last.generator ? ` (${last.generator})` : ''}: ${last.change}.`,
      scenarios: last.evidence!.scenarios!.map((s) => row(s, 'measured before the change')),
      populations: [],
    };
  }
  return null;
}

/**
 * The report's per-rule FP section: the measured scenarios (shares, conditions) and the
 * populations a model named when recorded, else the live test-window false positives by segment.
 */
export function reportFpView(d: DocRule) {
  const measured = measuredFpView(d.rule);
  const r = d.result;
  const segments = Object.entries(r?.segments ?? {})
    .filter(([, s]) => s.fp > 0)
    .sort(([ka, a], [kb, b]) => b.fp - a.fp || (ka < kb ? -1 : 1))
    .slice(0, 5)
    .map(([k, s]) => ({ name: k, fp: count(s.fp), fpr: fmtPct(s.fpr) }));
  return {
    fp: r ? count(r.counts.fp) : 'n/a',
    measured,
    segments,
    authored: d.rule.falsepositives.map((f) => f.trim()),
    command: `rulegen fp ${d.rule.id}`,
  };
}
