/**
 * Readable thresholds: a threshold found at a quantile ("page_views > 357.7") is rounded to
 * the fewest significant digits (integers for integer-valued features) that keep the rule's
 * hits on the train sample within ROUND_TOLERANCE and take in no labelled human the unrounded
 * threshold leaves out. Pure arithmetic here; the inducer measures every variant in one scan and
 * picks the shortest that holds (offline/validation.ts).
 */

/** A rounded rule may gain or lose at most this share of its hits. */
export const ROUND_TOLERANCE = 0.01;

/** x rounded to d significant digits, with no binary noise (0.1 + 0.2 style) left in it. */
export function roundSig(x: number, d: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(d));
}

/** Significant digits of a finite number as written by `String` (trailing zeros of integers do not count). */
export function sigDigits(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return 1;
  const s = Math.abs(x).toExponential().split('e')[0]!.replace('.', '');
  return s.replace(/0+$/, '').length || 1;
}

/**
 * Shorter spellings of threshold x, fewest digits first, each different from x and from each
 * other: 357.7 -> [400, 360, 358]; 0.08234 -> [0.08, 0.082, 0.0823]. For an integer feature
 * only integers are offered (a count compared with 2.5 reads badly, and 2.5 and 3 split it
 * the same way only for one operator).
 */
export function roundingCandidates(x: number, integer: boolean): number[] {
  if (!Number.isFinite(x) || x === 0) return [];
  const out: number[] = [];
  const digits = sigDigits(x);
  for (let d = 1; d < digits && d <= 6; d++) {
    const r = roundSig(x, d);
    if (integer && !Number.isInteger(r)) continue;
    if (r === x || out.includes(r)) continue;
    out.push(r);
  }
  if (integer && !Number.isInteger(x)) {
    const r = Math.round(x);
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

/** Whether a variant's hits stay within the tolerance of the original's. */
export function withinTolerance(original: number, variant: number, tolerance = ROUND_TOLERANCE): boolean {
  return Math.abs(variant - original) <= tolerance * original;
}
