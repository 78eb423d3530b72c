/**
 * FP scenarios and the exclusion terms that remove them, searched offline over the labelled
 * hits (HITS). A scenario is a condition of one or two atoms that holds for many false
 * positives and for at most `tpBudget` of the true positives: excluding it (`rule and not
 * (...)`) then keeps at least 95% of what the rule catches. Scenarios are found by sequential
 * covering: each next one is searched among the false positives the earlier ones leave.
 *
 * Atoms: numbers at exact quantiles (quantile_disc: values the data has) of the FP values and of
 * the TP tails, both directions; booleans both ways; null-ness; category values by FP count and
 * the set of values by lift. Sensitive features are never used (an exclusion term would put
 * them into a rule). Every count is one grouped statement over HITS (one for atoms, one for
 * pairs of the best atoms); atom literals are bound parameters via the compiler.
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Param, type Store } from '../db/store.js';
import { and, comparison, featureRef, inList, isNotNull, isNull, type Expr } from '../rule/ast.js';
import { print } from '../rule/printer.js';
import { FP, HITS, SAMPLE } from './profile.js';

export const TP_KEEP = 0.95;
export const MAX_SCENARIOS = 3;
/** Atoms paired for two-term scenarios (by FP coverage). */
export const PAIR_POOL = 24;
/** A scenario covers at least this share of the false positives (and at least MIN_FP of them). */
export const MIN_SHARE = 0.05;
export const MIN_FP = 5;

const FP_Q = [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98];
const TP_Q = [0.005, 0.01, 0.02, 0.05, 0.1, 0.9, 0.95, 0.98, 0.99, 0.995];

export interface Term {
  key: string;
  ast: Expr;
  features: string[];
}

export interface Scenario {
  condition: Expr;
  /** False positives it covers that no earlier scenario covers (its share is of all false positives). */
  fp: number;
  share: number;
  /** All false positives it covers, earlier scenarios' included. */
  fp_all: number;
  /** True positives it covers: what excluding it costs. */
  tp: number;
}

const n = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

function usable(catalog: Catalog): Feature[] {
  return catalog.features.filter((f) => !f.sensitive);
}

/** Candidate atoms from HITS: thresholds, booleans, nulls, categories. */
export async function exclusionAtoms(store: Store, catalog: Catalog, table = HITS): Promise<Term[]> {
  const fs = usable(catalog);
  const terms: Term[] = [];
  const seen = new Set<string>();
  const add = (ast: Expr, feature: string) => {
    const key = print(ast);
    if (seen.has(key)) return;
    seen.add(key);
    terms.push({ key, ast, features: [feature] });
  };
  const numbers = fs.filter((f) => f.type === 'number');
  if (numbers.length) {
    const row = await store.one(
      `SELECT ${numbers
        .map((f, i) => {
          const c = quoteIdent(f.name);
          return (
            `quantile_disc(${c}, [${FP_Q.join(', ')}]) FILTER (WHERE ${FP}) AS f${i}, quantile_disc(${c}, [${TP_Q.join(', ')}]) FILTER (WHERE ` +
            `NOT ${FP}) AS t${i}`
          );
        })
        .join(', ')} ` + `FROM ${table}`,
    );
    numbers.forEach((f, i) => {
      const vals = new Set<number>();
      for (const k of [`f${i}`, `t${i}`]) for (const v of (row?.[k] as unknown[] | null) ?? []) if (v !== null && Number.isFinite(n(v))) vals.add(n(v));
      for (const v of [...vals].sort((a, b) => a - b)) {
        add(comparison(f.name, '>=', v), f.name);
        add(comparison(f.name, '<=', v), f.name);
      }
    });
  }
  for (const f of fs) {
    if (f.type === 'boolean') {
      add(featureRef(f.name), f.name);
      add(comparison(f.name, '=', false), f.name);
    }
    add(isNull(f.name), f.name);
    add(isNotNull(f.name), f.name);
  }
  const cats = fs.filter((f) => f.type === 'category');
  if (cats.length) {
    const sel = cats.map((f, i) => `CAST(${quoteIdent(f.name)} AS VARCHAR) AS c${i}`).join(', ');
    const rows = await store.all(
      `SELECT f, v, sum(CASE WHEN ${FP} THEN 1 ELSE 0 END) AS nfp, sum(CASE WHEN ${FP} THEN 0 ELSE 1 END) AS ntp
       FROM (UNPIVOT (SELECT ${FP}, ${sel} FROM ${table}) ON ${cats.map((_, i) => `c${i}`).join(', ')} INTO NAME f VALUE v) GROUP BY f, v`,
    );
    cats.forEach((f, i) => {
      const vs = rows.filter((r) => r['f'] === `c${i}` && n(r['nfp']) > 0).map((r) => ({ v: String(r['v']), fp: n(r['nfp']), tp: n(r['ntp']) }));
      vs.sort((a, b) => b.fp - a.fp || (a.v < b.v ? -1 : 1));
      for (const x of vs.slice(0, 12)) add(inList(f.name, [x.v]), f.name);
      const byLift = [...vs].sort((a, b) => b.fp / (b.tp + 1) - a.fp / (a.tp + 1) || (a.v < b.v ? -1 : 1));
      for (const k of [2, 3])
        if (byLift.length >= k)
          add(
            inList(
              f.name,
              byLift
                .slice(0, k)
                .map((x) => x.v)
                .sort(),
            ),
            f.name,
          );
    });
  }
  return terms;
}

interface Scored {
  term: Term;
  fp: number;
  tp: number;
}

/** FP and TP counts of each term over HITS rows passing `where` (FP rows) — TP rows are always all counted. */
async function score(store: Store, catalog: Catalog, terms: readonly Term[], exclude: readonly Expr[], table: string): Promise<Scored[]> {
  if (terms.length === 0) return [];
  const params: Param[] = [];
  const cols = terms.map((t, i) => {
    const p = compilePredicate(t.ast, catalog);
    params.push(...p.parameters);
    return `sum(CASE WHEN ${p.sql} THEN 1 ELSE 0 END) AS a${i}`;
  });
  // earlier scenarios' false positives are covered already: only the rest count (TPs always count, the budget is on them all)
  const ex = exclude.map((e) => compilePredicate(e, catalog));
  const where = ex.length ? `WHERE NOT ${FP} OR NOT (${ex.map((p) => `coalesce(${p.sql}, false)`).join(' OR ')})` : '';
  const rows = await store.all(`SELECT ${FP} AS isfp, ${cols.join(', ')} FROM ${table} ${where} GROUP BY ${FP}`, [
    ...params,
    ...ex.flatMap((p) => p.parameters),
  ]);
  const fpRow = rows.find((r) => r['isfp'] === true);
  const tpRow = rows.find((r) => r['isfp'] === false);
  return terms.map((term, i) => ({ term, fp: n(fpRow?.[`a${i}`]), tp: n(tpRow?.[`a${i}`]) }));
}

const better = (a: Scored, b: Scored): number =>
  b.fp - a.fp || a.tp - b.tp || a.term.features.length - b.term.features.length || (a.term.key < b.term.key ? -1 : a.term.key > b.term.key ? 1 : 0);

/** The scenarios, best first, each within the TP budget on its own. */
export async function findScenarios(
  store: Store,
  catalog: Catalog,
  counts: { fp: number; tp: number },
  opts: { keep?: number; max?: number; table?: string } = {},
): Promise<Scenario[]> {
  const table = opts.table ?? HITS;
  const keep = opts.keep ?? TP_KEEP;
  const budget = Math.floor((1 - keep) * counts.tp + 1e-9);
  const atoms = await exclusionAtoms(store, catalog, table);
  const scenarios: Scenario[] = [];
  const exclude: Expr[] = [];
  let left = counts.fp;
  for (let s = 0; s < (opts.max ?? MAX_SCENARIOS) && left > 0; s++) {
    const singles = await score(store, catalog, atoms, exclude, table);
    const fit = singles.filter((x) => x.tp <= budget && x.fp > 0).sort(better);
    // pairs: atoms that cover many false positives, narrowed together under the budget
    const pool = singles
      .filter((x) => x.fp > 0 && x.tp <= Math.max(budget, 0.5 * counts.tp))
      .sort(better)
      .slice(0, PAIR_POOL);
    const pairs: Term[] = [];
    for (let i = 0; i < pool.length; i++)
      for (let j = i + 1; j < pool.length; j++) {
        const a = pool[i]!.term;
        const b = pool[j]!.term;
        if (a.features[0] === b.features[0]) continue;
        const [x, y] = a.key < b.key ? [a, b] : [b, a];
        pairs.push({ key: `${x.key} and ${y.key}`, ast: and(x.ast, y.ast), features: [x.features[0]!, y.features[0]!] });
      }
    const pairFit = (await score(store, catalog, pairs, exclude, table)).filter((x) => x.tp <= budget && x.fp > 0).sort(better);
    const single = fit[0];
    const pair = pairFit[0];
    // a second term must earn its place: clearly more false positives than the best single atom
    const best = pair && (!single || pair.fp >= 1.1 * single.fp + 1) ? pair : single;
    if (!best || best.fp < Math.max(MIN_FP, MIN_SHARE * counts.fp)) break;
    const all = exclude.length ? (await score(store, catalog, [best.term], [], table))[0]!.fp : best.fp;
    scenarios.push({ condition: best.term.ast, fp: best.fp, share: best.fp / counts.fp, fp_all: all, tp: best.tp });
    exclude.push(best.term.ast);
    left -= best.fp;
  }
  return scenarios;
}

/** The scenarios counted exactly on all hits (the search may have read a sample): disjoint FPs, all FPs, TPs. */
export async function countScenarios(store: Store, catalog: Catalog, conditions: readonly Expr[], counts: { fp: number; tp: number }): Promise<Scenario[]> {
  if (!conditions.length) return [];
  const ps = conditions.map((c) => compilePredicate(c, catalog));
  const params: Param[] = [];
  const cols = ps.map((p, i) => {
    const earlier = ps.slice(0, i);
    params.push(...p.parameters, ...p.parameters, ...earlier.flatMap((e) => e.parameters));
    const notEarlier = earlier.map((e) => ` AND NOT coalesce(${e.sql}, false)`).join('');
    return `sum(CASE WHEN ${p.sql} THEN 1 ELSE 0 END) AS a${i}, sum(CASE WHEN coalesce(${p.sql}, false)${notEarlier} THEN 1 ELSE 0 END) AS d${i}`;
  });
  const rows = await store.all(`SELECT ${FP} AS isfp, ${cols.join(', ')} FROM ${HITS} GROUP BY ${FP}`, params);
  const f = rows.find((r) => r['isfp'] === true);
  const t = rows.find((r) => r['isfp'] === false);
  return conditions.map((condition, i) => ({
    condition,
    fp: n(f?.[`d${i}`]),
    share: counts.fp ? n(f?.[`d${i}`]) / counts.fp : 0,
    fp_all: n(f?.[`a${i}`]),
    tp: n(t?.[`a${i}`]),
  }));
}
