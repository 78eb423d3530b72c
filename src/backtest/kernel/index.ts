/**
 * The columnar backtest kernel (issue 13): the same BacktestResult as the SQL engine's
 * runBacktest, computed from typed columns with bitmaps instead of one `CASE WHEN` per rule
 * per row. Columns come from the workspace's column cache (built on first use, keyed by the
 * table's data fingerprint) or, for an in-memory store, straight from DuckDB in blocks; blocks
 * are spread over worker threads (a plain in-thread path is always there: `workers: 0`), each of
 * which reads its own blocks from the cache files. The bitmap loops are WebAssembly SIMD (wasm.ts)
 * or plain JS (`simd: false`, RULEGEN_KERNEL_SIMD=0), with identical results; the result records
 * which ran (`kernel: { simd, workers }`).
 *
 * Shapes the kernel cannot take (a window that is not the time split, a time column that is not
 * TIMESTAMP, an unknown AST) throw KernelUnsupportedError before any work: fall back to SQL.
 */
import type { Catalog } from '../../catalog/schema.js';
import type { Config } from '../../config/schema.js';
import { quoteIdent, type Store } from '../../db/store.js';
import type { Expr } from '../../rule/ast.js';
import type { BacktestResult, EngineOptions, EngineRule, PopulationPredicate } from '../engine.js';
import type { Window } from '../../db/window.js';
import { BLOCK_ROWS, type KernelPlan } from './compute.js';
import { columnsOf, KernelUnsupportedError, planExprs, type ColumnSpec } from './plan.js';
import { wantSimd } from './prims.js';
import { assemble } from './result.js';
import { daySpan, openSource, sideOf } from './source.js';
import { evaluate, workerCount } from './threads.js';

export { KernelUnsupportedError } from './plan.js';

/** A rule for the kernel: the engine's rule plus its checked AST. */
export interface KernelRule extends EngineRule {
  ast: Expr;
}

export interface KernelOptions extends Omit<EngineOptions, 'populations'> {
  /** Populations with their ASTs (src/backtest/populations.ts `Population` fits). */
  populations?: readonly (PopulationPredicate & { ast: Expr })[];
  /** Worker threads; 0 = evaluate in this thread. Default: the cores available (at most 8), one per 48 blocks read at least (else in-thread). */
  workers?: number;
  /** Column cache folder; `false` = stream from DuckDB every time. Default: `<database folder>/cache/kernel/<table>` for a file store. */
  cache?: string | false;
  /** Also check a hash aggregate over every row for the cache's fingerprint (a full scan). */
  verifyHash?: boolean;
  /** WebAssembly SIMD loops (default: where available, unless RULEGEN_KERNEL_SIMD=0); false = the plain JS loops. */
  simd?: boolean;
}

/** The result, with which engine made it and how: WebAssembly SIMD or plain JS loops, worker threads (0 = in-thread). */
export type KernelResult = BacktestResult & { engine: 'kernel'; kernel: { simd: boolean; workers: number } };

/**
 * Backtest `rules` on `window` with the kernel. The result has the shape (and, for every count,
 * the values) of `runBacktest(store, config, window, rules, opts)`, with `engine: 'kernel'`.
 */
export async function runKernelBacktest(
  store: Store,
  config: Config,
  catalog: Catalog,
  window: Window,
  rules: readonly KernelRule[],
  opts: KernelOptions = {},
): Promise<KernelResult> {
  if (opts.engine) throw new KernelUnsupportedError('the kernel runs on the embedded store only, not on an explicit engine');
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const table = config.data.table;
  const K = rules.length;
  const segs = opts.segments ?? [];
  const pops = opts.populations ?? [];
  const breakdowns = Boolean((opts.daily || segs.length || pops.length) && K);
  const daily = Boolean(opts.daily && K);
  const overlap = Boolean((opts.overlap || opts.set) && K);
  const train = opts.train && K ? opts.train : undefined;

  const types = new Map((await store.describe(`SELECT * FROM ${quoteIdent(table)}`)).map((c) => [c.name, c.type]));
  if (types.get(config.data.time) !== 'TIMESTAMP')
    throw new KernelUnsupportedError(`the time column ${config.data.time} is ${types.get(config.data.time) ?? 'missing'}, not TIMESTAMP`);
  const side0 = await sideOf(store, config, window);
  const side1 = train ? await sideOf(store, config, train) : null;

  // the columns: label, time, day, segments, and every feature the rules and populations read
  const exprs = [...rules.map((r) => r.ast), ...(breakdowns ? pops.map((p) => p.ast) : [])];
  const specs: ColumnSpec[] = [
    { key: `label:${config.data.label}`, kind: 'label', column: config.data.label },
    { key: `time:${config.data.time}`, kind: 'time', column: config.data.time },
    ...(daily ? [{ key: `day:${config.data.time}`, kind: 'day' as const, column: config.data.time }] : []),
  ];
  const segSpecs: ColumnSpec[] = breakdowns ? segs.map((s) => ({ key: `category:${s}`, kind: 'category', column: s })) : [];
  for (const s of [...segSpecs, ...columnsOf(exprs, catalog)]) if (!specs.some((x) => x.key === s.key)) specs.push(s);
  const colIndex = new Map(specs.map((s, i) => [s.key, i]));

  // the source: the column cache, or DuckDB directly; the days for the daily breakdown
  const { dicts, blocks, source, cacheRange, nBlocks, tableRows } = await openSource(
    store,
    config,
    specs,
    [side0, ...(side1 ? [side1] : [])],
    opts,
    timings,
    t0,
  );
  const { minDay, nDays } = daily ? await daySpan(store, config, cacheRange) : { minDay: 0, nDays: 0 };

  const ep = planExprs(exprs, catalog, colIndex, dicts);
  const segCols = segSpecs.map((s) => colIndex.get(s.key)!);
  const plan: KernelPlan = {
    blockRows: Math.min(BLOCK_ROWS, Math.max(128, Math.ceil(tableRows / 128) * 128)),
    kinds: specs.map((s) => s.kind),
    atoms: ep.atoms,
    program: ep.program,
    slots: ep.slots,
    rules: ep.roots.slice(0, K),
    pops: ep.roots.slice(K),
    labelCol: 0,
    timeCol: 1,
    dayCol: daily ? 2 : -1,
    minDay,
    nDays,
    segCols,
    segSizes: segSpecs.map((s) => dicts.get(s.column)!.length),
    window: side0,
    train: side1,
    overlap,
    approved: Uint8Array.from(rules, (r) => Number(Boolean(r.approved))),
    deployed: Uint8Array.from(rules, (r) => Number(Boolean(r.deployed))),
    judged: Uint8Array.from(rules, (r) => Number(Boolean(r.deployed || r.extra))),
  };

  // evaluate
  const t1 = performance.now();
  const simd = wantSimd(opts.simd);
  const nWorkers = workerCount(opts.workers, nBlocks);
  // progress: blocks counted of nBlocks (the receiver throttles)
  let done = 0;
  const onProgress = opts.onProgress;
  const tick = onProgress ? () => onProgress(++done, nBlocks, 'blocks') : undefined;
  onProgress?.(0, nBlocks, 'blocks');
  const part = await evaluate(plan, simd, source, blocks, nWorkers, tick);
  timings['kernel.compute'] = performance.now() - t1;

  const out = assemble(plan, part, window, rules, opts, { breakdowns, daily, overlap, train, segSpecs, dicts, pops: breakdowns ? pops : [] }, warnings);
  timings['kernel'] = performance.now() - t0;
  return { ...out, warnings, timings, engine: 'kernel', kernel: { simd, workers: nWorkers <= 1 ? 0 : nWorkers } };
}
