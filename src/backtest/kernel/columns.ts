/**
 * Columns for the kernel: streamed from DuckDB as typed arrays (Store.columnChunks, never one
 * JS value per row) into 65,536-row blocks, and cached per workspace as raw little-endian files
 * (one values file and one validity file per column) under `.rulegen/cache/kernel/`, invalidated
 * by the table's data fingerprint. Only the columns a run needs are read; a later run that needs
 * more columns adds them to the cache. Memory stays bounded: one block per column in flight.
 *
 * Encodings: numbers float64 (`CAST(... AS DOUBLE)`, DuckDB's own cast for a comparison with a
 * DOUBLE parameter; NaN stored as +Infinity, which every comparison with a finite literal treats
 * as DuckDB treats NaN — greater than any number); booleans 0/1; categories and segments int32
 * dictionary codes of `CAST(... AS VARCHAR)` (the dictionary from one GROUP BY, rows matched to it
 * by DuckDB's 64-bit `hash`); the label 0 human / 1 bot / 2 NULL / 3 other; time as epoch
 * microseconds (float64, exact); day as days since 1970-01-01 of `date_trunc('day', time)`.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, type ColumnChunk, type Param, type Store } from '../../db/store.js';
import { writeFileAtomic } from '../../fsutil.js';
import { BLOCK_ROWS, type Block, type ColumnData, type ColumnValues } from './compute.js';
import { KernelUnsupportedError, type ColumnKind, type ColumnSpec } from './plan.js';

const CACHE_VERSION = 1;

/** SQL of one column in the streaming statement (the table's time column for `time` and `day`). */
function selectExpr(spec: ColumnSpec): string {
  const c = quoteIdent(spec.column);
  switch (spec.kind) {
    case 'number':
      return `CAST(${c} AS DOUBLE)`;
    case 'boolean':
      return `CAST(CAST(${c} AS BOOLEAN) AS UTINYINT)`;
    case 'category':
      return `CASE WHEN ${c} IS NULL THEN NULL ELSE hash(CAST(${c} AS VARCHAR)) END`;
    case 'label':
      return `CAST(CASE WHEN ${c} IS NULL THEN 2 WHEN ${c} = 1 THEN 1 WHEN ${c} = 0 THEN 0 ELSE 3 END AS UTINYINT)`;
    case 'time':
      return `CAST(epoch_us(${c}) AS DOUBLE)`;
    case 'day':
      return `CAST(CAST(date_trunc('day', ${c}) AS DATE) - DATE '1970-01-01' AS INTEGER)`;
  }
}

const BYTES: Record<ColumnKind, 1 | 4 | 8> = { number: 8, boolean: 1, category: 4, label: 1, time: 8, day: 4 };

function alloc(kind: ColumnKind, n: number): ColumnValues {
  const b = BYTES[kind];
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
    `SELECT ${c} AS v, CAST(hash(${c}) >> 32 AS UINTEGER) AS hi, CAST(hash(${c}) & 4294967295 AS UINTEGER) AS lo FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} IS NOT NULL GROUP BY ALL ORDER BY v`,
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
  constructor(
    private readonly specs: readonly ColumnSpec[],
    private readonly dicts: ReadonlyMap<string, Dictionary>,
  ) {
    this.fresh();
  }
  private fresh(): void {
    this.values = this.specs.map((s) => alloc(s.kind, BLOCK_ROWS));
    this.valid = this.specs.map(() => new Uint32Array(BLOCK_ROWS / 32));
    this.at = 0;
  }
  /** Append a chunk; returns the blocks it completed. */
  push(chunk: ColumnChunk): Block[] {
    const out: Block[] = [];
    let from = 0;
    while (from < chunk.rows) {
      const n = Math.min(chunk.rows - from, BLOCK_ROWS - this.at);
      this.specs.forEach((s, c) => this.copy(s, c, chunk.columns[c]!, from, n));
      this.at += n;
      from += n;
      if (this.at === BLOCK_ROWS) out.push(this.take()!);
    }
    return out;
  }
  private copy(s: ColumnSpec, c: number, col: ColumnChunk['columns'][number], from: number, n: number): void {
    const dst = this.values[c]!;
    const at = this.at;
    const src = col.values;
    if (s.kind === 'category') {
      const u = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >>> 2);
      const d = this.dicts.get(s.column)!;
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
    } else {
      const typed = src as ColumnValues;
      for (let i = 0; i < n; i++) dst[at + i] = typed[from + i]!;
      // NaN compares above every number in DuckDB; so does +Infinity against a finite literal
      if (s.kind === 'number') for (let i = 0; i < n; i++) if (dst[at + i] !== dst[at + i]) dst[at + i] = Infinity;
    }
    if (from === 0 || !col.valid) copyBits(this.valid[c]!, at, col.valid, n);
    else {
      // a chunk split across blocks: shift its validity to the chunk's row `from`
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if ((col.valid[r >>> 5]! >>> (r & 31)) & 1) this.valid[c]![(at + i) >>> 5] = this.valid[c]![(at + i) >>> 5]! | (1 << ((at + i) & 31));
      }
    }
  }
  /** The partly filled block, if any. */
  take(): Block | undefined {
    if (this.at === 0) return undefined;
    const rows = this.at;
    const cols: ColumnData[] = this.specs.map((s, c) => {
      const values = rows === BLOCK_ROWS ? this.values[c]! : this.values[c]!.slice(0, rows);
      const words = Math.ceil(rows / 32);
      const v = this.valid[c]!.subarray(0, words);
      return { values, valid: allSet(v, rows) ? null : rows === BLOCK_ROWS ? v : v.slice() };
    });
    this.fresh();
    return { rows, cols };
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
): AsyncGenerator<Block> {
  const sql = `SELECT ${specs.map(selectExpr).join(', ')} FROM ${quoteIdent(table)} WHERE ${where}${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
  const b = new BlockBuilder(specs, dicts);
  for await (const chunk of store.columnChunks(sql, params)) for (const block of b.push(chunk)) yield block;
  const last = b.take();
  if (last) yield last;
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
  order: string;
  columns: Record<string, CachedColumn>;
}

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
  const h = createHash('sha256').update(JSON.stringify({ n: n?.n, cols, files }));
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
      rmSync(dir, { recursive: true, force: true });
      meta = { version: CACHE_VERSION, fingerprint, table, rows: 0, order: '', columns: {} };
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
   * Add the missing `specs` by one streaming statement in the cache's row order (time column,
   * then rowid: a total order, so columns added later line up with those cached before).
   */
  async build(store: Store, specs: readonly ColumnSpec[], order: string): Promise<{ rows: number; ms: number }> {
    const t0 = performance.now();
    const missing = specs.filter((s) => !this.has(s.key));
    if (!missing.length) return { rows: this.meta.rows, ms: 0 };
    if (this.meta.order && this.meta.order !== order) throw new KernelUnsupportedError('cache order changed');
    mkdirSync(this.dir, { recursive: true });
    const dicts = new Map<string, Dictionary>();
    for (const s of missing) if (s.kind === 'category') dicts.set(s.column, await loadDictionary(store, this.table, s.column));
    const files = missing.map((s) => {
      const base = join(this.dir, fileName(s.key));
      return { base, tmp: `${base}.${process.pid}.tmp`, vtmp: `${base}.${process.pid}.valid.tmp` };
    });
    const fds = files.map((f) => [openSync(f.tmp, 'w'), openSync(f.vtmp, 'w')] as const);
    const nulls = missing.map(() => 0);
    let rows = 0;
    try {
      for await (const block of streamBlocks(store, this.table, missing, dicts, 'TRUE', [], order)) {
        block.cols.forEach((c, i) => {
          const [fv, fn] = fds[i]!;
          writeSync(fv, new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength));
          const words = Math.ceil(block.rows / 32);
          const valid = c.valid ?? new Uint32Array(words).fill(-1 >>> 0);
          if (c.valid) nulls[i]! += block.rows - countBits(c.valid, block.rows);
          writeSync(fn, new Uint8Array(valid.buffer, valid.byteOffset, words * 4));
        });
        rows += block.rows;
      }
    } finally {
      for (const [a, b] of fds) {
        closeSync(a);
        closeSync(b);
      }
    }
    if (Object.keys(this.meta.columns).length && rows !== this.meta.rows) throw new KernelUnsupportedError('the table changed while the cache was built');
    missing.forEach((s, i) => {
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
    this.meta.rows = rows;
    this.meta.order = order;
    writeFileAtomic(join(this.dir, 'meta.json'), JSON.stringify(this.meta));
    return { rows, ms: performance.now() - t0 };
  }

  /**
   * Read the cached `specs` block by block (each block freshly allocated: it may be transferred to
   * a worker). With `skip`, a block whose first and last values of the `skip.key` column (the
   * time column: the cache is in time order) show that no row can be wanted is not read at all.
   */
  *blocks(specs: readonly ColumnSpec[], skip?: { key: string; wanted: (first: number, last: number) => boolean }): Generator<Block> {
    const sk = skip ? this.meta.columns[skip.key] : undefined;
    const skipFd = sk && sk.nulls === 0 && this.meta.order ? openSync(join(this.dir, `${sk.file}.v`), 'r') : -1;
    const edge = new Float64Array(1);
    const cols = specs.map((s) => {
      const c = this.meta.columns[s.key];
      if (!c) throw new Error(`column ${s.key} is not cached`);
      return { s, c, fv: openSync(join(this.dir, `${c.file}.v`), 'r'), fn: c.nulls ? openSync(join(this.dir, `${c.file}.n`), 'r') : -1 };
    });
    try {
      for (let start = 0; start < this.meta.rows; start += BLOCK_ROWS) {
        const rows = Math.min(BLOCK_ROWS, this.meta.rows - start);
        if (skipFd >= 0) {
          readFully(skipFd, new Uint8Array(edge.buffer), start * 8);
          const first = edge[0]!;
          readFully(skipFd, new Uint8Array(edge.buffer), (start + rows - 1) * 8);
          if (!skip!.wanted(first, edge[0]!)) continue;
        }
        const block: Block = {
          rows,
          cols: cols.map(({ s, c, fv, fn }) => {
            const values = alloc(s.kind, rows);
            const bytes = BYTES[s.kind];
            readFully(fv, new Uint8Array(values.buffer), start * bytes);
            let valid: Uint32Array | null = null;
            if (c.nulls) {
              valid = new Uint32Array(Math.ceil(rows / 32));
              readFully(fn, new Uint8Array(valid.buffer), (start / 32) * 4);
            }
            return { values, valid };
          }),
        };
        yield block;
      }
    } finally {
      if (skipFd >= 0) closeSync(skipFd);
      for (const c of cols) {
        closeSync(c.fv);
        if (c.fn >= 0) closeSync(c.fn);
      }
    }
  }
}

function readFully(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new Error('column cache file is truncated');
    off += n;
  }
}

function countBits(v: Uint32Array, rows: number): number {
  let n = 0;
  for (let i = 0; i < rows; i++) n += (v[i >>> 5]! >>> (i & 31)) & 1;
  return n;
}
