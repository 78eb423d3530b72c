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
 * - with a train window, one more scan grouped by day and label gives the train days of the daily
 *   series and, summed, the train counts (stability across the split needs the rules evaluated
 *   on train rows: no way round it).
 */
import type { Config } from '../config/schema.js';
import type { Param, Row, Store } from '../db/store.js';
import { metrics, type Counts } from './stats.js';
import { PLANS } from '../engine/plan.js';
import type { Window } from '../db/window.js';
import type { BacktestResult, DailyPoint, Db, EngineOptions, EngineRule, GroupRow, RuleResult } from './engine-types.js';
import { dailyPoints, groupBy, groupedScan, segmentResult } from './engine-grouped.js';
import { BLOCK, hitExpr, maskBlocks, maskExpr, nextMaskTable, overlap } from './engine-overlap.js';

export type {
  BacktestResult,
  DailyPoint,
  EngineOptions,
  EngineRule,
  PopulationPredicate,
  RuleResult,
  RuleSetResult,
  SegmentResult,
  SetMetrics,
} from './engine-types.js';

export async function runBacktest(
  store: Store,
  config: Config,
  window: Window,
  rules: readonly EngineRule[],
  opts: EngineOptions = {},
): Promise<BacktestResult> {
  const p = PLANS[opts.engine?.dialect ?? 'duckdb'];
  const base: Db = opts.engine ?? { all: (sql, params) => store.all(sql, params), run: (sql, params) => store.run(sql, params) };
  // Each statement is one step of the run: a long backtest ticks per statement on a terminal.
  let statements = 0;
  const tick = <T>(r: T): T => {
    opts.onProgress?.(++statements, null, 'statements');
    return r;
  };
  const db: Db = {
    all: <T extends Row = Row>(sql: string, params?: readonly Param[]) => base.all<T>(sql, params).then(tick),
    run: (sql, params) => base.run(sql, params).then(tick),
  };
  const table = p.ident(config.data.table);
  const label = p.ident(config.data.label);
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const ruleParams = rules.flatMap((r) => r.predicate.parameters);
  const sums = rules.map((r, i) => `, sum${hitExpr(r)} AS h${i}`).join('');

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
  // The hit bits of each block are summed as `CASE WHEN <rule j> THEN 2^j` (maskExpr).
  let maskTable: string | undefined;
  if (breakdowns && wantMasks && p.can.tempTables) {
    maskTable = nextMaskTable();
    const blocks = maskBlocks(rules);
    const kc = keys.map((_, i) => `kc${i}`);
    const ms = blocks.map((_, bi) => `m${bi}`);
    // parameters in textual order: population predicates (the last keys), rules, window
    const keyCols = keys.map((k, i) => `${k.pop !== undefined ? `(CASE WHEN ${pops[k.pop]!.predicate.sql} THEN 1 ELSE 0 END)` : k.expr} AS kc${i}`).join(', ');
    // Rows with the same keys, label and masks are stored once with their count n (a quarter of
    // the window's rows at 2M sessions, a fifth at 10M), so the breakdown sums and the overlap
    // below read that much less: the test side of the full backtest took ~35% less CPU than with
    // one table row per session (bench/backtest.mjs --issue12, 2M and 10M).
    const cols = [...kc, 'lbl', ...ms].join(', ');
    await db.run(
      `CREATE OR REPLACE TEMP TABLE ${maskTable} AS SELECT ${cols}, count(*) AS n FROM (SELECT ${keyCols}, ${label} AS lbl, ` +
        `${blocks.map((b, bi) => `${maskExpr(p, b)} AS m${bi}`).join(', ')} FROM ${table} WHERE ${window.where}) AS rulegen_r GROUP BY ${cols}`,
      [...pops.flatMap((p) => p.predicate.parameters), ...ruleParams, ...window.parameters],
    );
    // The bit sums once per combination of every key (a few thousand rows), then the grouping
    // sets over those: each set summing 100 bits over the masks cost twice as much.
    const sets = ['(lbl)', ...keys.map((_, i) => `(kc${i}, lbl)`)].join(', ');
    const bit = (i: number) => `sum(((m${Math.floor(i / BLOCK)} >> ${i % BLOCK}) & 1) * n) AS h${i}`;
    grouped = await db.all<GroupRow>(
      `SELECT ${kc.map((k, i) => `CAST(${k} AS VARCHAR) AS k${i}, grouping(${k}) AS g${i}`).join(', ')}, lbl, sum(n) AS n, ` +
        `${rules.map((_, i) => `sum(h${i}) AS h${i}`).join(', ')} FROM (SELECT ${kc.join(', ')}, lbl, sum(n) AS n, ${rules.map((_, i) => bit(i)).join(', ')} ` +
        `FROM ${maskTable} GROUP BY ${[...kc, 'lbl'].join(', ')}) AS rulegen_f GROUP BY GROUPING SETS (${sets})`,
    );
  } else if (breakdowns) {
    // Populations are 0/1 columns of a subquery, so that each predicate (and its parameters)
    // appears once; without populations the statement is the plain scan it always was.
    const popCols = pops.map((x, i) => `(CASE WHEN ${x.predicate.sql} THEN 1 ELSE 0 END) AS ${p.ident(`rulegen_pop_${i}`)}`).join(', ');
    const [from, where] = pops.length ? [`(SELECT *, ${popCols} FROM ${table} WHERE ${window.where}) AS rulegen_w`, undefined] : [table, window.where];
    grouped = await groupedScan(
      db,
      p,
      keys.map((k) => k.expr),
      label,
      sums,
      from,
      where,
      [...ruleParams, ...pops.flatMap((x) => x.predicate.parameters), ...window.parameters],
    );
  }
  if (breakdowns) {
    core = grouped.filter((r) => keys.every((_, ki) => Number(r[`g${ki}`]) === 1)) as Record<string, number | null>[];
    timings['core+breakdowns'] = performance.now() - t0;
  } else {
    core = await db.all<Record<string, number | null>>(`SELECT ${label} AS lbl, count(*) AS n${sums} FROM ${table} WHERE ${window.where} GROUP BY ${label}`, [
      ...ruleParams,
      ...window.parameters,
    ]);
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

  // 3. the train window: counts and days, for stability across the split. One scan grouped by
  // day and label; the train totals are the sums of the days (a GROUPING SETS total cost ~15%).
  if (opts.train && rules.length) {
    t0 = performance.now();
    const trainRows = await db.all<GroupRow>(
      `SELECT ${p.cast(day, 'text')} AS k0, ${label} AS lbl, count(*) AS n${sums} FROM ${table} WHERE ${opts.train.where} GROUP BY ${day}, ${label}`,
      [...ruleParams, ...opts.train.parameters],
    );
    timings['train'] = performance.now() - t0;
    const days = groupBy(trainRows, 'k0');
    const total = (l: number | null, col: string) => trainRows.reduce((a, r) => a + (r['lbl'] === l ? Number(r[col] ?? 0) : 0), 0);
    const [tBots, tHumans] = [total(1, 'n'), total(0, 'n')];
    results.forEach((res, i) => {
      const tp = total(1, `h${i}`);
      const fp = total(0, `h${i}`);
      res.train = {
        counts: { tp, fp, tn: tHumans - fp, fn: tBots - tp, unlabeled_hits: total(null, `h${i}`) },
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
      const chunks = opts.engine ? undefined : (sql: string, params: readonly Param[]) => store.columnChunks(sql, params);
      set = await overlap(db, p, table, label, window, rules, results, { bots, humans, rows }, maskTable, chunks);
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
