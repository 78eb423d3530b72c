/**
 * Plain-JS statistics written from their textbook definitions, row by row, to check the SQL
 * of src/rank against. Nothing here is shared with the code under test.
 */

/** Pairwise ROC AUC: share of (bot, human) pairs where the bot scores higher, a tie counting 1/2. */
export function aucPairwise(bots: readonly number[], humans: readonly number[]): number | null {
  if (bots.length === 0 || humans.length === 0) return null;
  let s = 0;
  for (const b of bots) for (const h of humans) s += b > h ? 1 : b === h ? 0.5 : 0;
  return s / (bots.length * humans.length);
}

/** Largest gap between the two empirical CDFs, evaluated at every observed value. */
export function ksStatistic(bots: readonly number[], humans: readonly number[]): number | null {
  if (bots.length === 0 || humans.length === 0) return null;
  const cdf = (xs: readonly number[], t: number) => xs.filter((x) => x <= t).length / xs.length;
  let best = 0;
  for (const t of new Set([...bots, ...humans])) best = Math.max(best, Math.abs(cdf(bots, t) - cdf(humans, t)));
  return best;
}

/** numpy's default (linear) quantile, p in [0, 1]. */
export function quantileLinear(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (pos - lo) * (s[hi]! - s[lo]!);
}

interface Labelled<T> {
  value: T | null;
  bot: boolean;
}

/**
 * Information value, as documented in src/rank: numbers in 10 bins cut at the smallest values
 * whose cumulative pooled count reaches k/10 of the non-null rows, plus a null bin; other kinds
 * one bin per value plus a null bin; empty bins dropped; counts smoothed by 0.5.
 */
export function informationValue<T extends number | string>(rows: readonly Labelled<T>[], numeric: boolean): number | null {
  const present = rows.filter((r) => r.value !== null);
  let binOf: (v: T) => string;
  if (numeric) {
    const sorted = present.map((r) => r.value as number).sort((a, b) => a - b);
    const n = sorted.length;
    const cuts: number[] = [];
    for (let k = 1; k < 10; k++) {
      // smallest v with 10 * #(<= v) >= k * n
      const v = sorted.find((c) => 10 * sorted.filter((x) => x <= c).length >= k * n);
      if (v !== undefined) cuts.push(v);
    }
    binOf = (v) => String(cuts.filter((c) => c < (v as number)).length);
  } else binOf = (v) => String(v);
  const bins = new Map<string, { b: number; h: number }>();
  for (const r of rows) {
    const key = r.value === null ? 'null' : binOf(r.value);
    const cell = bins.get(key) ?? { b: 0, h: 0 };
    if (r.bot) cell.b++;
    else cell.h++;
    bins.set(key, cell);
  }
  const cells = [...bins.values()];
  const B = cells.reduce((s, c) => s + c.b, 0);
  const H = cells.reduce((s, c) => s + c.h, 0);
  if (B === 0 || H === 0) return null;
  const m = cells.length;
  let iv = 0;
  for (const c of cells) {
    const p = (c.b + 0.5) / (B + 0.5 * m);
    const q = (c.h + 0.5) / (H + 0.5 * m);
    iv += (p - q) * Math.log(p / q);
  }
  return iv;
}

/** Categories ordered by bot rate, each mapped to its position: the score behind a category's AUC. */
export function categoryScores(rows: readonly Labelled<string>[]): Map<string, number> {
  const by = new Map<string, { b: number; n: number }>();
  for (const r of rows) {
    if (r.value === null) continue;
    const c = by.get(r.value) ?? { b: 0, n: 0 };
    c.n++;
    if (r.bot) c.b++;
    by.set(r.value, c);
  }
  const order = [...by.entries()].sort((a, b) => a[1].b / a[1].n - b[1].b / b[1].n || (a[0] < b[0] ? -1 : 1));
  return new Map(order.map(([k], i) => [k, i]));
}

export const fold = (auc: number | null): number | null => (auc === null ? null : Math.max(auc, 1 - auc));
