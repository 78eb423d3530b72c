/**
 * Which evaluator makes a backtest (the kernel or SQL, issue 13), and the watchers told of every
 * evaluation (the CLI's run record).
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Store } from '../db/store.js';
import { runBacktest, type BacktestResult } from './engine.js';
import type { Evaluator, EvaluatorName } from './engine-types.js';
import { KernelUnsupportedError, runKernelBacktest, type KernelOptions, type KernelRule } from './kernel/index.js';

/** How one backtest was evaluated: what a run record keeps of it. */
export interface Evaluation {
  engine: EvaluatorName;
  kernel?: { simd: boolean; workers: number };
  /** Why the kernel was not used (`auto` fell back to SQL). */
  fallback?: string;
}

const watchers = new Set<(e: Evaluation) => void>();

/**
 * Be told of every backtest evaluateRules makes from now on (the CLI's run record: which engine
 * made a command's backtests, however deep in the core they ran); returns the unsubscribe.
 */
export function watchEvaluations(fn: (e: Evaluation) => void): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}

/**
 * Which engines make the backtests from now until `stop()`, for a command's `--json` (`engine`):
 * 'kernel', 'sql', 'kernel+sql' when some fell back, null when none ran.
 */
export function trackEngines(): { engine: () => string | null; stop: () => void } {
  const seen = new Set<string>();
  const stop = watchEvaluations((e) => seen.add(e.engine));
  return { engine: () => (seen.size ? [...seen].sort().join('+') : null), stop };
}

/** Run `fn` and say which engines made the backtests it ran (see trackEngines). */
export async function withEngines<T>(fn: () => Promise<T>): Promise<{ value: T; engine: string | null }> {
  const t = trackEngines();
  try {
    const value = await fn();
    return { value, engine: t.engine() };
  } finally {
    t.stop();
  }
}

/** File-system failures of the kernel's column cache (a read-only or vanished folder): the kernel then reads DuckDB directly. */
const CACHE_FS_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENOSPC', 'EDQUOT']);
const isCacheFsError = (e: unknown): boolean => e instanceof Error && CACHE_FS_ERRORS.has(String((e as NodeJS.ErrnoException).code));

export interface EvaluateOptions extends KernelOptions {
  evaluator?: Evaluator;
}

/**
 * Backtest `rules` on `window` (one pass) with the chosen evaluator; the result says which made
 * it (`engine`, and `kernel` or `kernel_fallback`). The kernel runs on the embedded store only:
 * an explicit engine other than DuckDB always takes the SQL path. With `auto`, a shape the kernel
 * cannot take (KernelUnsupportedError, thrown before any work) falls back to SQL quietly; with
 * `kernel` it is an input error (exit 2). A column cache that cannot be written or read (a
 * read-only workspace, a cache removed by another process meanwhile) costs the cache, not the run:
 * the kernel then reads DuckDB directly.
 */
export async function evaluateRules(
  store: Store,
  config: Config,
  catalog: Catalog,
  window: BacktestResult['window'],
  rules: readonly KernelRule[],
  opts: EvaluateOptions = {},
): Promise<BacktestResult> {
  const { evaluator = 'auto', workers, cache, verifyHash, simd, ...common } = opts;
  const tell = (r: BacktestResult): BacktestResult => {
    const e: Evaluation = {
      engine: r.engine ?? 'sql',
      ...(r.kernel ? { kernel: r.kernel } : {}),
      ...(r.kernel_fallback ? { fallback: r.kernel_fallback } : {}),
    };
    for (const w of watchers) w(e);
    return r;
  };
  const viaSql = async (fallback?: string) =>
    tell({ ...(await runBacktest(store, config, window, rules, common)), engine: 'sql', ...(fallback ? { kernel_fallback: fallback } : {}) });
  const remote = common.engine !== undefined && common.engine.kind !== 'duckdb';
  if (evaluator === 'sql' || remote) return viaSql();
  // `--engine duckdb` names the embedded store: the kernel reads it itself (progress: blocks counted, rows of a cache build)
  const { engine: _embedded, ...k } = common;
  const kopts: KernelOptions = {
    ...k,
    ...(workers !== undefined ? { workers } : {}),
    ...(cache !== undefined ? { cache } : {}),
    ...(verifyHash !== undefined ? { verifyHash } : {}),
    ...(simd !== undefined ? { simd } : {}),
  };
  try {
    try {
      return tell(await runKernelBacktest(store, config, catalog, window, rules, kopts));
    } catch (e) {
      if (!isCacheFsError(e) || kopts.cache === false) throw e;
      return tell(await runKernelBacktest(store, config, catalog, window, rules, { ...kopts, cache: false }));
    }
  } catch (e) {
    if (!(e instanceof KernelUnsupportedError)) throw e;
    if (evaluator === 'kernel')
      throw InputError.single({
        message: `the kernel cannot run this backtest: ${e.message}`,
        where: { field: '--engine' },
        expected: 'a TIMESTAMP time column, a window split on it, rules of the condition language; or --engine sql',
        found: '--engine kernel',
      });
    return viaSql(e.message);
  }
}
