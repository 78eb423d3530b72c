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
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../../catalog/schema.js';
import type { Config } from '../../config/schema.js';
import { quoteIdent, type Store } from '../../db/store.js';
import type { Expr } from '../../rule/ast.js';
import type { BacktestResult, DailyPoint, EngineOptions, EngineRule, PopulationPredicate, RuleResult, SegmentResult, SetMetrics } from '../engine.js';
import { metrics, ratio, wilson, type Counts } from '../stats.js';
import type { Window } from '../../db/window.js';
import { ColumnCache, dataFingerprint, loadDictionary, releaseBufferPool, streamBlocks, type Dictionary } from './columns.js';
import { addPartial, BLOCK_ROWS, daySlots, KernelState, type Block, type KernelPlan, type Partial, type SideSpec } from './compute.js';
import { columnsOf, KernelUnsupportedError, planExprs, type ColumnSpec } from './plan.js';
import { wantSimd } from './prims.js';
import { BlockReader, type CacheSource } from './reader.js';

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

async function sideOf(store: Store, config: Config, w: Window): Promise<SideSpec> {
  const t = quoteIdent(config.data.time);
  let kind: SideSpec['kind'];
  if (w.where === 'TRUE' && w.parameters.length === 0) return { kind: 'all', cutoff: 0 };
  if (w.where === `${t} >= ?::TIMESTAMP`) kind = 'ge';
  else if (w.where === `${t} < ?::TIMESTAMP`) kind = 'lt';
  else throw new KernelUnsupportedError(`the window ${w.name} is not a split on the time column: ${w.where}`);
  const r = await store.one<{ c: number }>(`SELECT CAST(epoch_us(?::TIMESTAMP) AS DOUBLE) AS c`, [w.parameters[0] ?? null]);
  return { kind, cutoff: Number(r?.c) };
}

/** Blocks per worker thread at least, by default. */
const WORKER_BLOCKS = 48;

let bundle: Promise<URL | null> | undefined;

/**
 * The worker script: the compiled worker.js next to this module, or (from the TypeScript sources:
 * tests, benchmarks) worker.ts bundled once per process by esbuild into a data: URL, so workers
 * start without a module loader; null when esbuild is not there (then tsx loads the sources).
 */
function workerScript(): Promise<URL | null> {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return Promise.resolve(js);
  bundle ??= (async () => {
    try {
      const esbuild = await import('esbuild');
      const r = await esbuild.build({
        entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        write: false,
        logLevel: 'silent',
      });
      return new URL(`data:text/javascript;base64,${Buffer.from(r.outputFiles[0]!.contents).toString('base64')}`);
    } catch {
      return null;
    }
  })();
  return bundle;
}

async function newWorker(workerData: unknown): Promise<Worker> {
  const url = await workerScript();
  // no execArgv: a parent started with `--import tsx` would have every worker load tsx too (~0.3 s)
  if (url) return new Worker(url, { workerData, execArgv: [] });
  const ts = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** `n` workers that read their blocks from the column cache themselves; their partials summed. */
async function runCacheWorkers(plan: KernelPlan, simd: boolean, source: CacheSource, n: number, tick?: () => void): Promise<Partial> {
  const counter = new SharedArrayBuffer(4);
  const workers = await Promise.all(Array.from({ length: n }, () => newWorker({ plan, simd, source, counter, ticks: Boolean(tick) })));
  try {
    const partials = await Promise.all(
      workers.map(
        (w) =>
          new Promise<Partial>((resolve, reject) => {
            w.on('message', (m: { type: string; partial?: Partial }) => {
              if (m.type === 'partial') resolve(m.partial!);
              else if (m.type === 'tick') tick?.();
            });
            w.on('error', reject);
            w.on('exit', (code) => reject(new Error(`kernel worker exited (${code})`)));
          }),
      ),
    );
    const total = partials[0]!;
    for (const p of partials.slice(1)) addPartial(total, p);
    return total;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Run streamed blocks through `n` workers (at most two blocks in flight each), summing their partials. */
async function runWorkers(plan: KernelPlan, simd: boolean, blocks: AsyncIterable<Block> | Iterable<Block>, n: number, tick?: () => void): Promise<Partial> {
  const workers = await Promise.all(Array.from({ length: n }, () => newWorker({ plan, simd })));
  const inflight = workers.map(() => 0);
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const onDone = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  workers.forEach((w, i) => {
    w.on('message', (m: { type: string }) => {
      if (m.type === 'done') {
        inflight[i]!--;
        tick?.();
        onDone();
      }
    });
    w.on('error', (e) => {
      failure = e;
      onDone();
    });
  });
  try {
    for await (const b of blocks) {
      for (;;) {
        if (failure) throw failure;
        const i = inflight.indexOf(Math.min(...inflight));
        if (inflight[i]! < 2) {
          inflight[i]!++;
          const transfer = b.cols.flatMap((c) => [c.values.buffer as ArrayBuffer, ...(c.valid ? [c.valid.buffer as ArrayBuffer] : [])]);
          workers[i]!.postMessage({ type: 'block', block: b }, [...new Set(transfer)]);
          break;
        }
        await new Promise<void>((r) => (wake = r));
      }
    }
    const partials = await Promise.all(
      workers.map(
        (w) =>
          new Promise<Partial>((resolve, reject) => {
            w.on('message', (m: { type: string; partial?: Partial }) => m.type === 'partial' && resolve(m.partial!));
            w.on('error', reject);
            w.postMessage({ type: 'finish' });
          }),
      ),
    );
    const total = partials[0]!;
    for (const p of partials.slice(1)) addPartial(total, p);
    return total;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const dayString = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
const byKey = <T>([a]: [string, T], [b]: [string, T]) => (a < b ? -1 : a > b ? 1 : 0);

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

  // the source: the column cache, or DuckDB directly
  const cacheDir =
    opts.cache === false || store.path === ':memory:' ? null : (opts.cache ?? join(dirname(store.path), 'cache', 'kernel', table.replace(/[^a-z0-9_]/gi, '_')));
  const dicts = new Map<string, readonly string[]>();
  let blocks: AsyncIterable<Block> | Iterable<Block> = [];
  let source: CacheSource | null = null;
  let cacheRange: { lo: number | null; hi: number | null } | null = null;
  let nBlocks: number;
  let tableRows: number;
  if (cacheDir) {
    const fp = await dataFingerprint(store, table, { hash: opts.verifyHash });
    timings['kernel.fingerprint'] = performance.now() - t0;
    const cache = new ColumnCache(cacheDir, table, fp);
    const built = await cache.build(store, specs, await hasRowid(store, table), config.data.time, opts.onProgress);
    if (built.ms) timings['kernel.cache_build'] = built.ms;
    await releaseBufferPool(store);
    for (const s of specs) if (s.kind === 'category') dicts.set(s.column, cache.dictionary(s.column) ?? []);
    const sides = [side0, ...(side1 ? [side1] : [])];
    const wanted = (lo: number, hi: number) => sides.some((sd) => sd.kind === 'all' || (sd.kind === 'ge' ? hi >= sd.cutoff : lo < sd.cutoff));
    source = cache.source(specs, wanted);
    cacheRange = cache.dayRange();
    nBlocks = source.groups.length;
    tableRows = cache.rows;
  } else {
    const loaded = new Map<string, Dictionary>();
    for (const s of specs) if (s.kind === 'category' && !loaded.has(s.column)) loaded.set(s.column, await loadDictionary(store, table, s.column));
    loaded.forEach((d, c) => dicts.set(c, d.values));
    tableRows = (await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(table)}`))?.n ?? 0;
    blocks = streamBlocks(store, table, specs, loaded, 'TRUE', [], '', tableRows);
    nBlocks = Math.ceil(tableRows / BLOCK_ROWS);
  }
  let minDay = 0;
  let nDays = 0;
  if (daily) {
    // the cache's time ranges give the days without a scan (a TIMESTAMP's day is its epoch microseconds / 86,400e6, floored)
    let r: { lo: number | null; hi: number | null } | undefined = cacheRange ?? undefined;
    if (!r) {
      const d = `CAST(CAST(date_trunc('day', ${quoteIdent(config.data.time)}) AS DATE) - DATE '1970-01-01' AS INTEGER)`;
      r = await store.one<{ lo: number | null; hi: number | null }>(`SELECT min(${d}) AS lo, max(${d}) AS hi FROM ${quoteIdent(table)}`);
    }
    if (r?.lo !== null && r?.lo !== undefined) [minDay, nDays] = [r.lo, r.hi! - r.lo + 1];
  }

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
  // a worker costs ~50-100 ms to start (and its own JIT warm-up): below ~3M rows one thread is faster; and only
  // cores left idle pay for one (the 1-minute load average): on 2 busy cores (load ~4) two workers took 1.0 s
  // where one thread took 0.75 s (issue 12's full run at 10M rows)
  const idle = Math.round(availableParallelism() - loadavg()[0]!);
  const nWorkers = Math.max(0, Math.min(opts.workers ?? Math.min(availableParallelism(), 8, Math.floor(nBlocks / WORKER_BLOCKS), idle), nBlocks));
  // progress: blocks counted of nBlocks (the receiver throttles)
  let done = 0;
  const onProgress = opts.onProgress;
  const tick = onProgress ? () => onProgress(++done, nBlocks, 'blocks') : undefined;
  onProgress?.(0, nBlocks, 'blocks');
  let part: Partial;
  if (nWorkers <= 1) {
    const state = new KernelState(plan, simd);
    if (source) {
      const reader = new BlockReader(source);
      let i = 0;
      try {
        reader.runAll(state, () => {
          if (i > 0) tick?.();
          return i < source.groups.length ? i++ : -1;
        });
      } finally {
        reader.close();
      }
    } else
      for await (const b of blocks) {
        state.process(b);
        tick?.();
      }
    part = state.finish();
  } else part = source ? await runCacheWorkers(plan, simd, source, nWorkers, tick) : await runWorkers(plan, simd, blocks, nWorkers, tick);
  timings['kernel.compute'] = performance.now() - t1;

  const out = assemble(plan, part, window, rules, opts, { breakdowns, daily, overlap, train, segSpecs, dicts, pops: breakdowns ? pops : [] }, warnings);
  timings['kernel'] = performance.now() - t0;
  return { ...out, warnings, timings, engine: 'kernel', kernel: { simd, workers: nWorkers <= 1 ? 0 : nWorkers } };
}

/** Whether the table has a rowid (a view has none): the cache's row order. */
async function hasRowid(store: Store, table: string): Promise<boolean> {
  return store.describe(`SELECT rowid FROM ${quoteIdent(table)}`).then(
    () => true,
    () => false,
  );
}

interface Shape {
  breakdowns: boolean;
  daily: boolean;
  overlap: boolean;
  train: Window | undefined;
  segSpecs: ColumnSpec[];
  dicts: ReadonlyMap<string, readonly string[]>;
  pops: readonly { name: string }[];
}

/** The engine's result shape from the summed partial, metric by metric as engine.ts computes it. */
function assemble(
  plan: KernelPlan,
  part: Partial,
  window: Window,
  rules: readonly KernelRule[],
  opts: KernelOptions,
  sh: Shape,
  warnings: string[],
): Omit<BacktestResult, 'warnings' | 'timings'> {
  const K = rules.length;
  const DS = daySlots(plan);
  const G = (s: number, d: number, l: number) => part.groups[(s * DS + d) * 4 + l]!;
  const RG = (k: number, s: number, d: number, l: number) => part.ruleGroups[k * 2 * DS * 4 + (s * DS + d) * 4 + l]!;
  const sum = (f: (d: number) => number) => {
    let x = 0;
    for (let d = 0; d < DS; d++) x += f(d);
    return x;
  };
  const bots = sum((d) => G(0, d, 1));
  const humans = sum((d) => G(0, d, 0));
  const unlabeled = sum((d) => G(0, d, 2));
  const rows = bots + humans + unlabeled;
  if (bots + humans === 0) warnings.push(`the ${window.name} window has no labelled sessions: precision, recall and FPR are n/a`);
  else if (humans === 0) warnings.push(`the ${window.name} window has no sessions labelled human: FPR is n/a`);
  else if (bots === 0) warnings.push(`the ${window.name} window has no sessions labelled bot: recall is n/a`);

  const results: RuleResult[] = rules.map((r, k) => {
    const h = (l: number) => sum((d) => RG(k, 0, d, l));
    const counts: Counts = { tp: h(1), fp: h(0), tn: humans - h(0), fn: bots - h(1), unlabeled_hits: h(2) };
    return { id: r.id, counts, ...metrics(counts, rows) };
  });
  let populationTotals: BacktestResult['populations'];

  const series = (k: number, s: number, name: DailyPoint['window']): DailyPoint[] => {
    const pts: [string, DailyPoint][] = [];
    for (let d = 0; d < DS; d++) {
      const n = G(s, d, 0) + G(s, d, 1) + G(s, d, 2) + G(s, d, 3);
      if (n === 0) continue;
      const day = d === plan.nDays ? '(none)' : dayString(plan.minDay + d);
      const hum = G(s, d, 0);
      const bot = G(s, d, 1);
      const tp = RG(k, s, d, 1);
      const fp = RG(k, s, d, 0);
      const hits = tp + fp + RG(k, s, d, 2) + RG(k, s, d, 3);
      pts.push([day, { day, window: name, rows: n, humans: hum, bots: bot, hits, tp, fp, recall: bot ? tp / bot : null, fpr: hum ? fp / hum : null }]);
    }
    return pts.sort(byKey).map(([, p]) => p);
  };
  const segmentResult = (n: number, hum: number, fp: number, hits: number): SegmentResult => {
    const w = hum ? wilson(fp, hum) : null;
    return { rows: n, humans: hum, hits, fp, fpr: hum ? fp / hum : null, fpr_upper95: w ? w.upper : null, fpr_lower95: w ? w.lower : null };
  };

  if (sh.breakdowns) {
    if (sh.daily) {
      results.forEach((res, k) => {
        const s = series(k, 0, window.name);
        let worst: DailyPoint | undefined;
        for (const p of s) if (p.fpr !== null && (!worst || p.fpr > worst.fpr!)) worst = p;
        res.daily = { worst_fpr: worst?.fpr ?? null, worst_day: worst?.day ?? null, days: s.length, series: s };
      });
    }
    sh.segSpecs.forEach((spec, j) => {
      const V = plan.segSizes[j]!;
      const dict = sh.dicts.get(spec.column)!;
      const T = part.segTotals[j]!;
      const H = part.segHits[j]!;
      // values by their text (NULL reads "(none)", as in the engine's grouping)
      const keys = new Map<string, number[]>();
      for (let v = 0; v <= V; v++) {
        if (T[v * 4]! + T[v * 4 + 1]! + T[v * 4 + 2]! + T[v * 4 + 3]! === 0) continue;
        const name = v === V ? '(none)' : dict[v]!;
        keys.set(name, [...(keys.get(name) ?? []), v]);
      }
      const sorted = [...keys.entries()].sort(byKey);
      results.forEach((res, k) => {
        res.segments ??= {};
        for (const [name, vs] of sorted) {
          let n = 0;
          let hum = 0;
          let fp = 0;
          let hits = 0;
          for (const v of vs) {
            n += T[v * 4]! + T[v * 4 + 1]! + T[v * 4 + 2]! + T[v * 4 + 3]!;
            hum += T[v * 4]!;
            const o = k * (V + 1) * 4 + v * 4;
            fp += H[o]!;
            hits += H[o]! + H[o + 1]! + H[o + 2]! + H[o + 3]!;
          }
          res.segments[`${spec.column}=${name}`] = segmentResult(n, hum, fp, hits);
        }
      });
    });
    const P = sh.pops.length;
    sh.pops.forEach((pop, q) => {
      const T = (l: number) => part.popTotals[q * 4 + l]!;
      populationTotals ??= {};
      populationTotals[pop.name] = { rows: T(0) + T(1) + T(2) + T(3), humans: T(0), bots: T(1) };
      if (populationTotals[pop.name]!.rows === 0) warnings.push(`population "${pop.name}" matches no session in the ${window.name} window`);
      results.forEach((res, k) => {
        const H = (l: number) => part.popHits[(k * P + q) * 4 + l]!;
        res.populations ??= {};
        res.populations[pop.name] = segmentResult(T(0) + T(1) + T(2) + T(3), T(0), H(0), H(0) + H(1) + H(2) + H(3));
      });
    });
  }

  if (sh.train) {
    const tBots = sum((d) => G(1, d, 1));
    const tHumans = sum((d) => G(1, d, 0));
    results.forEach((res, k) => {
      const tp = sum((d) => RG(k, 1, d, 1));
      const fp = sum((d) => RG(k, 1, d, 0));
      res.train = {
        counts: { tp, fp, tn: tHumans - fp, fn: tBots - tp, unlabeled_hits: sum((d) => RG(k, 1, d, 2)) },
        recall: tBots ? tp / tBots : null,
        fpr: tHumans ? fp / tHumans : null,
      };
      if (res.daily) res.daily.series = [...series(k, 1, sh.train!.name), ...res.daily.series];
    });
  }

  let set: BacktestResult['set'];
  if (sh.overlap) {
    const totals = { bots, humans, rows };
    const setMetrics = (ids: string[], t: ArrayLike<number>): SetMetrics => {
      const counts: Counts = { tp: t[0]!, fp: t[1]!, tn: humans - t[1]!, fn: bots - t[0]!, unlabeled_hits: t[2]! };
      return { ids, counts, ...metrics(counts, rows) };
    };
    const J = plan.judged.reduce((a, b) => a + b, 0);
    const hits = results.map((_, k) => sum((d) => RG(k, 0, d, 0) + RG(k, 0, d, 1) + RG(k, 0, d, 2) + RG(k, 0, d, 3)));
    results.forEach((res, i) => {
      res.incremental_recall = bots > 0 ? part.incremental[i]! / bots : null;
      res.overlap = [];
      const inc = [part.outside[i * 3]!, part.outside[i * 3 + 1]!, part.outside[i * 3 + 2]!];
      const base = part.base;
      const withT = plan.deployed[i] ? [base[0]!, base[1]!, base[2]!] : [base[0]! + inc[0]!, base[1]! + inc[1]!, base[2]! + inc[2]!];
      const w = setMetrics([], withT);
      let share = 0;
      for (let m = 1; m <= J; m++) share += part.fpShare[i * (J + 1) + m]! / m;
      res.set = {
        incremental_tp: inc[0]!,
        incremental_fp: inc[1]!,
        incremental_recall: ratio(inc[0]!, totals.bots),
        incremental_fpr: ratio(inc[1]!, totals.humans),
        fp_share: share,
        with: { counts: w.counts, fpr: w.fpr, fpr_upper95: w.fpr_upper95, recall: w.recall },
      };
    });
    for (let a = 0; a < K; a++) {
      for (let b = a + 1; b < K; b++) {
        const n = part.inter[a * K + b]!;
        if (n === 0) continue;
        const j = n / (hits[a]! + hits[b]! - n);
        results[a]!.overlap!.push({ id: rules[b]!.id, jaccard: j });
        results[b]!.overlap!.push({ id: rules[a]!.id, jaccard: j });
      }
    }
    for (const r of results) r.overlap!.sort((x, y) => y.jaccard - x.jaccard);
    set = {
      deployed: setMetrics(
        rules.filter((r) => r.deployed).map((r) => r.id),
        part.base,
      ),
      judged: setMetrics(
        rules.filter((r) => r.deployed || r.extra).map((r) => r.id),
        part.all,
      ),
    };
    if (!opts.set) {
      set = undefined;
      for (const r of results) delete r.set;
    }
  }
  return { window, rows, bots, humans, unlabeled, rules: results, ...(populationTotals ? { populations: populationTotals } : {}), ...(set ? { set } : {}) };
}
