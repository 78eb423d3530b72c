/**
 * The kernel's column cache: per workspace, raw little-endian files (one values file and one
 * validity file per column) under `.rulegen/cache/kernel/`, invalidated by the table's data
 * fingerprint (fingerprint.ts). Only the columns a run needs are read; a later run that needs
 * more columns adds them to the cache.
 *
 * Layout: no sort. The table is read once in its insertion order (rowid, checked as it arrives;
 * ORDER BY rowid only if it is not), and rows go to one bucket per day; a full bucket is written
 * as a sub-block of SUB_ROWS rows of one day. The meta file lists the sub-blocks with their time
 * range, so a run reads only the sub-blocks a window may want, and every 64-row word of a block
 * holds one day (the daily breakdown is popcounts, not a loop over rows). Every build reads the
 * day column, so columns added later land in the same layout (checked).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, type Store } from '../../db/store.js';
import { writeFileAtomic } from '../../fsutil.js';
import type { OnProgress } from '../../progress.js';
import { BLOCK_ROWS, VALUE_BYTES, type Block, type ColumnValues } from './compute.js';
import { dayOrder, DayBuckets, permute, SUB_ROWS, type Sub } from './day-buckets.js';
import { loadDictionary, type Dictionary } from './dictionary.js';
import { BUILD_MEMORY } from './memory.js';
import { KernelUnsupportedError, type ColumnKind, type ColumnSpec } from './plan.js';
import type { CacheSource } from './reader.js';
import { BlockBuilder, selectList } from './stream.js';

const CACHE_VERSION = 4;

interface CachedColumn {
  kind: ColumnKind;
  column: string;
  file: string;
  nulls: number;
  dict?: string[];
}

interface CacheMeta {
  version: number;
  fingerprint: string;
  table: string;
  rows: number;
  /** 'rowid' (the table's insertion order, checked while reading) or '' (a view: all columns built together). */
  order: string;
  columns: Record<string, CachedColumn>;
  /** The sub-blocks of every column file (one day each, at most SUB_ROWS rows), in file order. */
  subs: Sub[];
}

/** The table's rows did not come out in rowid order: read again with ORDER BY rowid. */
class OrderError extends Error {}

const fileName = (key: string) => key.replace(/[^a-z0-9_]/gi, (c) => `-${c.charCodeAt(0).toString(16)}`);

/** A workspace's column cache for one table. */
export class ColumnCache {
  private meta: CacheMeta;
  constructor(
    readonly dir: string,
    private readonly table: string,
    fingerprint: string,
  ) {
    const metaFile = join(dir, 'meta.json');
    let meta: CacheMeta | undefined;
    if (existsSync(metaFile)) {
      try {
        meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CacheMeta;
      } catch {
        meta = undefined;
      }
    }
    if (!meta || meta.version !== CACHE_VERSION || meta.fingerprint !== fingerprint || meta.table !== table) {
      // A stale cache is renamed aside before it is deleted, so a process still reading it keeps
      // its files and one building the new cache never sees its folder vanish. A folder without
      // meta.json may be another process's build in progress (its temp files carry that pid):
      // left alone; the finished columns are renamed into place atomically by whichever ends first.
      if (meta) {
        const aside = `${dir}.stale.${process.pid}`;
        try {
          renameSync(dir, aside);
          rmSync(aside, { recursive: true, force: true });
        } catch {
          // another process moved it first
        }
      }
      meta = { version: CACHE_VERSION, fingerprint, table, rows: 0, order: '', columns: {}, subs: [] };
    }
    this.meta = meta;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.meta.columns, key);
  }
  get rows(): number {
    return this.meta.rows;
  }
  dictionary(column: string): string[] | undefined {
    return this.meta.columns[`category:${column}`]?.dict;
  }

  /**
   * Add the missing `specs` by one streaming statement in the table's insertion order (rowid),
   * which columns added later share; no sort: the rowids are checked as they arrive, and only if
   * they are out of order is the statement run again with ORDER BY rowid. A view (`rowid` false)
   * has no stable order, so a view's columns are always built together.
   */
  async build(store: Store, specs: readonly ColumnSpec[], rowid: boolean, time: string, onProgress?: OnProgress): Promise<{ rows: number; ms: number }> {
    const t0 = performance.now();
    let todo = specs.filter((s) => !this.has(s.key));
    if (!todo.length) return { rows: this.meta.rows, ms: 0 };
    if (!rowid && Object.keys(this.meta.columns).length) {
      const cached: ColumnSpec[] = Object.entries(this.meta.columns).map(([key, c]) => ({ key, kind: c.kind, column: c.column }));
      todo = [...cached, ...todo];
      this.meta.columns = {};
    }
    mkdirSync(this.dir, { recursive: true });
    const files = todo.map((s) => {
      const base = join(this.dir, fileName(s.key));
      return { base, tmp: `${base}.${process.pid}.tmp`, vtmp: `${base}.${process.pid}.valid.tmp` };
    });
    // DuckDB keeps the blocks it scans in its buffer pool (up to its memory limit: hundreds of MB
    // for one pass over a 10M-row table, 750 MB at 50M with the dictionaries' scans); capped for
    // every scan of the build, then restored
    const { rows, nulls, subs, dicts } = await store.withMemoryLimit(BUILD_MEMORY, async () => {
      const dicts = new Map<string, Dictionary>();
      for (const s of todo) if (s.kind === 'category') dicts.set(s.column, await loadDictionary(store, this.table, s.column));
      // progress: rows read and written of the table's rows
      const total = onProgress ? ((await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(this.table)}`))?.n ?? null) : null;
      const tick = onProgress ? (rows: number) => onProgress(rows, total === null ? null : Number(total), 'rows') : undefined;
      try {
        return { ...(await this.write(store, todo, dicts, files, rowid ? 'check' : 'none', time, tick)), dicts };
      } catch (e) {
        if (!(e instanceof OrderError)) throw e;
        return { ...(await this.write(store, todo, dicts, files, 'sort', time, tick)), dicts };
      }
    });
    const same = (a: Sub, b: Sub | undefined) => b !== undefined && a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
    if (
      Object.keys(this.meta.columns).length &&
      (rows !== this.meta.rows || subs.length !== this.meta.subs.length || !subs.every((z, i) => same(z, this.meta.subs[i])))
    )
      throw new KernelUnsupportedError('the table changed while the cache was built');
    todo.forEach((s, i) => {
      renameSync(files[i]!.tmp, `${files[i]!.base}.v`);
      renameSync(files[i]!.vtmp, `${files[i]!.base}.n`);
      this.meta.columns[s.key] = {
        kind: s.kind,
        column: s.column,
        file: fileName(s.key),
        nulls: nulls[i]!,
        ...(s.kind === 'category' ? { dict: dicts.get(s.column)!.values } : {}),
      };
    });
    if (todo.some((s) => s.kind === 'time')) this.meta.subs = subs;
    this.meta.rows = rows;
    this.meta.order = rowid ? 'rowid' : '';
    writeFileAtomic(join(this.dir, 'meta.json'), JSON.stringify(this.meta));
    return { rows, ms: performance.now() - t0 };
  }

  private async write(
    store: Store,
    todo: readonly ColumnSpec[],
    dicts: ReadonlyMap<string, Dictionary>,
    files: readonly { tmp: string; vtmp: string }[],
    order: 'check' | 'none' | 'sort',
    time: string,
    tick?: (rows: number) => void,
  ): Promise<{ rows: number; nulls: number[]; subs: Sub[] }> {
    // every build reads each row's day too: rows go to one bucket per day, written out as
    // sub-blocks of one day each (the same way for every column: the layout depends only on the
    // table's row order and the days)
    const dayCol: ColumnSpec = { key: '(day buckets)', kind: 'day', column: time };
    const cols = [...todo, dayCol];
    const list = selectList(cols, dicts);
    const sql = `SELECT ${list.sql}${order === 'none' ? '' : ', rowid'} FROM ${quoteIdent(this.table)}${order === 'sort' ? ' ORDER BY rowid' : ''}`;
    const fds = files.map((f) => [openSync(f.tmp, 'w'), openSync(f.vtmp, 'w')] as const);
    const scratch = new Map<string, ColumnValues | Uint32Array>();
    const buckets = new DayBuckets(
      todo,
      fds,
      todo.findIndex((s) => s.kind === 'time'),
    );
    const put = (b: Block) => {
      const day = b.cols[todo.length]!;
      const perm = dayOrder(day, b.rows);
      const all = perm ? b.cols.map((c, i) => permute(c, perm, b.rows, scratch, i)) : b.cols;
      buckets.append({ rows: b.rows, cols: all.slice(0, todo.length) }, all[todo.length]!);
    };
    try {
      const b = new BlockBuilder(cols, dicts, true);
      let last = -1;
      let read = 0;
      for await (const chunk of store.columnChunks(sql, list.params)) {
        let cols = chunk.columns;
        if (order !== 'none') {
          const r = cols[cols.length - 1]!.values;
          const w = new Int32Array(r.buffer, r.byteOffset, chunk.rows * 2);
          for (let i = 0; i < chunk.rows; i++) {
            const v = w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0);
            if (v <= last) throw new OrderError();
            last = v;
          }
          cols = cols.slice(0, -1);
        }
        b.push({ rows: chunk.rows, columns: cols }, put);
        read += chunk.rows;
        tick?.(read);
      }
      b.take(put);
      buckets.finish();
    } finally {
      for (const [a, c] of fds) {
        closeSync(a);
        closeSync(c);
      }
    }
    return { rows: buckets.rows, nulls: buckets.nulls, subs: buckets.subs };
  }

  /** The first and last day (days since 1970-01-01) of the rows with a time; null when the sub-blocks have no time ranges. */
  dayRange(): { lo: number | null; hi: number | null } | null {
    let lo = Infinity;
    let hi = -Infinity;
    for (const z of this.meta.subs) {
      if (z[3] !== null && z[3] < lo) lo = z[3];
      if (z[4] !== null && z[4] > hi) hi = z[4];
    }
    if (!this.meta.subs.length) return null;
    const day = (us: number) => Math.floor(us / 86_400_000_000);
    return lo <= hi ? { lo: day(lo), hi: day(hi) } : { lo: null, hi: null };
  }

  /**
   * The cached `specs` for the block readers (reader.ts), and the groups of sub-blocks to read
   * (one kernel block each): with `wanted`, only sub-blocks whose time range may hold a row of a window.
   */
  source(specs: readonly ColumnSpec[], wanted?: (min: number, max: number) => boolean): CacheSource {
    const files = specs.map((s) => {
      const c = this.meta.columns[s.key];
      if (!c) throw new Error(`column ${s.key} is not cached`);
      return { file: c.file, bytes: VALUE_BYTES[s.kind], nulls: c.nulls > 0 };
    });
    const subs = this.meta.subs;
    const groups: number[][] = [];
    let cur: number[] = [];
    subs.forEach((z, i) => {
      // a sub-block of NULL times only: only the window of every row wants it
      if (wanted && !wanted(z[3] ?? Infinity, z[4] ?? -Infinity)) return;
      cur.push(i);
      if (cur.length === BLOCK_ROWS / SUB_ROWS || z[1] < SUB_ROWS) {
        groups.push(cur);
        cur = [];
      }
    });
    if (cur.length) groups.push(cur);
    return { dir: this.dir, files, subs: subs.map((z) => [z[0], z[1], z[2]]), groups };
  }
}
