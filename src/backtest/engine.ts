/**
 * The backtest engine: every rule's confusion matrix on a window in ONE scan
 * (`sum(CASE WHEN <rule_k> THEN 1 ELSE 0 END)` grouped by label — `count(*) FILTER` measured
 * 2x slower), then optional breakdowns, each also a single scan:
 * - per day and per segment together, through GROUPING SETS;
 * - overlap and incremental recall from per-row hit bitmasks grouped by mask, so that JS only
 *   sees one row per distinct combination of rules that fired, never the sessions themselves.
 *   The same mask rows give the deployed set's union (set FPR), each rule's incremental FPR and
 *   recall over the set, and each rule's share of the union's false positives;
 * - populations (conditions in the rule language) are 0/1 key columns of the same grouping scan;
 * - with a train window, one more scan gives the train counts and the train days of the daily
 *   series (stability across the split needs the rules evaluated on train rows: no way round it).
 */
import type { Config } from '../config/schema.js';
import { quoteIdent, type Param, type Store } from '../db/store.js';
import { metrics, ratio, wilson, type Counts, type Metrics } from './stats.js';
import { PLANS, type SqlPlan } from '../engine/plan.js';
import type { Engine, EngineInfo } from '../engine/types.js';
import type { Window } from '../db/window.js';

/**
 * A rule as the engine sees it: a predicate with positional `?` parameters, compiled for the
 * dialect of `EngineOptions.engine` (DuckDB without one; `compileBound` for another engine).
 */
export interface EngineRule {
  id: string;
  predicate: Readonly<{ sql: string; parameters: readonly Param[] }>;
  /** Approved rules form the baseline for incremental recall. */
  approved?: boolean;
  /** In the deployed set: approved with action block or challenge (log rules are shadow rules). */
  deployed?: boolean;
  /** Judged together with the deployed set (e.g. the candidates being approved). */
  extra?: boolean;
}

/** A population: a named condition compiled to a DuckDB predicate. */
export interface PopulationPredicate {
  name: string;
  predicate: Readonly<{ sql: string; parameters: readonly Param[] }>;
}

/** One day of one rule. A day that straddles the split appears twice, once per window. */
export interface DailyPoint {
  day: string;
  window: 'train' | 'test' | 'all';
  rows: number;
  humans: number;
  bots: number;
  hits: number;
  tp: number;
  fp: number;
  recall: number | null;
  fpr: number | null;
}

export interface SegmentResult {
  rows: number;
  humans: number;
  hits: number;
  fp: number;
  fpr: number | null;
  fpr_upper95: number | null;
  fpr_lower95: number | null;
}

/** Counts and metrics of a union of rules (a session counts once, whichever rules hit it). */
export interface SetMetrics extends Metrics {
  ids: string[];
  counts: Counts;
}

/** One rule against the deployed set. "Incremental" = hit by this rule and by no other deployed rule. */
export interface RuleSetResult {
  incremental_tp: number;
  incremental_fp: number;
  incremental_recall: number | null;
  incremental_fpr: number | null;
  /** The rule's share of the judged union's false positives: each FP session split evenly among the judged rules that hit it. */
  fp_share: number;
  /** The deployed set plus this rule (for a deployed rule: the deployed set itself). */
  with: { counts: Counts; fpr: number | null; fpr_upper95: number | null; recall: number | null };
}

export interface RuleResult extends Metrics {
  id: string;
  counts: Counts;
  daily?: { worst_fpr: number | null; worst_day: string | null; days: number; series: DailyPoint[] };
  /** Keyed by `<segment column>=<value>`. */
  segments?: Record<string, SegmentResult>;
  /** Share of the window's bots caught by this rule and by no approved rule (other than itself). */
  incremental_recall?: number | null;
  /** Jaccard similarity of hit sets with every other rule that shares a hit. */
  overlap?: { id: string; jaccard: number }[];
  /** Keyed by population name (only the sessions in the population). */
  populations?: Record<string, SegmentResult>;
  /** Counts on the train window (with `train` in the options). */
  train?: { counts: Counts; recall: number | null; fpr: number | null };
  set?: RuleSetResult;
}

export interface BacktestResult {
  window: Window;
  rows: number;
  bots: number;
  humans: number;
  unlabeled: number;
  rules: RuleResult[];
  warnings: string[];
  timings: Record<string, number>;
  /** Sessions, humans and bots of each population in the window. */
  populations?: Record<string, { rows: number; humans: number; bots: number }>;
  /** The deployed set (`deployed` rules) and the judged set (deployed + `extra` rules). */
  set?: { deployed: SetMetrics; judged: SetMetrics };
  /** Where it ran, when run on an explicit engine (issue 18): kind, target, statements' hash, bytes scanned, cost. */
  execution?: EngineInfo;
}

export interface EngineOptions {
  daily?: boolean;
  /** Segment columns present in the table. */
  segments?: readonly string[];
  overlap?: boolean;
  populations?: readonly PopulationPredicate[];
  /** Also evaluate the rules on this (train) window: train counts and train days in the daily series. */
  train?: Window;
  /** Set metrics from the overlap scan (implies `overlap`). */
  set?: boolean;
  /**
   * Run on this engine instead of `store` (issue 18): the statements are written in its
   * dialect (engine/plan.ts), the rules and populations must be compiled for it, and the
   * result carries `engine` (where, the statements' hash, bytes scanned and cost).
   */
  engine?: Engine;
}

/** What runBacktest needs of a store or an engine. */
type Db = Pick<Engine, 'all' | 'run'>;

type GroupRow = Record<string, string | number | null>;

/** Daily points of one rule from rows grouped by (day, label); `window` marks which side of the split. */
function dailyPoints(groups: Map<string, GroupRow[]>, i: number, window: DailyPoint['window']): DailyPoint[] {
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, rs]) => {
      const rows = rs.reduce((a, r) => a + Number(r['n']), 0);
      const hum = rs.find((r) => r['lbl'] === 0);
      const bot = rs.find((r) => r['lbl'] === 1);
      const humans = Number(hum?.['n'] ?? 0);
      const bots = Number(bot?.['n'] ?? 0);
      const fp = Number(hum?.[`h${i}`] ?? 0);
      const tp = Number(bot?.[`h${i}`] ?? 0);
      const hits = rs.reduce((a, r) => a + Number(r[`h${i}`] ?? 0), 0);
      return { day, window, rows, humans, bots, hits, tp, fp, recall: bots ? tp / bots : null, fpr: humans ? fp / humans : null };
    });
}

function groupBy(rows: readonly GroupRow[], key: string): Map<string, GroupRow[]> {
  const groups = new Map<string, GroupRow[]>();
  for (const r of rows) {
    const k = r[key] === null ? '(none)' : String(r[key]);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

function segmentResult(rs: readonly GroupRow[], i: number): SegmentResult {
  const rows = rs.reduce((a, r) => a + Number(r['n']), 0);
  const hum = rs.find((r) => r['lbl'] === 0);
  const humans = Number(hum?.['n'] ?? 0);
  const fp = Number(hum?.[`h${i}`] ?? 0);
  const hits = rs.reduce((a, r) => a + Number(r[`h${i}`] ?? 0), 0);
  const w = humans ? wilson(fp, humans) : null;
  return { rows, humans, hits, fp, fpr: humans ? fp / humans : null, fpr_upper95: w ? w.upper : null, fpr_lower95: w ? w.lower : null };
}

/**
 * One scan grouped by label alone and by each key with label: GROUPING SETS where the dialect
 * has them, else every row once per set (CROSS JOIN UNNEST) grouped by the set's number. Rows
 * come back in the GROUPING SETS shape either way: k<i> (the key as text), g<i> (1 = not grouped
 * by key i), lbl, n, then the measures. Parameters: measures, `from`, `where`, in that order.
 */
async function groupedScan(
  db: Db,
  p: SqlPlan,
  keys: readonly string[],
  label: string,
  measures: string,
  from: string,
  where: string | undefined,
  params: readonly Param[],
): Promise<GroupRow[]> {
  const w = where ? ` WHERE ${where}` : '';
  if (p.can.groupingSets === 'native') {
    const sets = [`(${label})`, ...keys.map((k) => `(${k}, ${label})`)].join(', ');
    const keyCols = keys.map((k, i) => `${p.cast(k, 'text')} AS k${i}`).join(', ');
    const groupingIds = keys.map((k, i) => `grouping(${k}) AS g${i}`).join(', ');
    return db.all<GroupRow>(
      `SELECT ${keyCols}, ${groupingIds}, ${label} AS lbl, count(*) AS n${measures}\n       FROM ${from}${w} GROUP BY GROUPING SETS (${sets})`,
      params,
    );
  }
  const key = `CASE rulegen_g.k ${keys.map((k, i) => `WHEN ${i + 1} THEN ${p.cast(k, 'text')}`).join(' ')} END`;
  const rows = await db.all<GroupRow>(
    `SELECT rulegen_g.k AS gk, ${key} AS gv, ${label} AS lbl, count(*) AS n${measures}
       FROM ${from} CROSS JOIN UNNEST(ARRAY[${keys
         .map((_, i) => i)
         .concat(keys.length)
         .join(', ')}]) AS rulegen_g (k)${w} GROUP BY rulegen_g.k, ${key}, ${label}`,
    params,
  );
  return rows.map(({ gk, gv, ...rest }) => {
    const out: GroupRow = { ...rest };
    keys.forEach((_, i) => {
      out[`k${i}`] = Number(gk) === i + 1 ? gv! : null;
      out[`g${i}`] = Number(gk) === i + 1 ? 0 : 1;
    });
    return out;
  });
}

export async function runBacktest(
  store: Store,
  config: Config,
  window: Window,
  rules: readonly EngineRule[],
  opts: EngineOptions = {},
): Promise<BacktestResult> {
  const p = PLANS[opts.engine?.dialect ?? 'duckdb'];
  const db: Db = opts.engine ?? { all: (sql, params) => store.all(sql, params), run: (sql, params) => store.run(sql, params) };
  const hitExpr = (r: EngineRule) => `(CASE WHEN ${r.predicate.sql} THEN 1 ELSE 0 END)`;
  const table = p.ident(config.data.table);
  const label = p.ident(config.data.label);
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const ruleParams = rules.flatMap((r) => r.predicate.parameters);

  // 1. core counts: one scan grouped by label. With breakdowns, the same scan also groups by
  // day, by segment and by population (GROUPING SETS), so the full backtest reads the data once.
  const segs = opts.segments ?? [];
  const pops = opts.populations ?? [];
  const breakdowns = Boolean((opts.daily || segs.length || pops.length) && rules.length);
  const day = p.day(p.ident(config.data.time));
  type Key = { expr: string; kind: 'day' | 'segment' | 'population'; name: string; pop?: number };
  const keys: Key[] = breakdowns
    ? [
        ...(opts.daily ? [{ expr: day, kind: 'day' as const, name: 'day' }] : []),
        ...segs.map((s) => ({ expr: p.ident(s), kind: 'segment' as const, name: s })),
        ...pops.map((x, i) => ({ expr: p.ident(`rulegen_pop_${i}`), kind: 'population' as const, name: x.name, pop: i })),
      ]
    : [];
  let t0 = performance.now();
  let grouped: GroupRow[] = [];
  let core: Record<string, number | null>[];
  const wantMasks = Boolean((opts.overlap || opts.set) && rules.length);
  // With breakdowns AND overlap, each rule is evaluated once per row: the rows' hit bitmasks (and
  // group keys) go to a temporary table, and both the per-rule sums and the mask groups are read
  // from it. Evaluating the predicates twice (once for the sums, once for the masks) cost about
  // a third more at 2M rows (bench/backtest.mjs --issue12).
  let maskTable: string | undefined;
  if (breakdowns && wantMasks && p.can.tempTables) {
    maskTable = `rulegen_hits_${++maskSeq}`;
    const blocks = maskBlocks(rules);
    const maskExpr = (b: readonly EngineRule[]) => `(${b.map((r, j) => p.maskBit(hitExpr(r), j)).join(p.maskJoin)})`;
    // parameters in textual order: population predicates (the last keys), rules, window
    const keyCols = keys.map((k, i) => `${k.pop !== undefined ? `(CASE WHEN ${pops[k.pop]!.predicate.sql} THEN 1 ELSE 0 END)` : k.expr} AS kc${i}`).join(', ');
    await db.run(
      `CREATE OR REPLACE TEMP TABLE ${maskTable} AS SELECT ${keyCols}, ${label} AS lbl, ${blocks.map((b, bi) => `${maskExpr(b)} AS m${bi}`).join(', ')} FROM ${table} WHERE ${window.where}`,
      [...pops.flatMap((p) => p.predicate.parameters), ...ruleParams, ...window.parameters],
    );
    const sets = ['(lbl)', ...keys.map((_, i) => `(kc${i}, lbl)`)].join(', ');
    const bit = (i: number) => `sum((m${Math.floor(i / BLOCK)} >> ${i % BLOCK}) & 1) AS h${i}`;
    grouped = await db.all<GroupRow>(
      `SELECT ${keys.map((_, i) => `CAST(kc${i} AS VARCHAR) AS k${i}, grouping(kc${i}) AS g${i}`).join(', ')}, lbl, count(*) AS n, ${rules.map((_, i) => bit(i)).join(', ')}
       FROM ${maskTable} GROUP BY GROUPING SETS (${sets})`,
    );
  } else if (breakdowns) {
    // Populations are 0/1 columns of a subquery, so that each predicate (and its parameters)
    // appears once; without populations the statement is the plain scan it always was.
    const [from, where] = pops.length
      ? [
          `(SELECT *, ${pops.map((x, i) => `(CASE WHEN ${x.predicate.sql} THEN 1 ELSE 0 END) AS ${p.ident(`rulegen_pop_${i}`)}`).join(', ')} FROM ${table} WHERE ${window.where}) AS rulegen_w`,
          undefined,
        ]
      : [table, window.where];
    grouped = await groupedScan(
      db,
      p,
      keys.map((k) => k.expr),
      label,
      rules.map((r, i) => `, sum${hitExpr(r)} AS h${i}`).join(''),
      from,
      where,
      [...ruleParams, ...pops.flatMap((x) => x.predicate.parameters), ...window.parameters],
    );
  }
  if (breakdowns) {
    core = grouped.filter((r) => keys.every((_, ki) => Number(r[`g${ki}`]) === 1)) as Record<string, number | null>[];
    timings['core+breakdowns'] = performance.now() - t0;
  } else {
    core = await db.all<Record<string, number | null>>(
      `SELECT ${label} AS lbl, count(*) AS n${rules.map((r, i) => `, sum${hitExpr(r)} AS h${i}`).join('')} FROM ${table} WHERE ${window.where} GROUP BY ${label}`,
      [...ruleParams, ...window.parameters],
    );
    timings['core'] = performance.now() - t0;
  }
  const byLabel = (l: number | null) => core.find((row) => row['lbl'] === l);
  const bot = byLabel(1);
  const human = byLabel(0);
  const unl = byLabel(null);
  const bots = Number(bot?.['n'] ?? 0);
  const humans = Number(human?.['n'] ?? 0);
  const unlabeled = Number(unl?.['n'] ?? 0);
  const rows = bots + humans + unlabeled;
  if (bots + humans === 0) warnings.push(`the ${window.name} window has no labelled sessions: precision, recall and FPR are n/a`);
  else if (humans === 0) warnings.push(`the ${window.name} window has no sessions labelled human: FPR is n/a`);
  else if (bots === 0) warnings.push(`the ${window.name} window has no sessions labelled bot: recall is n/a`);

  const results: RuleResult[] = rules.map((r, i) => {
    const h = (row: Record<string, number | null> | undefined) => Number(row?.[`h${i}`] ?? 0);
    const counts: Counts = { tp: h(bot), fp: h(human), tn: humans - h(human), fn: bots - h(bot), unlabeled_hits: h(unl) };
    return { id: r.id, counts, ...metrics(counts, rows) };
  });
  let populationTotals: BacktestResult['populations'];

  // 2. per-day, per-segment and per-population breakdowns, from the same grouped rows
  if (breakdowns) {
    keys.forEach((key, ki) => {
      const groups = groupBy(
        grouped.filter((r) => Number(r[`g${ki}`]) === 0),
        `k${ki}`,
      );
      if (key.kind === 'population') {
        const inside = groups.get('1') ?? [];
        const n = (l: number) => Number(inside.find((r) => r['lbl'] === l)?.['n'] ?? 0);
        populationTotals ??= {};
        populationTotals[key.name] = { rows: inside.reduce((a, r) => a + Number(r['n']), 0), humans: n(0), bots: n(1) };
        if (populationTotals[key.name]!.rows === 0) warnings.push(`population "${key.name}" matches no session in the ${window.name} window`);
      }
      results.forEach((res, i) => {
        if (key.kind === 'day') {
          const series = dailyPoints(groups, i, window.name);
          let worst: DailyPoint | undefined;
          for (const p of series) if (p.fpr !== null && (!worst || p.fpr > worst.fpr!)) worst = p;
          res.daily = { worst_fpr: worst?.fpr ?? null, worst_day: worst?.day ?? null, days: series.length, series };
        } else if (key.kind === 'segment') {
          res.segments ??= {};
          for (const [k, rs] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) res.segments[`${key.name}=${k}`] = segmentResult(rs, i);
        } else {
          res.populations ??= {};
          res.populations[key.name] = segmentResult(groups.get('1') ?? [], i);
        }
      });
    });
  }

  // 3. the train window: counts and days, for stability across the split
  if (opts.train && rules.length) {
    t0 = performance.now();
    const trainRows = await groupedScan(db, p, [day], label, rules.map((r, i) => `, sum${hitExpr(r)} AS h${i}`).join(''), table, opts.train.where, [
      ...ruleParams,
      ...opts.train.parameters,
    ]);
    timings['train'] = performance.now() - t0;
    const totals = trainRows.filter((r) => Number(r['g0']) === 1);
    const days = groupBy(
      trainRows.filter((r) => Number(r['g0']) === 0),
      'k0',
    );
    const tb = totals.find((r) => r['lbl'] === 1);
    const th = totals.find((r) => r['lbl'] === 0);
    const tu = totals.find((r) => r['lbl'] === null);
    const [tBots, tHumans] = [Number(tb?.['n'] ?? 0), Number(th?.['n'] ?? 0)];
    results.forEach((res, i) => {
      const tp = Number(tb?.[`h${i}`] ?? 0);
      const fp = Number(th?.[`h${i}`] ?? 0);
      res.train = {
        counts: { tp, fp, tn: tHumans - fp, fn: tBots - tp, unlabeled_hits: Number(tu?.[`h${i}`] ?? 0) },
        recall: tBots ? tp / tBots : null,
        fpr: tHumans ? fp / tHumans : null,
      };
      if (res.daily) {
        const trainSeries = dailyPoints(days, i, opts.train!.name);
        res.daily.series = [...trainSeries, ...res.daily.series];
      }
    });
  }

  // 4. overlap, incremental recall and the deployed set: hit bitmasks, grouped by mask
  let set: BacktestResult['set'];
  if ((opts.overlap || opts.set) && rules.length) {
    t0 = performance.now();
    try {
      set = await overlap(db, p, table, label, window, rules, results, { bots, humans, rows }, maskTable);
    } finally {
      if (maskTable) await db.run(`DROP TABLE IF EXISTS ${maskTable}`);
    }
    timings['overlap'] = performance.now() - t0;
    if (!opts.set) {
      set = undefined;
      for (const r of results) delete r.set;
    }
  }
  return {
    window,
    rows,
    bots,
    humans,
    unlabeled,
    rules: results,
    warnings,
    timings,
    ...(populationTotals ? { populations: populationTotals } : {}),
    ...(set ? { set } : {}),
    ...(opts.engine ? { execution: opts.engine.info() } : {}),
  };
}

/** 50 rules per mask column keeps every mask an exact JS number (< 2^53). */
const BLOCK = 50;

type Tally = [tp: number, fp: number, unl: number];
const slot = (lbl: unknown): 0 | 1 | 2 => (lbl === 1 ? 0 : lbl === 0 ? 1 : 2);

function setMetrics(ids: string[], t: Tally, w: { bots: number; humans: number; rows: number }): SetMetrics {
  const counts: Counts = { tp: t[0], fp: t[1], tn: w.humans - t[1], fn: w.bots - t[0], unlabeled_hits: t[2] };
  return { ids, counts, ...metrics(counts, w.rows) };
}

let maskSeq = 0;

function maskBlocks(rules: readonly EngineRule[]): EngineRule[][] {
  const blocks: EngineRule[][] = [];
  for (let i = 0; i < rules.length; i += BLOCK) blocks.push(rules.slice(i, i + BLOCK));
  return blocks;
}

/** `maskTable`: the rows' masks already materialised by the breakdown scan (else one more scan). */
async function overlap(
  db: Db,
  p: SqlPlan,
  table: string,
  label: string,
  window: Window,
  rules: readonly EngineRule[],
  results: RuleResult[],
  totals: { bots: number; humans: number; rows: number },
  maskTable?: string,
): Promise<BacktestResult['set']> {
  const { bots } = totals;
  const blocks = maskBlocks(rules);
  const hitExpr = (r: EngineRule) => `(CASE WHEN ${r.predicate.sql} THEN 1 ELSE 0 END)`;
  const maskExpr = (b: readonly EngineRule[]) => `(${b.map((r, j) => p.maskBit(hitExpr(r), j)).join(p.maskJoin)})`;
  const any = blocks.map((_, bi) => `m${bi} <> 0`).join(' OR ');
  const cols = blocks.map((_, bi) => `m${bi}`).join(', ');
  const groupBy = p.dialect === 'duckdb' ? 'ALL' : `lbl, ${cols}`;
  const rows = maskTable
    ? await db.all<Record<string, number | null>>(`SELECT lbl, ${cols}, count(*) AS n FROM ${maskTable} WHERE ${any} GROUP BY ALL`)
    : await db.all<Record<string, number | null>>(
        `SELECT lbl, ${cols}, count(*) AS n FROM (SELECT ${label} AS lbl, ${blocks.map((b, bi) => `${maskExpr(b)} AS m${bi}`).join(', ')} FROM ${table} WHERE ${window.where}) AS rulegen_m WHERE ${any} GROUP BY ${groupBy}`,
        [...blocks.flatMap((b) => b.flatMap((r) => r.predicate.parameters)), ...window.parameters],
      );
  const K = rules.length;
  const hits = new Float64Array(K);
  // K x K upper triangle in a typed array: a Map keyed by pairs cost 1.7 s at 10M rows
  const inter = new Float64Array(K * K);
  const approved = rules.map((r) => Boolean(r.approved));
  const deployed = rules.map((r) => Boolean(r.deployed));
  const judged = rules.map((r) => Boolean(r.deployed || r.extra));
  const incremental = new Float64Array(K);
  // hits by rule i and by no deployed rule other than i, per label slot
  const outside = new Float64Array(K * 3);
  const fpShare = new Float64Array(K);
  const base: Tally = [0, 0, 0];
  const all: Tally = [0, 0, 0];
  for (const row of rows) {
    const n = Number(row['n']);
    const set: number[] = [];
    blocks.forEach((b, bi) => {
      let m = Number(row[`m${bi}`] ?? 0);
      for (let j = 0; j < b.length && m > 0; j++) {
        if (m % 2 === 1) set.push(bi * BLOCK + j);
        m = Math.floor(m / 2);
      }
    });
    for (let a = 0; a < set.length; a++) {
      hits[set[a]!]! += n;
      for (let b = a + 1; b < set.length; b++) {
        inter[set[a]! * K + set[b]!]! += n;
      }
    }
    if (row['lbl'] === 1) {
      const approvedHits = set.filter((i) => approved[i]);
      for (const i of set) {
        // caught by i and by no approved rule other than i itself
        if (approvedHits.every((a) => a === i)) incremental[i]! += n;
      }
    }
    const s = slot(row['lbl']);
    const d = set.filter((i) => deployed[i]);
    const j = set.filter((i) => judged[i]);
    if (d.length) base[s] += n;
    if (j.length) {
      all[s] += n;
      if (s === 1) for (const i of j) fpShare[i]! += n / j.length;
    }
    for (const i of set) if (d.every((x) => x === i)) outside[i * 3 + s]! += n;
  }
  results.forEach((res, i) => {
    res.incremental_recall = bots > 0 ? incremental[i]! / bots : null;
    res.overlap = [];
    const inc: Tally = [outside[i * 3]!, outside[i * 3 + 1]!, outside[i * 3 + 2]!];
    // a deployed rule is already in the set; any other rule adds exactly its hits outside it
    const withT: Tally = deployed[i] ? [...base] : [base[0] + inc[0], base[1] + inc[1], base[2] + inc[2]];
    const w = setMetrics([], withT, totals);
    res.set = {
      incremental_tp: inc[0],
      incremental_fp: inc[1],
      incremental_recall: ratio(inc[0], totals.bots),
      incremental_fpr: ratio(inc[1], totals.humans),
      fp_share: fpShare[i]!,
      with: { counts: w.counts, fpr: w.fpr, fpr_upper95: w.fpr_upper95, recall: w.recall },
    };
  });
  for (let a = 0; a < K; a++) {
    for (let b = a + 1; b < K; b++) {
      const n = inter[a * K + b]!;
      if (n === 0) continue;
      const j = n / (hits[a]! + hits[b]! - n);
      results[a]!.overlap!.push({ id: rules[b]!.id, jaccard: j });
      results[b]!.overlap!.push({ id: rules[a]!.id, jaccard: j });
    }
  }
  for (const r of results) r.overlap!.sort((x, y) => y.jaccard - x.jaccard);
  return {
    deployed: setMetrics(
      rules.filter((r) => r.deployed).map((r) => r.id),
      base,
      totals,
    ),
    judged: setMetrics(
      rules.filter((r) => r.deployed || r.extra).map((r) => r.id),
      all,
      totals,
    ),
  };
}
