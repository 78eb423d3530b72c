/**
 * Where the blocks are evaluated: in this thread, or spread over worker threads (worker.ts) that
 * read their own blocks from the cache files or are sent the streamed blocks.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addPartial, KernelState, type Block, type KernelPlan, type Partial } from './compute.js';
import { BlockReader, type CacheSource } from './reader.js';

/** Blocks per worker thread at least, by default. */
const WORKER_BLOCKS = 48;

/** Worker threads for `nBlocks` blocks: `requested`, or by default the cores available (at most 8), one per WORKER_BLOCKS blocks at least. */
export function workerCount(requested: number | undefined, nBlocks: number): number {
  // a worker costs ~50-100 ms to start (and its own JIT warm-up): below ~3M rows one thread is faster; and only
  // cores left idle pay for one (the 1-minute load average): on 2 busy cores (load ~4) two workers took 1.0 s
  // where one thread took 0.75 s (issue 12's full run at 10M rows)
  const idle = Math.round(availableParallelism() - loadavg()[0]!);
  return Math.max(0, Math.min(requested ?? Math.min(availableParallelism(), 8, Math.floor(nBlocks / WORKER_BLOCKS), idle), nBlocks));
}

/**
 * Every block through `plan`, the partials summed: in this thread (`nWorkers` at most 1) or on
 * `nWorkers` workers; from the cache files (`source`) or else the streamed `blocks`.
 */
export async function evaluate(
  plan: KernelPlan,
  simd: boolean,
  source: CacheSource | null,
  blocks: AsyncIterable<Block> | Iterable<Block>,
  nWorkers: number,
  tick?: () => void,
): Promise<Partial> {
  if (nWorkers > 1) return source ? runCacheWorkers(plan, simd, source, nWorkers, tick) : runWorkers(plan, simd, blocks, nWorkers, tick);
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
  return state.finish();
}

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
