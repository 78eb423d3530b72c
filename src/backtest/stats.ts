/** Pure statistics of the backtest: confusion-matrix metrics and Wilson score intervals. */

/** 95% two-sided normal quantile. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for k successes in n trials. Defined for n = 0 as [0, 1] (nothing is
 * known), so callers never divide by zero.
 */
export function wilson(k: number, n: number, z = Z95): { lower: number; upper: number } {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** One rule's confusion matrix on a window; `unlabeled_hits` are hits on rows without a label. */
export interface Counts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  unlabeled_hits: number;
}

/** Metrics from counts. A metric whose denominator is zero is null ("n/a"), never NaN. */
export interface Metrics {
  precision: number | null;
  precision_lower95: number | null;
  recall: number | null;
  fpr: number | null;
  fpr_upper95: number | null;
  hit_rate: number | null;
}

export function ratio(k: number, n: number): number | null {
  return n > 0 ? k / n : null;
}

/** `rows` is every row of the window, labelled or not (the hit rate's denominator). */
export function metrics(c: Counts, rows: number): Metrics {
  const humans = c.fp + c.tn;
  const bots = c.tp + c.fn;
  const hits = c.tp + c.fp;
  return {
    precision: ratio(c.tp, hits),
    precision_lower95: hits > 0 ? wilson(c.tp, hits).lower : null,
    recall: ratio(c.tp, bots),
    fpr: ratio(c.fp, humans),
    fpr_upper95: humans > 0 ? wilson(c.fp, humans).upper : null,
    hit_rate: ratio(c.tp + c.fp + c.unlabeled_hits, rows),
  };
}
