/**
 * Atoms of the offline inducer: the single conditions rules are built from, for every usable
 * feature and in both directions (a feature with overall AUC 0.5 may still separate one bot
 * family perfectly, either way):
 * - numbers: `<=` and `>=` at exact quantiles (quantile_disc: a value the data has, so no
 *   atom is empty, unlike `static_asset_ratio < 0` at an interpolated quantile of a spike)
 *   of the pooled values, of the bots' and of the humans' (their extreme tails are where
 *   bot-only regions start); and at the spikes, values holding at least SPIKE_SHARE of the
 *   non-null rows (typically 0 and 1 for ratios) or of the bots' (one value a family shares,
 *   such as the size of the one page a crawler fetches: on the Apache log 10% of the bots and
 *   under 5% of the rows), also as `= v`;
 * - booleans: true and false;
 * - `is null` / `is not null` where the null share differs between bots and humans;
 * - categories: sets of values by lift on the fit slice (`in (...)`), and the values no human
 *   shows at all.
 * Every statistic comes from the fit slice of the search sample, in a fixed number of
 * statements (one for quantiles and null shares, one for spikes, one for category counts).
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import { quoteIdent, type Store } from '../db/store.js';
import { comparison, featureRef, inList, isNotNull, isNull, type Expr } from '../rule/ast.js';
import { print } from '../rule/printer.js';

export const SPIKE_SHARE = 0.05;
/** Spikes per feature at most (the most frequent values). */
export const MAX_SPIKES = 3;
/** Null shares of bots and humans must differ by this much for a null-ness atom. */
export const NULL_GAP = 0.02;
const POOLED_Q = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999];
const BOT_Q = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];
const HUMAN_Q = [0.001, 0.005, 0.01, 0.99, 0.995, 0.999];
/** Category values considered per feature, by lift. */
const MAX_CATEGORY_VALUES = 30;
const MAX_SET = 3;

/** How an atom tests a value, as data: the search counts atoms from per-value histograms. */
export type AtomOp = 'le' | 'ge' | 'lt' | 'gt' | 'eq' | 'true' | 'false' | 'null' | 'notnull' | 'in';

export interface AtomSpec {
  op: AtomOp;
  value?: number;
  values?: readonly string[];
}

export interface InduceAtom {
  /** The printed condition: unique, and the tie-breaker that keeps the search deterministic. */
  key: string;
  feature: string;
  ast: Expr;
  spec: AtomSpec;
}

export interface AtomStats {
  atoms: InduceAtom[];
  /** Numeric features whose every value is an integer (thresholds are rounded to integers). */
  integer: Set<string>;
  spikes: Map<string, number[]>;
}

/**
 * The spikes of a distribution: values that hold at least `minShare` of the `total` non-null
 * rows, most frequent first (ties by value), at most `max` of them.
 */
export function detectSpikes(counts: readonly { value: number; n: number }[], total: number, minShare = SPIKE_SHARE, max = MAX_SPIKES): number[] {
  if (total <= 0) return [];
  return counts
    .filter((c) => c.n >= minShare * total)
    .sort((a, b) => b.n - a.n || a.value - b.value)
    .slice(0, max)
    .map((c) => c.value);
}

/** Values of a category by lift (bot share over human share), values no human has first (by bots). */
export function categoriesByLift(
  rows: readonly { value: string; b: number; h: number }[],
  bots: number,
  humans: number,
): { value: string; b: number; h: number; lift: number }[] {
  return rows
    .filter((r) => r.b > 0)
    .map((r) => ({ ...r, lift: r.h === 0 ? Infinity : r.b / Math.max(1, bots) / (r.h / Math.max(1, humans)) }))
    .sort((a, b) => b.lift - a.lift || b.b - a.b || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

const n = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

export interface SampleColumns {
  table: string;
  label: string;
  /** A predicate selecting the fit slice. */
  fit: string;
}

export async function buildAtoms(store: Store, catalog: Catalog, features: readonly Feature[], s: SampleColumns): Promise<AtomStats> {
  const atoms: InduceAtom[] = [];
  const seen = new Set<string>();
  const add = (feature: string, ast: Expr, spec: AtomSpec) => {
    const key = print(ast);
    if (seen.has(key)) return;
    seen.add(key);
    atoms.push({ key, feature, ast, spec });
  };
  const l = s.label;
  const numbers = features.filter((f) => f.type === 'number');
  const integer = new Set<string>();
  const spikes = new Map<string, number[]>();

  // 1. quantiles, integrality and null shares: one scan
  const cols: string[] = [`sum(CASE WHEN ${l} = 1 THEN 1 ELSE 0 END) AS bots`, `sum(CASE WHEN ${l} = 0 THEN 1 ELSE 0 END) AS humans`];
  features.forEach((f, i) => {
    const c = quoteIdent(f.name);
    cols.push(`sum(CASE WHEN ${c} IS NULL AND ${l} = 1 THEN 1 ELSE 0 END) AS nb${i}`, `sum(CASE WHEN ${c} IS NULL AND ${l} = 0 THEN 1 ELSE 0 END) AS nh${i}`);
    if (f.type === 'number') {
      cols.push(
        `quantile_disc(${c}, [${POOLED_Q.join(', ')}]) AS qa${i}`,
        `quantile_disc(${c}, [${BOT_Q.join(', ')}]) FILTER (WHERE ${l} = 1) AS qb${i}`,
        `quantile_disc(${c}, [${HUMAN_Q.join(', ')}]) FILTER (WHERE ${l} = 0) AS qh${i}`,
        `bool_and(${c} = round(${c})) AS int${i}`,
        `min(${c}) AS lo${i}`,
        `max(${c}) AS hi${i}`,
        `count(${c}) AS nn${i}`,
      );
    }
  });
  const stats = (await store.one(`SELECT ${cols.join(', ')} FROM ${s.table} WHERE ${s.fit}`)) ?? {};
  const bots = n(stats['bots']);
  const humans = n(stats['humans']);

  // 2. spikes: the most frequent values of every number, of all rows (k = 0) and of the bots
  // (k = 1: one value many bots share, e.g. the size of the one page a crawler fetches, is a
  // family's signature even where it is rare among all rows), one UNION ALL
  const spikeRows = numbers.length
    ? await store.all(
        numbers
          .flatMap((f) => {
            const c = quoteIdent(f.name);
            const part = (k: number, where: string) =>
              `SELECT * FROM (SELECT ${features.indexOf(f)}::INTEGER AS f, ${k}::INTEGER AS k, CAST(${c} AS DOUBLE) AS v, count(*) AS n FROM ${s.table} ` +
              `WHERE ${s.fit} AND ${c} IS NOT NULL${where} GROUP BY ${c} ORDER BY n DESC, v LIMIT ${MAX_SPIKES})`;
            return [part(0, ''), part(1, ` AND ${l} = 1`)];
          })
          .join(' UNION ALL '),
      )
    : [];

  // 3. category counts per value, one UNION ALL
  const cats = features.filter((f) => f.type === 'category');
  const catRows = cats.length
    ? await store.all(
        cats
          .map((f) => {
            const c = quoteIdent(f.name);
            return (
              `SELECT ${features.indexOf(f)}::INTEGER AS f, CAST(${c} AS VARCHAR) AS c, sum(CASE WHEN ${l} = 1 THEN 1 ELSE 0 END) AS b, sum(CASE ` +
              `WHEN ${l} = 0 THEN 1 ELSE 0 END) AS h FROM ${s.table} WHERE ${s.fit} AND ${c} IS NOT NULL GROUP BY ${c}`
            );
          })
          .join(' UNION ALL '),
      )
    : [];

  features.forEach((f, i) => {
    const name = f.name;
    if (f.type === 'number') {
      const nn = n(stats[`nn${i}`]);
      if (nn > 0) {
        // NaN sorts above every number in DuckDB: a column holding NaN has max NaN, above every threshold
        const lo = n(stats[`lo${i}`]);
        const hi = Number.isNaN(n(stats[`hi${i}`])) ? Infinity : n(stats[`hi${i}`]);
        if (stats[`int${i}`] === true) integer.add(name);
        // (a NaN spike is no value a rule can name)
        const counts = (k: number) =>
          spikeRows.filter((r) => n(r['f']) === i && n(r['k']) === k && Number.isFinite(n(r['v']))).map((r) => ({ value: n(r['v']), n: n(r['n']) }));
        const pooled = detectSpikes(counts(0), nn);
        const sp = [...pooled, ...detectSpikes(counts(1), bots - n(stats[`nb${i}`])).filter((v) => !pooled.includes(v))];
        spikes.set(name, sp);
        for (const v of sp) {
          // the cuts a person writes first: "= 0", "> 0", "< 1"
          add(name, comparison(name, '=', v), { op: 'eq', value: v });
          if (v < hi) add(name, comparison(name, '>', v), { op: 'gt', value: v });
          if (v > lo) add(name, comparison(name, '<', v), { op: 'lt', value: v });
        }
        const qs = [
          ...((stats[`qa${i}`] as number[] | null) ?? []),
          ...((stats[`qb${i}`] as number[] | null) ?? []),
          ...((stats[`qh${i}`] as number[] | null) ?? []),
          ...sp,
        ]
          .filter((x) => x !== null && Number.isFinite(Number(x)))
          .map(Number);
        const thresholds = [...new Set(qs)].sort((a, b) => a - b);
        for (const t of thresholds) {
          // at the ends "<= min" is "= min" (and ">= max" is "= max"): written as people would
          if (t < hi) add(name, t === lo ? comparison(name, '=', t) : comparison(name, '<=', t), { op: t === lo ? 'eq' : 'le', value: t });
          if (t > lo) add(name, t === hi ? comparison(name, '=', t) : comparison(name, '>=', t), { op: t === hi ? 'eq' : 'ge', value: t });
        }
      }
    } else if (f.type === 'boolean') {
      add(name, featureRef(name), { op: 'true' });
      add(name, comparison(name, '=', false), { op: 'false' });
    } else {
      const rows = catRows.filter((r) => n(r['f']) === i).map((r) => ({ value: String(r['c']), b: n(r['b']), h: n(r['h']) }));
      const byLift = categoriesByLift(rows, bots, humans).slice(0, MAX_CATEGORY_VALUES);
      const lifted = byLift.filter((c) => c.lift > 1);
      const set = (values: string[]) => {
        const sorted = [...values].sort();
        add(name, inList(name, sorted), { op: 'in', values: sorted });
      };
      for (let k = 1; k <= Math.min(MAX_SET, lifted.length); k++) set(lifted.slice(0, k).map((c) => c.value));
      const pure = byLift.filter((c) => c.h === 0).map((c) => c.value);
      if (pure.length > 1) set(pure);
      const strong = lifted.filter((c) => c.lift >= 2).map((c) => c.value);
      if (strong.length > MAX_SET) set(strong);
    }
    // null-ness, where it separates
    const nb = n(stats[`nb${i}`]);
    const nh = n(stats[`nh${i}`]);
    if (bots > 0 && humans > 0) {
      const gap = nb / bots - nh / humans;
      if (gap >= NULL_GAP) add(name, isNull(name), { op: 'null' });
      else if (-gap >= NULL_GAP) add(name, isNotNull(name), { op: 'notnull' });
    }
  });
  void catalog;
  return { atoms, integer, spikes };
}
