/**
 * The pure arithmetic of the ranking: what is left to do once DuckDB has reduced the rows to
 * per-feature aggregates (a handful of numbers and at most a dozen bins per feature).
 * Definitions live here, next to the code that applies them, and the tests re-implement them
 * from scratch on raw rows.
 */

/** The per-label quantiles reported, in percent. */
export const PERCENTILES = [1, 5, 25, 50, 75, 95, 99] as const;
export type Percentile = (typeof PERCENTILES)[number];

/**
 * Quantile bins of a number for the information value, plus one bin for nulls. Cut k
 * (k = 1..9) is the smallest value v whose cumulative count (values <= v, bots and humans
 * pooled, nulls left out) reaches k/10 of the non-null total: 10 * cum(v) >= k * n. A value
 * falls in bin #{k : cut_k < v}, so bins are (-inf, c1], (c1, c2], ..., (c9, +inf); a value
 * holding more than a tenth of the rows repeats a cut and leaves a bin empty, and empty bins
 * are dropped, so tied values never split across bins. The IV formula is in queries.ts (ivSql).
 */
export const IV_BINS = 10;
/** Added to every bin's bot and human count before taking the log; keeps empty cells finite. */
export const WOE_SMOOTHING = 0.5;
/** IV above this counts as "as strong as it gets" in the combined importance. */
export const IV_CAP = 1;

/**
 * Where quantile p (in percent) of n sorted values lies, as DuckDB's quantile_cont and numpy's
 * default compute it: position (n - 1) * p / 100, interpolated between the values at its floor
 * and at the next index. Integer arithmetic, so SQL and JS agree on the index exactly.
 */
export function quantilePosition(n: number, percent: number): { lo: number; frac: number } {
  const scaled = (n - 1) * percent;
  const lo = Math.floor(scaled / 100);
  return { lo, frac: (scaled - lo * 100) / 100 };
}

/** The interpolated quantile from the values at index lo and lo + 1 (hi unused when frac = 0). */
export function interpolate(lo: number | null, hi: number | null, frac: number): number | null {
  if (lo === null) return null;
  if (frac === 0 || hi === null) return lo;
  return lo + frac * (hi - lo);
}

/** Signed AUC of a value as a bot score -> folded AUC (>= 0.5) and the way bots lie. */
export function foldAuc(raw: number | null): { auc: number | null; direction: 'higher' | 'lower' | null } {
  if (raw === null || !Number.isFinite(raw)) return { auc: null, direction: null };
  if (raw > 0.5) return { auc: raw, direction: 'higher' };
  if (raw < 0.5) return { auc: 1 - raw, direction: 'lower' };
  return { auc: 0.5, direction: null };
}

/**
 * Combined importance, in [0, 1]: the mean of the defined ones among
 *   Gini = 2 * (AUC - 0.5)   (AUC folded, so Gini >= 0),
 *   KS,
 *   min(IV, 1)               (IV over 0.5 is already "suspiciously strong"; the cap keeps one
 *                             feature with a lopsided null bin from dwarfing the other two).
 * All three lie in [0, 1] and grow with separation, so no rank transform is needed and the
 * value of a feature does not depend on which other features are in the catalog.
 * Null when none is defined: such features sort last.
 */
export function combinedImportance(auc: number | null, ks: number | null, iv: number | null): number | null {
  const parts = [auc === null ? null : 2 * (auc - 0.5), ks, iv === null ? null : Math.min(iv, IV_CAP)].filter(
    (x): x is number => x !== null && Number.isFinite(x),
  );
  if (parts.length === 0) return null;
  return parts.reduce((s, x) => s + x, 0) / parts.length;
}

/** A DuckDB aggregate as a plain number (HUGEINT sums arrive as bigint when past 2^53). */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}
