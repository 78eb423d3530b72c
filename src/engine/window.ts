/**
 * The train/test split on an engine. On the embedded engine this is resolveWindow itself; on
 * another engine the same three reads (bounds, then the window's count) in its dialect, with
 * the cut-off a bound TIMESTAMP parameter.
 */
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { resolveWindow, splitWindow, windowOf, type Window, type WindowName } from '../db/window.js';
import { DuckDbEngine } from './duckdb.js';
import { PLANS } from './plan.js';
import type { ColumnInfo, Engine } from './types.js';

/** The table's columns on the engine; a missing table is a configuration error naming the engine. */
export async function requireColumns(engine: Engine, config: Config): Promise<ColumnInfo[]> {
  const cols = await engine.columns(config.data.table);
  if (!cols) {
    throw InputError.single({
      message:
        engine.kind === 'duckdb'
          ? `no ${config.data.table} table in the workspace database`
          : `no ${config.data.table} table on the ${engine.kind} engine ${engine.target}`,
      where: { field: 'data.table' },
      expected: engine.kind === 'duckdb' ? 'sessions loaded with `rulegen ingest FILE`' : `a table ${config.data.table} visible to the engine's user`,
      found: 'no such table',
    });
  }
  return cols;
}

export async function resolveEngineWindow(engine: Engine, config: Config, name: WindowName): Promise<Window> {
  if (engine instanceof DuckDbEngine) return resolveWindow(engine.store, config, name);
  const p = PLANS[engine.dialect];
  const cols = await requireColumns(engine, config);
  if (!cols.some((c) => c.name === config.data.time))
    throw InputError.single({
      message: `no time column ${config.data.time} in ${config.data.table} on the ${engine.kind} engine ${engine.target}`,
      where: { field: 'data.time' },
      expected: 'a TIMESTAMP column',
      found: cols.map((c) => c.name).join(', '),
    });
  const t = p.ident(config.data.time);
  const table = p.ident(config.data.table);
  const r = await engine.one<{ lo: Date | null; hi: Date | null; n: number }>(`SELECT min(${t}) AS lo, max(${t}) AS hi, count(*) AS n FROM ${table}`);
  if (!r || !r.lo || !r.hi || Number(r.n) === 0)
    throw InputError.single({ message: `the ${config.data.table} table on the ${engine.kind} engine is empty`, expected: 'sessions', found: '0 rows' });
  const bounds = splitWindow(config, name, r.lo.getTime(), r.hi.getTime(), t, p.param('timestamp'));
  const n = Number((await engine.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${bounds.where}`, bounds.parameters))?.n ?? 0);
  return windowOf(config, name, bounds, n);
}
