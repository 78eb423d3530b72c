/**
 * The previous offline inducer (kept for bench/quality.mjs, side by side with the covering one).
 * The offline inducer: rules from the ranking with no model at all. It is the default without
 * credentials, the baseline a model must beat, and a source of candidates in its own right.
 *
 * 1. Atoms: for each ranked, non-sensitive feature, thresholds at quantiles of its labelled
 *    train distribution in the direction the ranking says (numbers), the value bots show more
 *    often (booleans), the categories with the highest lift (categories).
 * 2. Search on a deterministic sample of the train window (at most SEARCH_ROWS rows, chosen by
 *    a hash of the id, so the same data gives the same rules): single atoms, then greedy
 *    conjunctions of up to MAX_TERMS terms, each scored by recall subject to the gate on the
 *    upper bound of its FPR. Every generation is one scan (the backtest engine).
 * 3. A diverse final set: best recall first, fewer terms preferred, skipping any rule whose
 *    hit set overlaps an already chosen one by Jaccard >= MAX_JACCARD; then confirmed on the
 *    full train window.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Store } from '../db/store.js';
import { and, comparison, featureRef, inList, num, type Expr } from '../rule/ast.js';
import { print } from '../rule/printer.js';
import { runBacktest, type EngineRule, type RuleResult } from '../backtest/engine.js';
import { applyGate } from '../backtest/gate.js';
import { resolveWindow, type Window } from '../db/window.js';
import type { Ranking } from '../rank/types.js';

export const SEARCH_ROWS = 1_000_000;
export const MAX_TERMS = 3;
export const MAX_JACCARD = 0.5;
/** Features considered, from the top of the ranking. */
export const TOP_FEATURES = 12;
/** Partial rules extended at each generation. */
export const BEAM = 12;
const HIGH_Q = [0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999];
const LOW_Q = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5];

export interface Atom {
  feature: string;
  ast: Expr;
}

export interface InducedRule {
  ast: Expr;
  condition: string;
  terms: number;
  /** Metrics on the full train window. */
  train: RuleResult;
}

export interface InduceResult {
  rules: InducedRule[];
  searched: number;
  sampleRows: number;
  window: Window;
  seconds: number;
}

/** Threshold atoms for every usable feature; one scan for all the quantiles. */
/** The ranked features the inducer builds rules from: separating, not sensitive, best first. */
export function usableFeatures(catalog: Catalog, ranking: Ranking): Ranking['features'] {
  return ranking.features.filter((f) => !catalog.get(f.feature)?.sensitive && f.auc !== null && f.direction !== null && f.auc > 0.55).slice(0, TOP_FEATURES);
}

/**
 * Threshold atoms for every usable feature, from exact quantiles over `table` (the search
 * sample) in one scan. Exact, not approx_quantile: the t-digest merge order depends on threads,
 * and the same data must give the same rules.
 */
export async function atomsFor(store: Store, catalog: Catalog, ranking: Ranking, table: string, label: string): Promise<Atom[]> {
  const usable = usableFeatures(catalog, ranking);
  const numbers = usable.filter((f) => f.type === 'number');
  const atoms: Atom[] = [];
  if (numbers.length) {
    const cols = numbers.map((f, i) => `quantile_cont(${quoteIdent(f.feature)}, [${(f.direction === 'higher' ? HIGH_Q : LOW_Q).join(', ')}]) AS q${i}`);
    const row = (await store.one<Record<string, number[] | null>>(`SELECT ${cols.join(', ')} FROM ${table} WHERE ${quoteIdent(label)} IS NOT NULL`))!;
    numbers.forEach((f, i) => {
      const qs = [...new Set((row[`q${i}`] ?? []).filter((x) => x !== null && Number.isFinite(x)).map((x) => Number(Number(x).toPrecision(4))))];
      for (const q of qs) atoms.push({ feature: f.feature, ast: comparison(f.feature, f.direction === 'higher' ? '>' : '<', num(q)) });
    });
  }
  for (const f of usable) {
    if (f.type === 'boolean') {
      // NULL-safe: "webdriver_flag = false" does not match sessions where the flag is unknown
      atoms.push({ feature: f.feature, ast: f.direction === 'higher' ? featureRef(f.feature) : comparison(f.feature, '=', false) });
    } else if (f.type === 'category' && f.categories?.length) {
      const lifted = f.categories.filter((c) => c.lift === null || c.lift > 2).sort((a, b) => (b.lift ?? Infinity) - (a.lift ?? Infinity));
      for (let k = 1; k <= Math.min(3, lifted.length); k++)
        atoms.push({
          feature: f.feature,
          ast: inList(
            f.feature,
            lifted.slice(0, k).map((c) => c.value),
          ),
        });
    }
  }
  return atoms;
}

interface Scored {
  ast: Expr;
  features: string[];
  result: RuleResult;
  pass: boolean;
}

async function score(store: Store, config: Config, catalog: Catalog, window: Window, asts: readonly { ast: Expr; features: string[] }[]): Promise<Scored[]> {
  if (asts.length === 0) return [];
  const rules: EngineRule[] = asts.map((a, i) => ({ id: String(i), predicate: compilePredicate(a.ast, catalog) }));
  const r = await runBacktest(store, config, window, rules);
  return asts.map((a, i) => ({ ...a, result: r.rules[i]!, pass: applyGate(r.rules[i]!, config.gate).pass }));
}

const conj = (a: Expr, b: Expr): Expr => and(...(a.kind === 'and' ? a.operands : [a]), b);

/**
 * Propose up to `count` diverse rules. `exclude` holds conditions (printed) that already exist
 * as rules, so the inducer does not propose them again.
 */
export async function induceGreedy(
  store: Store,
  config: Config,
  catalog: Catalog,
  ranking: Ranking,
  opts: { count: number; exclude?: ReadonlySet<string>; onStep?: (m: string) => void },
): Promise<InduceResult> {
  const t0 = performance.now();
  const train = await resolveWindow(store, config, 'train');

  // the search sample: a temp table of labelled train rows, chosen by a hash of the id
  const table = quoteIdent(config.data.table);
  const id = quoteIdent(config.data.id);
  const l = quoteIdent(config.data.label);
  const cols = [...new Set([config.data.id, config.data.time, config.data.label, ...usableFeatures(catalog, ranking).map((f) => f.feature)])]
    .map(quoteIdent)
    .join(', ');
  const labelled = train.rows;
  const keep = Math.min(1, SEARCH_ROWS / Math.max(1, labelled));
  await store.run(
    `CREATE OR REPLACE TEMP TABLE rulegen_search AS SELECT ${cols} FROM ${table} WHERE ${train.where} AND ${l} IS NOT NULL AND (hash(${id}) % 1000000) < ?`,
    [...train.parameters, Math.ceil(keep * 1_000_000)],
  );
  const sampleCfg: Config = { ...config, data: { ...config.data, table: 'rulegen_search' } };
  const sample: Window = { ...train, where: 'TRUE', parameters: [] };
  const sampleRows = (await store.one<{ n: number }>('SELECT count(*) AS n FROM rulegen_search'))?.n ?? 0;
  const atoms = await atomsFor(store, catalog, ranking, 'rulegen_search', config.data.label);

  let searched = 0;
  const passing: Scored[] = [];
  opts.onStep?.(`scoring ${atoms.length} single-term rules`);
  let generation = await score(
    store,
    sampleCfg,
    catalog,
    sample,
    atoms.map((a) => ({ ast: a.ast, features: [a.feature] })),
  );
  searched += generation.length;
  for (let terms = 1; ; terms++) {
    passing.push(...generation.filter((s) => s.pass));
    if (terms >= MAX_TERMS) break;
    // extend the best rules that still fail the gate but catch many bots
    const beam = generation
      .filter((s) => !s.pass && s.result.counts.tp >= config.gate.min_support)
      .sort((a, b) => b.result.counts.tp - a.result.counts.tp)
      .slice(0, BEAM);
    const next: { ast: Expr; features: string[] }[] = [];
    const seen = new Set<string>();
    for (const b of beam) {
      for (const a of atoms) {
        if (b.features.includes(a.feature)) continue;
        const ast = conj(b.ast, a.ast);
        const key = [...b.features, a.feature].sort().join('|') + print(ast);
        if (seen.has(key)) continue;
        seen.add(key);
        next.push({ ast, features: [...b.features, a.feature] });
      }
    }
    if (next.length === 0) break;
    opts.onStep?.(`scoring ${next.length} rules of ${terms + 1} terms`);
    generation = await score(store, sampleCfg, catalog, sample, next);
    searched += generation.length;
  }

  // diverse final set: best recall first, fewer terms on ties; confirmed on the full window
  const pool = passing
    .filter((s) => !opts.exclude?.has(print(s.ast)))
    .sort((a, b) => b.result.counts.tp - a.result.counts.tp || a.features.length - b.features.length)
    .slice(0, Math.max(opts.count * 4, 20));
  opts.onStep?.(`confirming ${pool.length} rules on the train window`);
  const confirm = await runBacktest(
    store,
    config,
    train,
    pool.map((p, i) => ({ id: String(i), predicate: compilePredicate(p.ast, catalog) })),
    { overlap: true },
  );
  const chosen: number[] = [];
  const order = pool
    .map((_, i) => i)
    .sort((a, b) => (confirm.rules[b]!.recall ?? 0) - (confirm.rules[a]!.recall ?? 0) || pool[a]!.features.length - pool[b]!.features.length);
  for (const i of order) {
    if (chosen.length >= opts.count) break;
    const r = confirm.rules[i]!;
    if (!applyGate(r, config.gate).pass) continue;
    const overlaps = (r.overlap ?? []).filter((o) => chosen.includes(Number(o.id)) && o.jaccard >= MAX_JACCARD);
    if (overlaps.length) continue;
    chosen.push(i);
  }
  await store.run('DROP TABLE IF EXISTS rulegen_search');
  return {
    rules: chosen.map((i) => ({ ast: pool[i]!.ast, condition: print(pool[i]!.ast), terms: pool[i]!.features.length, train: confirm.rules[i]! })),
    searched,
    sampleRows,
    window: train,
    seconds: (performance.now() - t0) / 1000,
  };
}
