/**
 * The time split: rules are proposed from the train window and judged on the later test window.
 * A window is a WHERE clause over the time column with bound parameters.
 */
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { quoteIdent, type Param, type Store } from './store.js';

/** The windows a command can run on; `--window`'s choices. */
export const WINDOWS = ['train', 'test', 'all'] as const;
export type WindowName = (typeof WINDOWS)[number];

/** A resolved window: [from, to) in UTC; `where` is a predicate with `?` placeholders. */
export interface Window {
  name: WindowName;
  from: string;
  to: string;
  /** The first instant of the test window. */
  cutoff: string;
  where: string;
  parameters: readonly Param[];
  rows: number;
}

/** 'YYYY-MM-DD HH:MM:SS.mmm' — a TIMESTAMP literal DuckDB reads without any zone shift. */
export function sqlTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

export async function requireTable(store: Store, config: Config): Promise<void> {
  if (!(await store.tableExists(config.data.table))) {
    throw InputError.single({
      message: `no ${config.data.table} table in the workspace database`,
      expected: 'sessions loaded with `rulegen ingest FILE`',
      found: 'an empty database',
    });
  }
}

export async function resolveWindow(store: Store, config: Config, name: WindowName): Promise<Window> {
  await requireTable(store, config);
  const t = quoteIdent(config.data.time);
  // two passes over the time column whose blocks nothing reads again soon: under a low memory
  // limit, or DuckDB's buffer pool keeps them (470 MB at 50M sessions, more than a whole kernel run)
  return store.withMemoryLimit(SCAN_MEMORY, async () => {
    const r = await store.one<{ lo: Date | null; hi: Date | null; n: number }>(
      `SELECT min(${t}) AS lo, max(${t}) AS hi, count(*) AS n FROM ${quoteIdent(config.data.table)}`,
    );
    if (!r || !r.lo || !r.hi || r.n === 0) {
      throw InputError.single({ message: `the ${config.data.table} table is empty`, expected: 'sessions loaded with `rulegen ingest FILE`', found: '0 rows' });
    }
    const bounds = splitWindow(config, name, r.lo.getTime(), r.hi.getTime(), quoteIdent(config.data.time), '?::TIMESTAMP');
    const n = (await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(config.data.table)} WHERE ${bounds.where}`, bounds.parameters))?.n ?? 0;
    return windowOf(config, name, bounds, Number(n));
  });
}

/** DuckDB's memory limit while a window's bounds and rows are read. */
export const SCAN_MEMORY = '64MB';

/** A window's predicate and span, before its rows are counted (pure: shared by every engine). */
export interface WindowBounds {
  where: string;
  parameters: Param[];
  from: Date;
  to: Date;
  cutoff: Date;
  lo: number;
  hi: number;
}

/**
 * The split of [lo, hi] (epoch ms of the table's first and last session): the cut-off at
 * `split.test_from` or at `1 - test_fraction` of the span, and the window's predicate over
 * `time` (already quoted) with the cut-off bound through `placeholder` (the dialect's).
 */
export function splitWindow(config: Config, name: WindowName, lo: number, hi: number, time: string, placeholder: string): WindowBounds {
  const cutoff =
    config.split.test_from !== undefined
      ? new Date(config.split.test_from as string | Date)
      : new Date(lo + Math.round((hi - lo) * (1 - config.split.test_fraction)));
  if (name === 'train') return { where: `${time} < ${placeholder}`, parameters: [sqlTimestamp(cutoff)], from: new Date(lo), to: cutoff, cutoff, lo, hi };
  if (name === 'test') return { where: `${time} >= ${placeholder}`, parameters: [sqlTimestamp(cutoff)], from: cutoff, to: new Date(hi), cutoff, lo, hi };
  return { where: 'TRUE', parameters: [], from: new Date(lo), to: new Date(hi), cutoff, lo, hi };
}

/** The resolved window, or the "window is empty" error when it holds no session. */
export function windowOf(config: Config, name: WindowName, b: WindowBounds, rows: number): Window {
  if (rows === 0) {
    throw InputError.single({
      message: `the ${name} window is empty`,
      where: { field: config.split.test_from !== undefined ? 'split.test_from' : 'split.test_fraction' },
      expected: `sessions on both sides of the split at ${sqlTimestamp(b.cutoff)}`,
      found: `data from ${sqlTimestamp(new Date(b.lo))} to ${sqlTimestamp(new Date(b.hi))}`,
    });
  }
  return { name, from: b.from.toISOString(), to: b.to.toISOString(), cutoff: b.cutoff.toISOString(), where: b.where, parameters: b.parameters, rows };
}
