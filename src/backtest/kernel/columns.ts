/**
 * Columns for the kernel: streamed from DuckDB as typed arrays (Store.columnChunks, never one
 * JS value per row) into 65,536-row blocks, and cached per workspace as raw little-endian files
 * (one values file and one validity file per column) under `.rulegen/cache/kernel/`, invalidated
 * by the table's data fingerprint. Only the columns a run needs are read; a later run that needs
 * more columns adds them to the cache. Memory stays bounded: one block per column in flight.
 *
 * Layout: no sort. The table is read once in its insertion order (rowid, checked as it arrives;
 * ORDER BY rowid only if it is not), and rows go to one bucket per day; a full bucket is written
 * as a sub-block of SUB_ROWS rows of one day. The meta file lists the sub-blocks with their time
 * range, so a run reads only the sub-blocks a window may want, and every 64-row word of a block
 * holds one day (the daily breakdown is popcounts, not a loop over rows). Every build reads the
 * day column, so columns added later land in the same layout (checked).
 *
 * Encodings: numbers float64 (`CAST(... AS DOUBLE)`, DuckDB's own cast for a comparison with a
 * DOUBLE parameter; NaN stored as +Infinity, which every comparison with a finite literal treats
 * as DuckDB treats NaN — greater than any number); booleans 0/1; categories and segments int32
 * dictionary codes of `CAST(... AS VARCHAR)` (the dictionary from one GROUP BY; codes by one CASE
 * in DuckDB for up to 64 values, else rows matched by DuckDB's 64-bit `hash`); the label 0 human /
 * 1 bot / 2 NULL / 3 other; time as epoch microseconds (float64, exact); day as days since
 * 1970-01-01 of `date_trunc('day', time)`.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, type ColumnChunk, type Param, type Store } from '../../db/store.js';
import { writeFileAtomic } from '../../fsutil.js';
import { BLOCK_ROWS, pc, VALUE_BYTES, type Block, type ColumnData, type ColumnValues } from './compute.js';
import type { CacheSource } from './reader.js';
import type { OnProgress } from '../../progress.js';
import { KernelUnsupportedError, type ColumnKind, type ColumnSpec } from './plan.js';

const CACHE_VERSION = 4;

/** Dictionaries up to this size are coded by DuckDB (one CASE); larger ones by hash in JS. */
const CASE_CODES = 64;
const sqlString = (v: string) => `'${v.replaceAll("'", "''")}'`;

/** SQL of one column in the streaming statement (the table's time column for `time` and `day`), and its parameters. */
function selectExpr(spec: ColumnSpec, dicts: ReadonlyMap<string, Dictionary>): { sql: string; params: Param[] } {
  const c = quoteIdent(spec.column);
  const sql = (text: string, params: Param[] = []) => ({ sql: text, params });
  switch (spec.kind) {
    case 'number':
      return sql(`CAST(${c} AS DOUBLE)`);
    case 'boolean':
      return sql(`CAST(CAST(${c} AS BOOLEAN) AS UTINYINT)`);
    case 'category': {
      const d = dicts.get(spec.column)!.values;
      const other = `CASE WHEN ${c} IS NULL THEN NULL ELSE -2 END`;
      if (d.length === 0) return sql(`CAST(${other} AS INTEGER)`);
      // the values are parameters, never SQL text
      if (d.length <= CASE_CODES)
        return sql(`CAST(CASE CAST(${c} AS VARCHAR) ${d.map((_, i) => `WHEN ? THEN ${i}`).join(' ')} ELSE ${other} END AS INTEGER)`, d);
      return sql(`CASE WHEN ${c} IS NULL THEN NULL ELSE hash(CAST(${c} AS VARCHAR)) END`);
    }
    case 'label':
      return sql(`CAST(CASE WHEN ${c} IS NULL THEN 2 WHEN ${c} = 1 THEN 1 WHEN ${c} = 0 THEN 0 ELSE 3 END AS UTINYINT)`);
    case 'time':
      return sql(`CAST(epoch_us(${c}) AS DOUBLE)`);
    case 'day':
      return sql(`CAST(CAST(date_trunc('day', ${c}) AS DATE) - DATE '1970-01-01' AS INTEGER)`);
  }
}

/** The select list of `specs` and its parameters, in order. */
function selectList(specs: readonly ColumnSpec[], dicts: ReadonlyMap<string, Dictionary>): { sql: string; params: Param[] } {
  const parts = specs.map((x) => selectExpr(x, dicts));
  return { sql: parts.map((p) => p.sql).join(', '), params: parts.flatMap((p) => p.params) };
}

function alloc(kind: ColumnKind, n: number): ColumnValues {
  const b = VALUE_BYTES[kind];
  return b === 8 ? new Float64Array(n) : b === 4 ? new Int32Array(n) : new Uint8Array(n);
}

/** Dictionaries of category columns: value list (code = index) and hash key -> code. */
export interface Dictionary {
  values: string[];
  byHash: Map<number, number>;
}

const hashKey = (hi: number, lo: number) => hi * 4294967296 + lo;

export async function loadDictionary(store: Store, table: string, column: string): Promise<Dictionary> {
  const c = `CAST(${quoteIdent(column)} AS VARCHAR)`;
  const rows = await store.all<{ v: string; hi: number; lo: number }>(
    `SELECT ${c} AS v, CAST(hash(${c}) >> 32 AS UINTEGER) AS hi, CAST(hash(${c}) & 4294967295 AS UINTEGER) AS lo ` +
      `FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} IS NOT NULL GROUP BY ALL ORDER BY v`,
  );
  const byHash = new Map<number, number>();
  rows.forEach((r, i) => {
    const k = hashKey(Number(r.hi), Number(r.lo));
    if (byHash.has(k)) throw new KernelUnsupportedError(`two values of ${column} share a 53-bit hash key`);
    byHash.set(k, i);
  });
  return { values: rows.map((r) => r.v), byHash };
}

/** Copy `n` validity bits from src (bit 0 = row 0) to dst starting at bit `at`. */
function copyBits(dst: Uint32Array, at: number, src: Uint32Array | null, n: number): void {
  if (!src) {
    for (let i = 0; i < n; i++) dst[(at + i) >>> 5] = dst[(at + i) >>> 5]! | (1 << ((at + i) & 31));
    return;
  }
  if ((at & 31) === 0) {
    const words = n >>> 5;
    const o = at >>> 5;
    for (let w = 0; w < words; w++) dst[o + w] = src[w]!;
    for (let i = words << 5; i < n; i++) if ((src[i >>> 5]! >>> (i & 31)) & 1) dst[(at + i) >>> 5] = dst[(at + i) >>> 5]! | (1 << ((at + i) & 31));
    return;
  }
  for (let i = 0; i < n; i++) if ((src[i >>> 5]! >>> (i & 31)) & 1) dst[(at + i) >>> 5] = dst[(at + i) >>> 5]! | (1 << ((at + i) & 31));
}

/** Fills 65,536-row blocks from DuckDB chunks of any size. */
class BlockBuilder {
  private values: ColumnValues[] = [];
  private valid: Uint32Array[] = [];
  private at = 0;
  /** `reuse`: a block's arrays are filled again after the next push (its consumer is done with it by then). */
  constructor(
    private readonly specs: readonly ColumnSpec[],
    private readonly dicts: ReadonlyMap<string, Dictionary>,
    private readonly reuse = false,
    /** Rows per block (fewer for a small table: less to allocate). */
    private readonly cap = BLOCK_ROWS,
  ) {
    this.fresh();
  }
  private fresh(): void {
    if (this.reuse && this.values.length) {
      for (const v of this.valid) v.fill(0);
    } else {
      this.values = this.specs.map((s) => alloc(s.kind, this.cap));
      this.valid = this.specs.map(() => new Uint32Array(Math.ceil(this.cap / 32)));
    }
    this.at = 0;
  }
  /** Append a chunk; returns the blocks it completed. */
  push(chunk: ColumnChunk, onBlock: (b: Block) => void): void {
    let from = 0;
    while (from < chunk.rows) {
      const n = Math.min(chunk.rows - from, this.cap - this.at);
      this.specs.forEach((s, c) => this.copy(s, c, chunk.columns[c]!, from, n));
      this.at += n;
      from += n;
      if (this.at === this.cap) this.take(onBlock);
    }
  }
  private copy(s: ColumnSpec, c: number, col: ColumnChunk['columns'][number], from: number, n: number): void {
    const dst = this.values[c]!;
    const at = this.at;
    const src = col.values;
    const d = s.kind === 'category' ? this.dicts.get(s.column)! : null;
    if (d && d.values.length <= CASE_CODES) {
      const codes = src as Int32Array;
      (dst as Int32Array).set(codes.subarray(from, from + n), at);
      const valid = col.valid;
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if (codes[r] === -2 && (!valid || (valid[r >>> 5]! >>> (r & 31)) & 1))
          throw new KernelUnsupportedError(`a value of ${s.column} is missing from its dictionary (the table changed while it was read?)`);
      }
    } else if (d) {
      const u = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >>> 2);
      const valid = col.valid;
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if (valid && !((valid[r >>> 5]! >>> (r & 31)) & 1)) {
          dst[at + i] = -1;
          continue;
        }
        const code = d.byHash.get(hashKey(u[2 * r + 1]!, u[2 * r]!));
        if (code === undefined)
          throw new KernelUnsupportedError(`a value of ${s.column} is missing from its dictionary (the table changed while it was read?)`);
        dst[at + i] = code;
      }
    } else if (s.kind === 'number' || s.kind === 'time') {
      const f = dst as Float64Array;
      f.set((src as Float64Array).subarray(from, from + n), at);
      // NaN compares above every number in DuckDB; so does +Infinity against a finite literal
      if (s.kind === 'number') for (let i = at; i < at + n; i++) if (f[i] !== f[i]) f[i] = Infinity;
    } else if (s.kind === 'day') (dst as Int32Array).set((src as Int32Array).subarray(from, from + n), at);
    else (dst as Uint8Array).set((src as Uint8Array).subarray(from, from + n), at);
    if (from === 0 || !col.valid) copyBits(this.valid[c]!, at, col.valid, n);
    else {
      // a chunk split across blocks: shift its validity to the chunk's row `from`
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if ((col.valid[r >>> 5]! >>> (r & 31)) & 1) this.valid[c]![(at + i) >>> 5] = this.valid[c]![(at + i) >>> 5]! | (1 << ((at + i) & 31));
      }
    }
  }
  /** Hand the filled block (if any) to `onBlock`, then start the next one. */
  take(onBlock: (b: Block) => void): void {
    if (this.at === 0) return;
    const rows = this.at;
    const cols: ColumnData[] = this.specs.map((s, c) => {
      const values = rows === this.cap ? this.values[c]! : this.values[c]!.slice(0, rows);
      const words = Math.ceil(rows / 32);
      const v = this.valid[c]!.subarray(0, words);
      return { values, valid: allSet(v, rows) ? null : rows === this.cap ? v : v.slice() };
    });
    onBlock({ rows, cols });
    this.fresh();
  }
}

function allSet(v: Uint32Array, rows: number): boolean {
  const full = rows >>> 5;
  for (let w = 0; w < full; w++) if (v[w] !== -1 >>> 0) return false;
  const rest = rows & 31;
  return rest === 0 || (v[full]! & ((1 << rest) - 1)) === (1 << rest) - 1;
}

/** Stream `specs` of `table` (rows matching `where`) as blocks. */
export async function* streamBlocks(
  store: Store,
  table: string,
  specs: readonly ColumnSpec[],
  dicts: ReadonlyMap<string, Dictionary>,
  where = 'TRUE',
  params: readonly Param[] = [],
  orderBy = '',
  rows = BLOCK_ROWS,
): AsyncGenerator<Block> {
  const list = selectList(specs, dicts);
  const sql = `SELECT ${list.sql} FROM ${quoteIdent(table)} WHERE ${where}${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
  const b = new BlockBuilder(specs, dicts, false, Math.min(BLOCK_ROWS, Math.max(32, Math.ceil(rows / 32) * 32)));
  const out: Block[] = [];
  for await (const chunk of store.columnChunks(sql, [...list.params, ...params])) {
    b.push(chunk, (block) => out.push(block));
    yield* out.splice(0);
  }
  b.take((block) => out.push(block));
  yield* out;
}

// ---------------------------------------------------------------- the on-disk cache

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

/** DuckDB's memory limit while the cache is built. */
const BUILD_MEMORY = '64MB';

/** Set DuckDB's memory limit to `to` (evicting cached blocks above it); returns the limit before, or null if DuckDB refused. */
async function lowerMemoryLimit(store: Store, to: string): Promise<string | null> {
  const limit = (await store.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))?.v ?? null;
  try {
    await store.run(`SET memory_limit = ${sqlString(to)}`);
    return limit;
  } catch {
    return null;
  }
}

async function restoreMemoryLimit(store: Store, limit: string | null): Promise<void> {
  if (limit) await store.run(`SET memory_limit = ${sqlString(limit)}`);
}

/**
 * Drop the table blocks DuckDB holds in its buffer pool (a window's row count, a fingerprint scan:
 * up to hundreds of MB at 10M+ rows), which a run from the column cache never reads: the memory
 * limit is lowered, which evicts them, and put back.
 */
export async function releaseBufferPool(store: Store): Promise<void> {
  await restoreMemoryLimit(store, await lowerMemoryLimit(store, BUILD_MEMORY));
}

/** The table's rows did not come out in rowid order: read again with ORDER BY rowid. */
class OrderError extends Error {}

/**
 * The table's data fingerprint: row count, columns and types, and the size and modification time
 * of the database file and its WAL, which every committed write changes (a checkpoint may change
 * them without a data change: that only costs a rebuild). A few milliseconds; DuckDB's
 * `pragma_storage_info` measured 0.5 s at 10M rows. `hash: true` adds a hash aggregate over
 * every row (a full scan) for callers that want the content itself checked.
 */
export async function dataFingerprint(store: Store, table: string, opts: { hash?: boolean } = {}): Promise<string> {
  const t = quoteIdent(table);
  const n = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
  const cols = await store.describe(`SELECT * FROM ${t}`);
  const files = [store.path, `${store.path}.wal`].map((f) => {
    try {
      const st = statSync(f);
      return [st.size, st.mtimeMs];
    } catch {
      return null;
    }
  });
  // A temporary view shadowing the table (the labels overlay, src/labels/apply.ts) changes what
  // the table reads without touching the file: its definition and the temp tables it reads count.
  const shadow = await store.all<{ sql: string }>('SELECT sql FROM duckdb_views() WHERE temporary AND view_name = $1', [table]);
  const overlay: unknown[] = shadow.map((v) => v.sql);
  if (shadow.length) {
    const temps = await store.all<{ name: string }>('SELECT table_name AS name FROM duckdb_tables() WHERE temporary ORDER BY table_name');
    for (const { name } of temps.filter((x) => shadow.some((v) => v.sql.includes(x.name)))) {
      const q = quoteIdent(name);
      overlay.push(await store.one(`SELECT count(*) AS n, CAST(bit_xor(hash(${q})) AS VARCHAR) AS h FROM temp.main.${q}`));
    }
  }
  const h = createHash('sha256').update(JSON.stringify({ n: n?.n, cols, files, overlay }));
  if (opts.hash) {
    // one hash per row over every column (a struct of the row), folded order-independently
    const r = await store.one(`SELECT CAST(bit_xor(hash(${t})) AS VARCHAR) AS h, CAST(sum(hash(${t}) % 1000003) AS VARCHAR) AS s FROM ${t}`);
    h.update(`${String(r?.['h'])}:${String(r?.['s'])}`);
  }
  return h.digest('hex').slice(0, 32);
}

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
    const dicts = new Map<string, Dictionary>();
    for (const s of todo) if (s.kind === 'category') dicts.set(s.column, await loadDictionary(store, this.table, s.column));
    const files = todo.map((s) => {
      const base = join(this.dir, fileName(s.key));
      return { base, tmp: `${base}.${process.pid}.tmp`, vtmp: `${base}.${process.pid}.valid.tmp` };
    });
    let res: { rows: number; nulls: number[]; subs: Sub[] };
    // progress: rows read and written of the table's rows
    const total = onProgress ? ((await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(this.table)}`))?.n ?? null) : null;
    const tick = onProgress ? (rows: number) => onProgress(rows, total === null ? null : Number(total), 'rows') : undefined;
    // DuckDB keeps the blocks it scans in its buffer pool (up to its memory limit: hundreds of MB
    // for one pass over a 10M-row table); capped while the cache is written, then restored
    const limit = await lowerMemoryLimit(store, BUILD_MEMORY);
    try {
      res = await this.write(store, todo, dicts, files, rowid ? 'check' : 'none', time, tick);
    } catch (e) {
      if (!(e instanceof OrderError)) throw e;
      res = await this.write(store, todo, dicts, files, 'sort', time, tick);
    } finally {
      await restoreMemoryLimit(store, limit);
    }
    const { rows, nulls, subs } = res;
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

/** One sub-block of the cache files: first row, rows, first validity word, time range (null: no time). */
type Sub = [start: number, rows: number, wstart: number, lo: number | null, hi: number | null];

/** Rows of one sub-block (one day's rows, at most): a multiple of 128, BLOCK_ROWS a multiple of it. */
export const SUB_ROWS = 8192;
/** Open day buckets at most; past that all are written out (partial sub-blocks: smaller kernel blocks). */
const MAX_OPEN = 48;

interface Bucket {
  n: number;
  values: ColumnValues[];
  valid: Uint32Array[];
}

/** Rows appended by day, written out as sub-blocks of one day. */
class DayBuckets {
  private readonly open = new Map<number, Bucket>();
  private readonly pool: Bucket[] = [];
  readonly subs: Sub[] = [];
  readonly nulls: number[];
  rows = 0;
  private words = 0;
  constructor(
    private readonly specs: readonly ColumnSpec[],
    private readonly fds: readonly (readonly [number, number])[],
    private readonly timeAt: number,
  ) {
    this.nulls = specs.map(() => 0);
  }
  /** Append a block whose rows are grouped by day (`day`: the day column, NULL last). */
  append(b: Block, day: ColumnData): void {
    const key = (i: number) => (!day.valid || (day.valid[i >>> 5]! >>> (i & 31)) & 1 ? day.values[i]! : Infinity);
    let a = 0;
    while (a < b.rows) {
      const d = key(a);
      let e = a + 1;
      while (e < b.rows && key(e) === d) e++;
      this.add(d, b, a, e);
      a = e;
    }
  }
  private add(d: number, b: Block, from: number, to: number): void {
    while (from < to) {
      let bk = this.open.get(d);
      if (!bk) {
        if (this.open.size >= MAX_OPEN) this.flushAll();
        bk = this.pool.pop() ?? { n: 0, values: this.specs.map((s) => alloc(s.kind, SUB_ROWS)), valid: this.specs.map(() => new Uint32Array(SUB_ROWS / 32)) };
        this.open.set(d, bk);
      }
      const n = Math.min(to - from, SUB_ROWS - bk.n);
      const at = bk.n;
      b.cols.forEach((c, i) => {
        const dst = bk.values[i]!;
        if (dst instanceof Float64Array) dst.set((c.values as Float64Array).subarray(from, from + n), at);
        else if (dst instanceof Int32Array) dst.set((c.values as Int32Array).subarray(from, from + n), at);
        else dst.set((c.values as Uint8Array).subarray(from, from + n), at);
        copyBitsFrom(bk.valid[i]!, at, c.valid, from, n);
      });
      bk.n += n;
      from += n;
      if (bk.n === SUB_ROWS) {
        this.flush(bk);
        this.open.delete(d);
      }
    }
  }
  private flush(bk: Bucket): void {
    const n = bk.n;
    const words = Math.ceil(n / 32);
    this.specs.forEach((_, i) => {
      const [fv, fn] = this.fds[i]!;
      const v = bk.values[i]!;
      writeSync(fv, new Uint8Array(v.buffer, v.byteOffset, n * v.BYTES_PER_ELEMENT));
      writeSync(fn, new Uint8Array(bk.valid[i]!.buffer, 0, words * 4));
      this.nulls[i]! += n - countBits(bk.valid[i]!, n);
    });
    const z = this.timeAt >= 0 ? zoneOf({ values: bk.values[this.timeAt]!, valid: bk.valid[this.timeAt]! }, n) : null;
    this.subs.push([this.rows, n, this.words, z?.[0] ?? null, z?.[1] ?? null]);
    this.rows += n;
    this.words += words;
    bk.n = 0;
    for (const v of bk.valid) v.fill(0);
    this.pool.push(bk);
  }
  private flushAll(): void {
    for (const d of [...this.open.keys()].sort((x, y) => x - y)) this.flush(this.open.get(d)!);
    this.open.clear();
  }
  finish(): void {
    this.flushAll();
  }
}

/** Copy `n` validity bits of src from bit `from` (all set when src is null) to dst from bit `at`. */
function copyBitsFrom(dst: Uint32Array, at: number, src: Uint32Array | null, from: number, n: number): void {
  if (!src) {
    let i = at;
    const end = at + n;
    while (i < end && i & 31) dst[i >>> 5] = dst[i >>> 5]! | (1 << (i++ & 31));
    while (i + 32 <= end) {
      dst[i >>> 5] = -1 >>> 0;
      i += 32;
    }
    while (i < end) dst[i >>> 5] = dst[i >>> 5]! | (1 << (i++ & 31));
    return;
  }
  let j = 0;
  // bit by bit until dst is word-aligned, then 32 bits at a time (dst words are still zero here)
  for (; j < n && (at + j) & 31; j++) {
    const r = from + j;
    if ((src[r >>> 5]! >>> (r & 31)) & 1) dst[(at + j) >>> 5] = dst[(at + j) >>> 5]! | (1 << ((at + j) & 31));
  }
  for (; j + 32 <= n; j += 32) {
    const r = from + j;
    const sh = r & 31;
    const w = r >>> 5;
    dst[(at + j) >>> 5] = sh ? (src[w]! >>> sh) | (src[w + 1]! << (32 - sh)) : src[w]!;
  }
  for (; j < n; j++) {
    const r = from + j;
    if ((src[r >>> 5]! >>> (r & 31)) & 1) dst[(at + j) >>> 5] = dst[(at + j) >>> 5]! | (1 << ((at + j) & 31));
  }
}

/** The rows of a block grouped by day (NULL last), stable; null when they already are. */
function dayOrder(c: ColumnData, rows: number): Int32Array | null {
  const v = c.values;
  const ok = (i: number) => !c.valid || ((c.valid[i >>> 5]! >>> (i & 31)) & 1) === 1;
  let lo = Infinity;
  let hi = -Infinity;
  let sorted = true;
  let prev = -Infinity;
  for (let i = 0; i < rows; i++) {
    const d = ok(i) ? v[i]! : Infinity;
    if (d < prev) sorted = false;
    prev = d;
    if (d !== Infinity) {
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
  }
  if (sorted) return null;
  const perm = new Int32Array(rows);
  if (hi - lo > 1_000_000) {
    const key = (i: number) => (ok(i) ? v[i]! : Infinity);
    const idx = Array.from({ length: rows }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
    perm.set(idx);
    return perm;
  }
  const slots = hi - lo + 2;
  const at = new Int32Array(slots + 1);
  const slot = (i: number) => (ok(i) ? v[i]! - lo : slots - 1);
  for (let i = 0; i < rows; i++) at[slot(i) + 1]!++;
  for (let k = 1; k <= slots; k++) at[k]! += at[k - 1]!;
  for (let i = 0; i < rows; i++) perm[at[slot(i)]!++] = i;
  return perm;
}

/** Column `c` with its rows in the order `perm`, in the scratch arrays of `into` (reused block after block). */
function permute(c: ColumnData, perm: Int32Array, rows: number, into: Map<string, ColumnValues | Uint32Array>, i: number): ColumnData {
  const src = c.values;
  const scratch = <T>(key: string, make: () => T): T => {
    if (!into.has(key)) into.set(key, make() as ColumnValues);
    return into.get(key) as T;
  };
  const values = scratch(`v${i}`, () => new (src.constructor as new (n: number) => ColumnValues)(BLOCK_ROWS)).subarray(0, rows);
  // one loop per array type: each stays monomorphic
  if (src instanceof Float64Array) gather64(values as Float64Array, src, perm, rows);
  else if (src instanceof Int32Array) gather32(values as Int32Array, src, perm, rows);
  else gather8(values as Uint8Array, src, perm, rows);
  if (!c.valid) return { values, valid: null };
  const from = c.valid;
  const valid = scratch(`n${i}`, () => new Uint32Array(BLOCK_ROWS / 32)).subarray(0, Math.ceil(rows / 32));
  valid.fill(0);
  for (let j = 0; j < rows; j++) {
    const i = perm[j]!;
    if ((from[i >>> 5]! >>> (i & 31)) & 1) valid[j >>> 5] = valid[j >>> 5]! | (1 << (j & 31));
  }
  return { values, valid };
}

function gather64(dst: Float64Array, src: Float64Array, perm: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[j] = src[perm[j]!]!;
}
function gather32(dst: Int32Array, src: Int32Array, perm: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[j] = src[perm[j]!]!;
}
function gather8(dst: Uint8Array, src: Uint8Array, perm: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[j] = src[perm[j]!]!;
}

function zoneOf(c: ColumnData, rows: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  const v = c.values;
  for (let i = 0; i < rows; i++) {
    if (c.valid && !((c.valid[i >>> 5]! >>> (i & 31)) & 1)) continue;
    const x = v[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : null;
}

function countBits(v: Uint32Array, rows: number): number {
  let n = 0;
  const full = rows >>> 5;
  for (let w = 0; w < full; w++) n += pc(v[w]!);
  for (let i = full << 5; i < rows; i++) n += (v[i >>> 5]! >>> (i & 31)) & 1;
  return n;
}
