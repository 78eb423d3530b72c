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
  const r = await store.one<{ lo: Date | null; hi: Date | null; n: number }>(
    `SELECT min(${t}) AS lo, max(${t}) AS hi, count(*) AS n FROM ${quoteIdent(config.data.table)}`,
  );
  if (!r || !r.lo || !r.hi || r.n === 0) {
    throw InputError.single({ message: `the ${config.data.table} table is empty`, expected: 'sessions loaded with `rulegen ingest FILE`', found: '0 rows' });
  }
  const lo = r.lo.getTime();
  const hi = r.hi.getTime();
  const cutoff =
    config.split.test_from !== undefined
      ? new Date(config.split.test_from as string | Date)
      : new Date(lo + Math.round((hi - lo) * (1 - config.split.test_fraction)));
  let where: string;
  let parameters: Param[];
  let from: Date;
  let to: Date;
  if (name === 'train') {
    where = `${t} < ?::TIMESTAMP`;
    parameters = [sqlTimestamp(cutoff)];
    [from, to] = [new Date(lo), cutoff];
  } else if (name === 'test') {
    where = `${t} >= ?::TIMESTAMP`;
    parameters = [sqlTimestamp(cutoff)];
    [from, to] = [cutoff, new Date(hi)];
  } else {
    where = 'TRUE';
    parameters = [];
    [from, to] = [new Date(lo), new Date(hi)];
  }
  const n = (await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(config.data.table)} WHERE ${where}`, parameters))?.n ?? 0;
  if (n === 0) {
    throw InputError.single({
      message: `the ${name} window is empty`,
      where: { field: config.split.test_from !== undefined ? 'split.test_from' : 'split.test_fraction' },
      expected: `sessions on both sides of the split at ${sqlTimestamp(cutoff)}`,
      found: `data from ${sqlTimestamp(new Date(lo))} to ${sqlTimestamp(new Date(hi))}`,
    });
  }
  return { name, from: from.toISOString(), to: to.toISOString(), cutoff: cutoff.toISOString(), where, parameters, rows: n };
}
