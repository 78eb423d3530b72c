/**
 * Threshold variations of a rule: the same rule re-measured with each numeric threshold moved,
 * shown as a table in the rule's doc and charted as a trade-off in the report.
 */
import { fmtPct } from '../format.js';
import type { Rule } from '../rule/file.js';
import { numberLabel } from './charts.js';
import { recordedEvidence, type DocRule } from './view-common.js';

export interface VariationRow {
  feature: string;
  op: string;
  value: number;
  recall?: number | null;
  fpr?: number | null;
  fpr_upper95?: number | null;
  precision?: number | null;
}

/** Variations of one threshold (feature and operator): rows unique and sorted by value. */
export interface VariationGroup {
  key: string;
  feature: string;
  op: string;
  /** The threshold the rule uses now; undefined when the rule has no such numeric comparison. */
  current: number | undefined;
  rows: VariationRow[];
}

/** Group variations per threshold (feature and operator), sorted by value; the current value marked. */
export function groupVariations(rows: readonly VariationRow[], rule: Rule): VariationGroup[] {
  const groups = new Map<string, VariationRow[]>();
  for (const v of rows) groups.set(`${v.feature} ${v.op}`, [...(groups.get(`${v.feature} ${v.op}`) ?? []), v]);
  const currents = currentThresholds(rule);
  return [...groups.entries()].map(([key, vs]) => {
    const uniq = [...new Map(vs.map((v) => [v.value, v])).values()].sort((a, b) => a.value - b.value);
    return { key, feature: vs[0]!.feature, op: vs[0]!.op, current: currents.get(key), rows: uniq };
  });
}

/** The numeric thresholds a rule uses, keyed like the groups: "feature op"; a between is its two bounds. */
function currentThresholds(rule: Rule): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (e: Rule['ast']): void => {
    if (e.kind === 'comparison' && e.value.kind === 'number') out.set(`${e.feature} ${e.op}`, e.value.value);
    else if (e.kind === 'between') {
      if (e.low.kind === 'number') out.set(`${e.feature} >=`, e.low.value);
      if (e.high.kind === 'number') out.set(`${e.feature} <=`, e.high.value);
    } else if (e.kind === 'and' || e.kind === 'or') e.operands.forEach(walk);
    else if (e.kind === 'not') walk(e.operand);
  };
  walk(rule.ast);
  return out;
}

/** The variations table of a rule's doc: what the rule file records, else the live ones. */
export function variationsView(d: DocRule) {
  const rows: readonly VariationRow[] = recordedEvidence(d.rule)?.variations ?? d.variations ?? [];
  return groupVariations(rows, d.rule).map((g) => ({
    feature: `${g.feature} ${g.op}`,
    current: g.current === undefined ? 'n/a' : `${g.feature} ${g.op} ${numberLabel(g.current)}`,
    rows: g.rows.map((v) => ({
      threshold: `${g.op} ${numberLabel(v.value)}`,
      current: v.value === g.current,
      recall: fmtPct(v.recall, 1),
      fpr: fmtPct(v.fpr),
      fprUpper: fmtPct(v.fpr_upper95),
      precision: fmtPct(v.precision, 1),
    })),
  }));
}
