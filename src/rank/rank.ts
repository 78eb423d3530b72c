/**
 * `rulegen rank`: which catalog features separate bots from people on the train window.
 *
 * Work is done in DuckDB in a fixed number of statements whatever the number of features:
 *   1. one statement over the sessions table -> a temp counts table (feature, value, bots,
 *      humans); see queries.ts;
 *   2. six over that small table: a summary, the numeric stats (AUC, KS, quantiles, IV cuts),
 *      the category stats, the IV of every feature, the lifts of booleans and categories, the
 *      human-free regions of every feature (label-leak check, leak.ts);
 *   3. only when some feature has no labelled value: one count over the window, to tell "all
 *      null" from "values only on unlabelled rows".
 * Besides these, resolveWindow reads the time column (min/max and a count).
 * JS sees one row per feature per statement (and at most `maxCategories` lifts per feature).
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { quoteIdent, type Param, type Row, type Store } from '../db/store.js';
import { resolveWindow } from '../db/window.js';
import { PLANS } from '../engine/plan.js';
import type { Engine } from '../engine/types.js';
import { requireColumns, resolveEngineWindow } from '../engine/window.js';
import type { ImportResult } from './import.js';
import {
  categoryStatsSql,
  COUNTS_STAGE,
  countsFromStageSql,
  countsQuery,
  countsStatement,
  stageCountsSql,
  dropSql,
  ivSql,
  leakSql,
  liftsSql,
  numericStatsSql,
  NUMSTATS,
  quantileColumn,
  summarySql,
  windowCountsStatement,
  type ScanFeature,
} from './queries.js';
import { combinedImportance, foldAuc, interpolate, num, PERCENTILES, quantilePosition, IV_BINS, IV_CAP, WOE_SMOOTHING } from './stats.js';
import type { CategoryLift, FeatureRank, QuantileSet, Ranking } from './types.js';
import type { OnProgress } from '../progress.js';
import { describeLeak, leakEvidence, LEAK_AUC, LEAK_BOT_SHARE, LEAK_MIN_HUMANS, type LeakRegions } from './leak.js';

export interface RankOptions {
  /** An importance computed elsewhere, merged in side by side. */
  imported?: ImportResult;
  /** Values of a boolean or category feature listed by lift (default 20). */
  maxCategories?: number;
  onStep?: (message: string) => void;
  /** How far the statistics are (queries done of total), then the features ranked of total. */
  onProgress?: OnProgress;
  /**
   * Scan on this engine (issue 18): the window, the columns and the one counts scan run there;
   * only the counts (one row per feature and distinct value) come back, and the statistics are
   * computed from them in the local store as always. The ranking then carries `execution`.
   */
  engine?: Engine;
}

/** How each statistic is computed; `Ranking.method`, also printed under the table. */
export const METHOD: Record<string, string> = {
  rows: 'the train window, rows labelled 0 (human) or 1 (bot); unlabelled rows are left out',
  auc: 'exact ROC AUC of the value as a bot score, ties counted one half, over non-null values; folded to >= 0.5, direction says which way bots lie',
  ks: 'Kolmogorov-Smirnov: largest gap between the bot and human CDFs over non-null values',
  iv:
    `information value over ${IV_BINS} quantile bins of the pooled non-null values plus a null bin (booleans and categories: one bin per value ` +
    `plus a null bin), bin counts smoothed by ${WOE_SMOOTHING}`,
  quantiles: 'exact per label over non-null values, interpolated like quantile_cont (numpy linear)',
  coverage: 'share of labelled rows with a value; nulls gives the null share within bots and within humans',
  categories:
    'booleans and categories: values by lift = bot share / human share (shares over all rows of the label); AUC and KS order the values by bot ' +
    'rate on the same rows, which is optimistic',
  importance: `mean of the defined ones among 2 * (AUC - 0.5), KS and min(IV, ${IV_CAP}); features without a statistic sort last`,
  leak:
    `possible label leak: AUC >= ${LEAK_AUC}, or a region no labelled human has (a tail beyond every human value, category values no human shows, ` +
    `or the nulls) holding >= ${100 * LEAK_BOT_SHARE}% of bots with >= ${LEAK_MIN_HUMANS} humans present; propose leaves it out unless the catalog ` +
    `marks it leak_ok: true`,
};

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;

/** Why a column cannot be read as its catalog type, or null when it can. */
function typeMismatch(f: Feature, duckType: string): string | null {
  if (f.type === 'number' && !NUMERIC_TYPE.test(duckType) && duckType !== 'BOOLEAN') return `a number feature, but the column is ${duckType}`;
  if (f.type === 'boolean' && duckType !== 'BOOLEAN' && !NUMERIC_TYPE.test(duckType)) return `a boolean feature, but the column is ${duckType}`;
  return null;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

function emptyRank(f: Feature, notes: string[]): FeatureRank {
  return {
    feature: f.name,
    type: f.type,
    auc: null,
    direction: null,
    ks: null,
    iv: null,
    coverage: 0,
    nulls: { bot: 0, human: 0 },
    importance: 0,
    notes,
    ...(f.sensitive ? { sensitive: true } : {}),
  };
}

function formatValue(v: number | string | null): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  return String(v);
}

export async function rankFeatures(store: Store, config: Config, catalog: Catalog, opts: RankOptions = {}): Promise<Ranking> {
  const step = opts.onStep ?? (() => undefined);
  const maxCategories = opts.maxCategories ?? 20;
  step('resolving the train window');
  const engine = opts.engine && opts.engine.kind !== 'duckdb' ? opts.engine : undefined;
  const window = engine ? await resolveEngineWindow(engine, config, 'train') : await resolveWindow(store, config, 'train');
  const table = config.data.table;
  const warnings: string[] = [];

  // Which catalog features can be read, and how.
  const columns = new Map(
    (engine ? await requireColumns(engine, config) : await store.describe(`SELECT * FROM ${quoteIdent(table)}`)).map((c) => [c.name, c.type]),
  );
  const scan: (ScanFeature & { feature: Feature })[] = [];
  const ranks = new Map<string, FeatureRank>();
  catalog.features.forEach((feature, f) => {
    const type = columns.get(feature.name);
    if (type === undefined) {
      ranks.set(feature.name, emptyRank(feature, [`no column "${feature.name}" in the ${table} table`]));
      warnings.push(`${feature.name}: no such column in the ${table} table; not ranked`);
      return;
    }
    const mismatch = typeMismatch(feature, type);
    if (mismatch) {
      ranks.set(feature.name, emptyRank(feature, [`${mismatch}; not ranked`]));
      warnings.push(`${feature.name}: ${mismatch}; not ranked`);
      return;
    }
    scan.push({ f, column: feature.name, kind: feature.type === 'category' ? 'cat' : 'num', boolean: type === 'BOOLEAN', feature });
  });

  let bots = 0;
  let humans = 0;
  try {
    const summary = new Map<number, Row>();
    const numStats = new Map<number, Row>();
    const catStats = new Map<number, Row>();
    const ivs = new Map<number, number | null>();
    const lifts = new Map<number, Row[]>();
    const leaks = new Map<number, LeakRegions>();
    if (scan.length > 0) {
      step(`counting values of ${scan.length} features`);
      if (engine) await loadCounts(engine, store, countsQuery(PLANS[engine.dialect], table, config.data.label, window, scan));
      else {
        const counts = countsStatement(table, config.data.label, window, scan);
        await store.run(counts.sql, counts.parameters);
      }
      step('computing AUC, KS, quantiles and IV');
      const liftFeatures = scan.filter((x) => x.feature.type !== 'number').map((x) => x.f);
      // one tick per statistic computed for every feature at once (the lifts only with categories)
      const queries = liftFeatures.length ? 6 : 5;
      let done = 0;
      const tick = (): void => opts.onProgress?.(done++, queries, 'queries');
      tick();
      for (const r of await store.all(summarySql)) summary.set(num(r['f'])!, r);
      tick();
      await store.run(numericStatsSql());
      for (const r of await store.all(`SELECT * FROM ${NUMSTATS}`)) numStats.set(num(r['f'])!, r);
      tick();
      for (const r of await store.all(categoryStatsSql())) catStats.set(num(r['f'])!, r);
      tick();
      for (const r of await store.all(ivSql())) ivs.set(num(r['f'])!, num(r['iv']));
      tick();
      for (const r of await store.all(leakSql())) {
        leaks.set(num(r['f'])!, {
          lo: { bots: num(r['lo_b']) ?? 0, edge: num(r['lo_edge']) },
          hi: { bots: num(r['hi_b']) ?? 0, edge: num(r['hi_edge']) },
          cats: { bots: num(r['cat_b']) ?? 0, values: ((r['cat_values'] as string[] | null) ?? []).slice(0, 3) },
          nulls: { bots: num(r['null_b']) ?? 0 },
        });
      }
      tick();
      if (liftFeatures.length) {
        for (const r of await store.all(liftsSql(liftFeatures, maxCategories))) {
          const f = num(r['f'])!;
          lifts.set(f, [...(lifts.get(f) ?? []), r]);
        }
        tick();
      }
    }
    // Every scanned feature has a summary row (its null row at least) when there are labelled rows.
    const anySummary = summary.values().next().value as Row | undefined;
    if (anySummary) {
      bots = num(anySummary['bots']) ?? 0;
      humans = num(anySummary['humans']) ?? 0;
    } else {
      const l = quoteIdent(config.data.label);
      const r = await (engine ?? store).one(
        `SELECT sum(CASE WHEN ${l} = 1 THEN 1 ELSE 0 END) AS bots, sum(CASE WHEN ${l} = 0 THEN 1 ELSE 0 END) AS humans ` +
          `FROM ${quoteIdent(table)} WHERE ${window.where}`,
        window.parameters,
      );
      bots = num(r?.['bots']) ?? 0;
      humans = num(r?.['humans']) ?? 0;
    }
    if (bots + humans === 0)
      warnings.push(`no labelled rows in the train window (${window.rows.toLocaleString('en-US')} rows, all unlabelled): nothing to rank`);
    else if (bots === 0) warnings.push('no bots (label 1) in the train window: AUC, KS and IV are undefined; coverage and human quantiles only');
    else if (humans === 0) warnings.push('no humans (label 0) in the train window: AUC, KS and IV are undefined; coverage and bot quantiles only');

    // Features that no labelled row has: are they empty everywhere, or only on labelled rows?
    const unlabelledOnly = new Map<number, number>();
    const empty = scan.filter((x) => (num(summary.get(x.f)?.['distinct_values']) ?? 0) === 0);
    if (empty.length > 0) {
      step('counting values on unlabelled rows');
      const q = windowCountsStatement(table, window, empty);
      const r = await (engine ?? store).one(q.sql, q.parameters);
      for (const x of empty) unlabelledOnly.set(x.f, num(r?.[`n${x.f}`]) ?? 0);
    }

    if (scan.length) step(`ranking ${scan.length} features`);
    for (const [i, x] of scan.entries()) {
      opts.onProgress?.(i, scan.length, 'features');
      const r = featureRank(
        x,
        { bots, humans },
        summary.get(x.f),
        numStats.get(x.f),
        catStats.get(x.f),
        ivs.get(x.f) ?? null,
        lifts.get(x.f) ?? [],
        unlabelledOnly.get(x.f),
        maxCategories,
      );
      const leak = leakEvidence(r.auc, leaks.get(x.f), { bots, humans }, Boolean(x.feature.leak_ok), x.feature.type === 'boolean');
      if (leak) {
        r.leak = leak;
        warnings.push(`${x.feature.name}: possible label leak: ${describeLeak(x.feature.name, leak)}`);
      }
      ranks.set(x.feature.name, r);
    }
    if (scan.length) opts.onProgress?.(scan.length, scan.length, 'features');
  } finally {
    for (const sql of dropSql) await store.run(sql).catch(() => undefined);
  }

  if (opts.imported) {
    for (const e of opts.imported.entries) {
      const r = ranks.get(e.feature);
      if (r) r.imported = e.std === undefined ? { importance: e.importance } : { importance: e.importance, std: e.std };
    }
    for (const p of opts.imported.problems)
      warnings.push(
        `${opts.imported.file}${p.where?.line ? `:${p.where.line}` : ''}${p.where?.field && !p.where.line ? ` (${p.where.field})` : ''}: ${p.message}`,
      );
  }

  // Features with a statistic first, by importance; the rest after, in catalog order.
  const order = new Map(catalog.features.map((f, i) => [f.name, i]));
  const ranked = [...ranks.values()].map((r) => ({ r, has: r.auc !== null || r.ks !== null || r.iv !== null }));
  ranked.sort((a, b) => Number(b.has) - Number(a.has) || b.r.importance - a.r.importance || order.get(a.r.feature)! - order.get(b.r.feature)!);
  return {
    window: { name: 'train', from: window.from, to: window.to, rows: window.rows },
    bots,
    humans,
    base_rate: bots + humans > 0 ? bots / (bots + humans) : null,
    features: ranked.map((x) => x.r),
    warnings,
    ...(catalog.features.some((f) => f.leak) ? { declared_leaks: catalog.features.filter((f) => f.leak).map((f) => f.name) } : {}),
    method: METHOD,
    ...(opts.engine ? { execution: opts.engine.info() } : {}),
  };
}

function featureRank(
  x: ScanFeature & { feature: Feature },
  totals: { bots: number; humans: number },
  summary: Row | undefined,
  numStats: Row | undefined,
  catStats: Row | undefined,
  iv: number | null,
  lifts: Row[],
  unlabelledValues: number | undefined,
  maxCategories: number,
): FeatureRank {
  const f = x.feature;
  const notes: string[] = [];
  const { bots, humans } = totals;
  const nullBots = num(summary?.['null_bots']) ?? bots;
  const nullHumans = num(summary?.['null_humans']) ?? humans;
  const distinct = num(summary?.['distinct_values']) ?? 0;
  const labelled = bots + humans;
  const base: FeatureRank = {
    feature: f.name,
    type: f.type,
    auc: null,
    direction: null,
    ks: null,
    iv: null,
    coverage: ratio(labelled - nullBots - nullHumans, labelled),
    nulls: { bot: ratio(nullBots, bots), human: ratio(nullHumans, humans) },
    importance: 0,
    notes,
    ...(f.sensitive ? { sensitive: true } : {}),
  };
  if (labelled === 0) {
    notes.push('no labelled rows in the train window');
    return base;
  }
  if (distinct === 0) {
    notes.push(
      unlabelledValues
        ? `no labelled row has a value (${unlabelledValues.toLocaleString('en-US')} unlabelled rows do): nothing to rank on`
        : 'all null in the train window: nothing to rank on',
    );
    return base;
  }
  const stats = x.kind === 'num' ? numStats : catStats;
  const nb = num(stats?.['nb']) ?? 0;
  const nh = num(stats?.['nh']) ?? 0;
  if (distinct === 1) {
    const only = x.kind === 'num' ? num(summary?.['vmin']) : ((summary?.['cmin'] as string | null) ?? null);
    notes.push(
      `constant: every labelled value ` +
        `is ${f.type === 'boolean' ? String(only === 1) : formatValue(only)}${base.coverage < 1 ? ' (only nulls can separate)' : ''}`,
    );
  }
  if (bots > 0 && humans > 0) {
    if (nb === 0) notes.push('no bot has a value: AUC and KS undefined');
    else if (nh === 0) notes.push('no human has a value: AUC and KS undefined');
    else {
      const raw = (num(stats?.['auc2']) ?? NaN) / (2 * nb * nh);
      const folded = foldAuc(raw);
      base.auc = folded.auc;
      base.direction = x.kind === 'cat' ? null : folded.direction;
      base.ks = num(stats?.['ks']);
    }
    base.iv = iv;
  }
  // Ordered by bot rate, bots always lie 'higher': the direction says nothing for a category.
  if (x.kind === 'cat') notes.push('AUC and KS order the categories by bot rate on these same rows (optimistic)');
  if (f.type === 'number' && numStats) base.quantiles = { bot: quantileSet(numStats, 'b', nb), human: quantileSet(numStats, 'h', nh) };
  if (f.type !== 'number' && bots > 0 && humans > 0) {
    base.categories = lifts.map((r): CategoryLift => {
      const b = num(r['b']) ?? 0;
      const h = num(r['h']) ?? 0;
      const bot_share = b / bots;
      const human_share = h / humans;
      return { value: String(r['value']), bot_share, human_share, lift: h > 0 ? bot_share / human_share : null };
    });
    if (distinct > maxCategories) notes.push(`${distinct} values; the ${maxCategories} with the highest lift are listed`);
  }
  base.importance = combinedImportance(base.auc, base.ks, base.iv) ?? 0;
  return base;
}

function quantileSet(stats: Row, label: 'b' | 'h', n: number): QuantileSet {
  const out = {} as Record<string, number | null>;
  for (const p of PERCENTILES) {
    if (n === 0) {
      out[`p${p}`] = null;
      continue;
    }
    const { frac } = quantilePosition(n, p);
    out[`p${p}`] = interpolate(num(stats[quantileColumn(label, p, 'lo')]), num(stats[quantileColumn(label, p, 'hi')]), frac);
  }
  return out as unknown as QuantileSet;
}

/** Run the counts scan on the engine and load its rows (aggregates: one per feature and value) into the local COUNTS table. */
async function loadCounts(engine: Engine, store: Store, q: { sql: string; parameters: readonly Param[] }): Promise<void> {
  const cols: Param[][] = [[], [], [], [], []];
  for await (const rows of engine.stream(q.sql, q.parameters)) {
    for (const r of rows) {
      cols[0]!.push(Number(r['f']));
      cols[1]!.push(r['v'] === null || r['v'] === undefined ? null : Number(r['v']));
      cols[2]!.push((r['c'] as string | null) ?? null);
      cols[3]!.push(Number(r['b']));
      cols[4]!.push(Number(r['h']));
    }
  }
  await store.run(stageCountsSql);
  await store.appendColumns(COUNTS_STAGE, cols, cols[0]!.length);
  for (const sql of countsFromStageSql) await store.run(sql);
}
