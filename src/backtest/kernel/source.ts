/** Where a run's columns come from: the window sides, the column cache or DuckDB, the day range. */
import { dirname, join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { quoteIdent, type Store } from '../../db/store.js';
import type { Window } from '../../db/window.js';
import { ColumnCache } from './cache.js';
import { BLOCK_ROWS, type Block, type SideSpec } from './compute.js';
import { loadDictionary, type Dictionary } from './dictionary.js';
import { dataFingerprint } from './fingerprint.js';
import type { KernelOptions } from './index.js';
import { releaseBufferPool } from './memory.js';
import { KernelUnsupportedError, type ColumnSpec } from './plan.js';
import type { CacheSource } from './reader.js';
import { streamBlocks } from './stream.js';

/** A window as a side of the time split (`all`, or `ge` / `lt` the cutoff in epoch microseconds). */
export async function sideOf(store: Store, config: Config, w: Window): Promise<SideSpec> {
  const t = quoteIdent(config.data.time);
  let kind: SideSpec['kind'];
  if (w.where === 'TRUE' && w.parameters.length === 0) return { kind: 'all', cutoff: 0 };
  if (w.where === `${t} >= ?::TIMESTAMP`) kind = 'ge';
  else if (w.where === `${t} < ?::TIMESTAMP`) kind = 'lt';
  else throw new KernelUnsupportedError(`the window ${w.name} is not a split on the time column: ${w.where}`);
  const r = await store.one<{ c: number }>(`SELECT CAST(epoch_us(?::TIMESTAMP) AS DOUBLE) AS c`, [w.parameters[0] ?? null]);
  return { kind, cutoff: Number(r?.c) };
}

/** The blocks of a run: read from the column cache (`source`) or streamed from DuckDB (`blocks`). */
export interface KernelSource {
  /** Each category column's dictionary (code = index). */
  dicts: Map<string, readonly string[]>;
  blocks: AsyncIterable<Block> | Iterable<Block>;
  source: CacheSource | null;
  /** The cache's day range (null without the cache or its time ranges). */
  cacheRange: { lo: number | null; hi: number | null } | null;
  nBlocks: number;
  tableRows: number;
}

/**
 * The column cache (built or extended with `specs` first; only the sub-blocks one of `sides` may
 * want are read), or for an in-memory store or `cache: false`, DuckDB directly.
 */
export async function openSource(
  store: Store,
  config: Config,
  specs: readonly ColumnSpec[],
  sides: readonly SideSpec[],
  opts: KernelOptions,
  timings: Record<string, number>,
  t0: number,
): Promise<KernelSource> {
  const table = config.data.table;
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
  return { dicts, blocks, source, cacheRange, nBlocks, tableRows };
}

/** The first day and the number of days of the table's times (days since 1970-01-01), from the cache's time ranges if there. */
export async function daySpan(
  store: Store,
  config: Config,
  cacheRange: { lo: number | null; hi: number | null } | null,
): Promise<{ minDay: number; nDays: number }> {
  let minDay = 0;
  let nDays = 0;
  const table = config.data.table;
  // the cache's time ranges give the days without a scan (a TIMESTAMP's day is its epoch microseconds / 86,400e6, floored)
  let r: { lo: number | null; hi: number | null } | undefined = cacheRange ?? undefined;
  if (!r) {
    const d = `CAST(CAST(date_trunc('day', ${quoteIdent(config.data.time)}) AS DATE) - DATE '1970-01-01' AS INTEGER)`;
    r = await store.one<{ lo: number | null; hi: number | null }>(`SELECT min(${d}) AS lo, max(${d}) AS hi FROM ${quoteIdent(table)}`);
  }
  if (r?.lo !== null && r?.lo !== undefined) [minDay, nDays] = [r.lo, r.hi! - r.lo + 1];
  return { minDay, nDays };
}

/** Whether the table has a rowid (a view has none): the cache's row order. */
async function hasRowid(store: Store, table: string): Promise<boolean> {
  return store.describe(`SELECT rowid FROM ${quoteIdent(table)}`).then(
    () => true,
    () => false,
  );
}
