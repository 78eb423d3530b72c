/**
 * Counting every atom at once. Every number's value is replaced, once, by its place among
 * the feature's atom thresholds T (sorted): code = 2 * #{t in T : t < v} + (v in T ? 1 : 0),
 * so that
 *   v <= T[j]  <=>  code <= 2j + 1,   v >= T[j]  <=>  code >= 2j + 1,   v = T[j]  <=>  code = 2j + 1,
 *   v <  T[j]  <=>  code <= 2j,       v >  T[j]  <=>  code >= 2j + 2.
 * Booleans become 0/1, categories stay text, nulls stay null. A histogram of codes then
 * counts every atom of a feature exactly, and has at most 2|T| + 1 rows per feature.
 * Two counters read the codes: SQL histograms over bin columns (here, `--engine sql`) and bitmaps
 * in memory (bitmaps.ts, the default, which makes the same codes from the features' values);
 * both decide an atom on a code by the same `holdsFor`.
 */
import type { Feature } from '../../catalog/schema.js';
import { quoteIdent, type Param, type Store } from '../../db/store.js';
import type { SliceCounts } from '../covering.js';
import { COV, LBL, SAMPLE, VAL, conjSql, n } from './sql.js';
import type { Term } from './types.js';
import { bitmapCounter } from './bitmaps.js';
import { sqlRuleCounts } from './rules-sql.js';

/** A whole rule on the sample: a conjunction of terms, or the existing rule whose hit column is `_rg_e<existing>`. */
export type SampleRule = { terms: readonly Term[] } | { existing: number };

/** A final candidate's counts (validation.ts): on the validation slice, on the whole sample, with each existing rule. */
export interface Judged {
  valBots: number;
  /** Bots of the validation slice no chosen rule covers. */
  valNewBots: number;
  valHumans: number;
  /** Humans of the validation slice a chosen rule already takes in (the set's overlap). */
  valCoveredHumans: number;
  /** Hits on the whole sample, and the labelled humans among them. */
  hits: number;
  humans: number;
  /** Per existing rule: hits in common. */
  existing: number[];
}

/**
 * Whole rules on the sample, and the coverage the covering loop moves: the counter owns the
 * coverage (the bitmap counter keeps it in memory, the SQL one in the sample's flag columns).
 */
export interface RuleCounts {
  /** Per conjunction: its bots (tp) and humans (fp) on the validation slice. */
  onValidation(conjs: readonly (readonly Term[])[]): Promise<{ tp: number; fp: number }[]>;
  /** Per conjunction: its hits on the whole sample, and the labelled humans among them. */
  onSample(conjs: readonly (readonly Term[])[]): Promise<{ hits: number; humans: number }[]>;
  /** Per conjunction: the final judgement's counts, with the first `existing` existing rules. */
  judge(conjs: readonly (readonly Term[])[], existing: number): Promise<Judged[]>;
  /** Bots of the fit slice no rule covers yet. */
  uncoveredFitBots(): Promise<number>;
  /** Nothing covered. */
  resetCoverage(): Promise<void>;
  /** The fit slice's uncovered bots `rule` catches become covered; returns every atom's counts over just those bots. */
  coverNew(rule: SampleRule): Promise<SliceCounts[]>;
  /** Every row `rule` catches (`botsOnly`: every bot) counts as covered. */
  cover(rule: SampleRule, botsOnly: boolean): Promise<void>;
}

export interface AtomCounter extends RuleCounts {
  /**
   * Counts of every atom on the fit slice within each parent's hits: counts[parent][atom].
   * No parents: one row of counts over the whole fit slice, or (`only: 'new'`) over the bots a
   * chosen rule has just covered (within `coverNew`).
   */
  score(parents: readonly Term[][] | null, only?: 'new'): Promise<SliceCounts[][]>;
  /** Candidate rules scored so far. */
  readonly searched: number;
}

/** The sample's bin columns `_rg_b<i>` (one per feature of `use`) and how each atom reads its feature's. */
export interface Bins {
  use: readonly Feature[];
  /** Per feature: its atoms' thresholds T, sorted (numbers only). */
  thresholds: number[][];
  /** Per atom: its feature's index in `use`. */
  featureOf: number[];
  /** Per atom: whether it holds for a bin (the code as text, the category, or null). */
  holds: ((b: string | null) => boolean)[];
}

/**
 * The code by a balanced CASE tree: log2 |T| comparisons a row find #{t in T : t < v}, and one
 * more at the leaf asks whether v is that next threshold itself.
 */
function code(c: string, T: readonly number[], lo: number, hi: number, params: Param[]): string {
  if (lo >= hi) {
    if (lo >= T.length) return String(2 * lo);
    params.push(T[lo]!);
    return `CASE WHEN ${c} = ?::DOUBLE THEN ${2 * lo + 1} ELSE ${2 * lo} END`;
  }
  const mid = (lo + hi) >> 1;
  params.push(T[mid]!);
  const above = code(c, T, mid + 1, hi, params);
  return `CASE WHEN ${c} > ?::DOUBLE THEN ${above} ELSE ${code(c, T, lo, mid, params)} END`;
}

/** Whether an atom holds for a histogram bin (the bin's code or text; null for nulls). */
function holdsFor(t: Term, T: readonly number[]): (b: string | null) => boolean {
  const spec = t.atom.spec;
  const j = spec.value !== undefined ? T.indexOf(spec.value) : -1;
  const values = new Set(spec.values ?? []);
  return (b: string | null): boolean => {
    if (b === null) return spec.op === 'null';
    switch (spec.op) {
      case 'null':
        return false;
      case 'notnull':
        return true;
      case 'le':
        return Number(b) <= 2 * j + 1;
      case 'ge':
        return Number(b) >= 2 * j + 1;
      case 'eq':
        return Number(b) === 2 * j + 1;
      case 'lt':
        return Number(b) <= 2 * j;
      case 'gt':
        return Number(b) >= 2 * j + 2;
      case 'true':
        return Number(b) !== 0;
      case 'false':
        return Number(b) === 0;
      case 'in':
        return values.has(b);
    }
  };
}

/** The atoms' thresholds per feature and how each atom reads its feature's bin (no SQL). */
export function binsFor(use: readonly Feature[], terms: readonly Term[]): Bins {
  const thresholds = use.map((f) =>
    f.type === 'number'
      ? [...new Set(terms.filter((t) => t.atom.feature === f.name && t.atom.spec.value !== undefined).map((t) => t.atom.spec.value!))].sort((x, y) => x - y)
      : [],
  );
  const featureOf = terms.map((t) => use.findIndex((f) => f.name === t.atom.feature));
  const holds = terms.map((t, i) => holdsFor(t, thresholds[featureOf[i]!]!));
  return { use, thresholds, featureOf, holds };
}

/**
 * The number's bin code, compared as DOUBLE as the rules' compiled SQL compares (`col op ?::DOUBLE`),
 * also for an integer column beyond 2^53.
 */
const numberBin = (name: string) => `CAST(${quoteIdent(name)} AS DOUBLE)`;

/** Adds a bin column `_rg_b<i>` per feature to the sample table (what the SQL histograms count). */
export async function addBinColumns(store: Store, bins: Bins): Promise<void> {
  const binCols: string[] = [];
  const binParams: Param[] = [];
  bins.use.forEach((f, i) => {
    const c = quoteIdent(f.name);
    const T = bins.thresholds[i]!;
    if (f.type === 'number') binCols.push(`CASE WHEN ${c} IS NULL THEN NULL ELSE ${code(numberBin(f.name), T, 0, T.length, binParams)} END AS "_rg_b${i}"`);
    else if (f.type === 'boolean') binCols.push(`CAST(${c} AS INTEGER) AS "_rg_b${i}"`);
    else binCols.push(`CAST(${c} AS VARCHAR) AS "_rg_b${i}"`);
  });
  await store.run(`CREATE OR REPLACE TEMP TABLE ${SAMPLE} AS SELECT *, ${binCols.join(', ')} FROM ${SAMPLE}`, binParams);
}

/** binsFor, and the bin columns added to the sample table. */
export async function addBins(store: Store, use: readonly Feature[], terms: readonly Term[]): Promise<Bins> {
  const bins = binsFor(use, terms);
  await addBinColumns(store, bins);
  return bins;
}

/**
 * The counter of the covering search: bitmaps in memory (the default, within MAX_BITMAP_BYTES;
 * they make the bin codes from the sample's features themselves), else SQL histograms over the
 * bin columns added here. `existing` hit columns `_rg_e<i>` are in the sample.
 */
export async function atomCounter(
  store: Store,
  use: readonly Feature[],
  terms: readonly Term[],
  engine: 'kernel' | 'sql' = 'kernel',
  existing = 0,
): Promise<AtomCounter> {
  const bins = binsFor(use, terms);
  // the bitmaps read the features themselves; the SQL histograms count the bin columns
  const bits = engine === 'kernel' ? await bitmapCounter(store, bins, terms, existing) : null;
  if (bits) return bits;
  await addBinColumns(store, bins);
  return sqlCounter(store, bins, terms);
}

/** The counter by SQL histograms over the bin columns. */
export function sqlCounter(store: Store, bins: Bins, terms: readonly Term[]): AtomCounter {
  const { use, featureOf, holds } = bins;
  const histogram = use
    .map((_, i) => `SELECT _rg_k, ${i}::INTEGER AS f, CAST("_rg_b${i}" AS VARCHAR) AS b, ${LBL} AS lbl, ${COV} AS cov, count(*) AS n FROM p GROUP BY ALL`)
    .join(' UNION ALL ');
  let searched = 0;

  // One statement: the parents' rows stacked (UNION ALL), then a histogram of every feature's
  // bin by label and coverage; JS reads each atom's counts off its feature's bins (a few dozen
  // rows each), so the work in SQL grows with rows times features, not rows times atoms.
  const score = async (parents: readonly Term[][] | null, only?: 'new'): Promise<SliceCounts[][]> => {
    const ps = parents ?? [[]];
    const where = only === 'new' ? `"_rg_new"` : 'TRUE';
    const from = ps
      .map(
        (p, k) =>
          `SELECT ${k}::INTEGER AS _rg_k, ${LBL}, ${COV}, ${use.map((_, i) => `"_rg_b${i}"`).join(', ')} FROM ${SAMPLE} WHERE NOT ${VAL} AND ` +
          `(${where}) AND (${p.length ? conjSql(p).sql : 'TRUE'})`,
      )
      .join(' UNION ALL ');
    const rows = await store.all(
      `WITH p AS MATERIALIZED (${from}) ${histogram}`,
      ps.flatMap((p) => (p.length ? conjSql(p).parameters : [])),
    );
    searched += terms.length * ps.length;
    // hist[k][f] = [{b, lbl, cov, n}]
    const hist = ps.map(() => use.map((): { b: string | null; bot: boolean; cov: boolean; n: number }[] => []));
    for (const r of rows)
      hist[n(r['_rg_k'])]![n(r['f'])]!.push({ b: (r['b'] as string | null) ?? null, bot: n(r['lbl']) === 1, cov: r['cov'] === true, n: n(r['n']) });
    return ps.map((_, k) =>
      terms.map((_, i): SliceCounts => {
        const c = { tpAll: 0, tpNew: 0, fp: 0 };
        const test = holds[i]!;
        for (const x of hist[k]![featureOf[i]!]!) {
          if (!test(x.b)) continue;
          if (!x.bot) c.fp += x.n;
          else {
            c.tpAll += x.n;
            if (!x.cov) c.tpNew += x.n;
          }
        }
        return c;
      }),
    );
  };
  return {
    score,
    ...sqlRuleCounts(store, async () => (await score(null, 'new'))[0]!),
    get searched() {
      return searched;
    },
  };
}
