/**
 * The arithmetic of the covering search, apart from the SQL that counts: how a candidate is
 * scored, when it passes on the fit slice, which terms are passengers, and which rules repeat
 * an existing one. Pure functions, unit-tested on hand-made counts.
 */
import { wilson } from '../backtest/stats.js';

/** Counts of one candidate on the fit (or validation) slice. */
export interface SliceCounts {
  /** Bots hit, covered by earlier rules or not (precision counts them all). */
  tpAll: number;
  /** Bots hit that no rule chosen so far covers (what the candidate adds). */
  tpNew: number;
  fp: number;
}

/** The gate as the search applies it on a slice: support scaled to the slice's size. */
export interface SliceGate {
  maxFpr: number;
  minPrecision: number;
  minSupport: number;
}

/**
 * FOIL information gain (Quinlan): how much purer the candidate's new bots are than its
 * parent's, weighted by how many it keeps. Laplace-smoothed so empty cells stay finite.
 */
export function foilGain(c: { tp: number; fp: number }, parent: { tp: number; fp: number }): number {
  if (c.tp <= 0) return 0;
  const p = Math.log2((c.tp + 1) / (c.tp + c.fp + 2));
  const q = Math.log2((parent.tp + 1) / (parent.tp + parent.fp + 2));
  return c.tp * (p - q);
}

/** Why a candidate fails the gate on a slice with `humans` labelled humans; empty when it passes. */
export function sliceGateReasons(c: SliceCounts, humans: number, g: SliceGate): string[] {
  const reasons: string[] = [];
  const upper = wilson(c.fp, humans).upper;
  if (humans === 0) reasons.push('no humans on the slice: FPR cannot be judged');
  else if (upper > g.maxFpr) reasons.push(`FPR bound ${pct(upper)} > ${pct(g.maxFpr)} (${c.fp} of ${humans} humans)`);
  const hits = c.tpAll + c.fp;
  if (hits === 0 || c.tpAll / hits < g.minPrecision) reasons.push(`precision ${hits ? pct(c.tpAll / hits) : 'n/a'} < ${pct(g.minPrecision)}`);
  if (c.tpNew < g.minSupport) reasons.push(`adds ${c.tpNew} bots, fewer than ${g.minSupport}`);
  return reasons;
}

export const pct = (x: number): string => `${(100 * x).toPrecision(3)}%`;

/**
 * No passenger terms. Given a rule's terms and the validation counts of every sub-rule (keyed
 * by the sorted indices of the terms kept), drop a term whenever dropping it adds no false
 * positive on the validation slice (it then only costs recall), the one whose removal keeps
 * the most bots first; repeat. Returns the indices kept, in the rule's order.
 */
export function prunePassengers(n: number, counts: (kept: readonly number[]) => { tp: number; fp: number } | undefined): number[] {
  let kept = Array.from({ length: n }, (_, i) => i);
  for (;;) {
    if (kept.length <= 1) return kept;
    const full = counts(kept);
    if (!full) return kept;
    let best: { kept: number[]; tp: number } | undefined;
    for (const drop of kept) {
      const rest = kept.filter((i) => i !== drop);
      const c = counts(rest);
      if (!c) continue;
      if (c.fp <= full.fp && (!best || c.tp > best.tp)) best = { kept: rest, tp: c.tp };
    }
    if (!best) return kept;
    kept = best.kept;
  }
}

/** Jaccard similarity of two hit sets from their sizes and intersection; 0 when both are empty. */
export function jaccard(a: number, b: number, both: number): number {
  const union = a + b - both;
  return union > 0 ? both / union : 0;
}

/** The first existing rule whose hits overlap by at least `max` (highest first), or undefined. */
export function duplicateOf<T extends { hits: number }>(
  hits: number,
  existing: readonly T[],
  intersections: readonly number[],
  max: number,
): { rule: T; jaccard: number } | undefined {
  let best: { rule: T; jaccard: number } | undefined;
  existing.forEach((e, i) => {
    const j = jaccard(hits, e.hits, intersections[i] ?? 0);
    if (j >= max && (!best || j > best.jaccard)) best = { rule: e, jaccard: j };
  });
  return best;
}
