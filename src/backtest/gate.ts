/** The gate that approve and check apply to each rule, on the test window. */
import type { Config } from '../config/schema.js';
import type { RuleResult } from './engine.js';

export interface GateVerdict {
  pass: boolean;
  /** Why it failed, in words a reviewer can act on; empty when it passed. */
  reasons: string[];
}

const pct = (x: number) => `${(100 * x).toPrecision(3)}%`;

export function applyGate(r: RuleResult, gate: Config['gate']): GateVerdict {
  const reasons: string[] = [];
  if (r.fpr_upper95 === null) reasons.push('FPR is n/a: no sessions labelled human in the window');
  else if (r.fpr_upper95 > gate.max_fpr) reasons.push(`FPR upper 95% bound ${pct(r.fpr_upper95)} exceeds max_fpr ${pct(gate.max_fpr)} (${r.counts.fp} false positives of ${r.counts.fp + r.counts.tn} humans)`);
  if (r.precision === null) reasons.push('precision is n/a: the rule hits no labelled session');
  else if (r.precision < gate.min_precision) reasons.push(`precision ${pct(r.precision)} is below min_precision ${pct(gate.min_precision)}`);
  if (r.counts.tp < gate.min_support) reasons.push(`catches ${r.counts.tp} bots, fewer than min_support ${gate.min_support}`);
  return { pass: reasons.length === 0, reasons };
}
