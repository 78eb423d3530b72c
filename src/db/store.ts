/**
 * The store: the only module that imports @duckdb/node-api. Everything else talks to DuckDB
 * through `Store`, which keeps three promises: extensions are never auto-installed (the
 * machine may be offline), every value reaches SQL as a bound parameter, and results are
 * either small (aggregates, read at once) or streamed chunk by chunk.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, JSDuckDBValueConverter, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { ExternalError } from '../errors.js';
import type { OnProgress } from '../progress.js';
import { quoteString } from './quote.js';

/** A value that can be bound as a parameter. */
export type Param = string | number | boolean | null | bigint | Date;
/** A plain JS value as returned from the store (BIGINT counts come back as numbers when safe). */
export type Value = string | number | boolean | null | bigint | Date | Value[] | { [k: string]: Value };
export type Row = Record<string, Value>;

export interface StoreOptions {
  /** DuckDB memory limit, e.g. '4GB'. Default: DuckDB's (80% of RAM). */
  memoryLimit?: string;
  threads?: number;
  /**
   * Open with DuckDB's `access_mode = READ_ONLY`: any number of read-only stores may share a
   * file, where a writer excludes everyone else. A file that does not exist yet reads as an
   * empty database (nothing is created on disk).
   */
  readOnly?: boolean;
  /** Called once after close(), e.g. to release the workspace lock. */
  onClose?: () => void;
}

/** One chunk of `Store.columnChunks`: views into DuckDB's memory, valid until the next chunk. */
export interface ColumnChunk {
  rows: number;
  columns: { values: Exclude<ArrayBufferView, DataView>; valid: Uint32Array | null }[];
}

/** Options of one statement. */
export interface RunOptions {
  /**
   * Told how many rows the statement's scans have processed, polled from DuckDB's query
   * progress every `progressMs`. Sources without progress (e.g. `range()`) report nothing.
   */
  onProgress?: OnProgress;
  progressMs?: number;
}

/** Another process holds the database file (DuckDB's file lock); `holderPid` as DuckDB reports it. */
export class DatabaseBusyError extends ExternalError {
  constructor(
    readonly path: string,
    readonly holderPid: number | undefined,
    detail: string,
  ) {
    super(`the database ${path} is in use by another process${holderPid !== undefined ? ` (pid ${holderPid})` : ''}: ${detail}`);
  }
}

/** DuckDB's message when another process holds the file: "Could not set lock on file ... (PID 123)". */
export function lockConflictPid(message: string): { pid: number | undefined } | undefined {
  if (!/Could not set lock on file|Conflicting lock is held/i.test(message)) return undefined;
  const m = /\(PID (\d+)\)/.exec(message);
  return { pid: m ? Number(m[1]) : undefined };
}

function toDuckValue(p: Param): DuckDBValue {
  if (p instanceof Date) return p.toISOString();
  return p as DuckDBValue;
}

/** BigInt -> number where it is exact; everything else unchanged. */
export function normaliseValue(v: unknown): Value {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  if (Array.isArray(v)) return v.map(normaliseValue);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const o: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) o[k] = normaliseValue(x);
    return o;
  }
  return v as Value;
}

// Quoting lives in a driver-free leaf module (the compiler uses it too); values that can be bound are.
export { quoteIdent, quoteString } from './quote.js';

/** '64MB', '1GB', '512KiB' as bytes (DuckDB's units: decimal KB/MB/GB/TB, binary KiB/MiB/GiB/TiB). */
export function parseBytes(size: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(size);
  if (!m) throw new Error(`not a memory size: ${size}`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const pow = 'BKMGT'.indexOf(unit[0]!);
  return Number(m[1]) * (unit.includes('I') ? 1024 : 1000) ** pow;
}

export class Store {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    /** Path of the database file, or ':memory:'. */
    readonly path: string,
    readonly readOnly: boolean,
    private readonly onClose?: () => void,
    /** The memory limit the store was opened with (null: DuckDB's default), which withMemoryLimit returns to. */
    private readonly memoryLimit: string | null = null,
  ) {}

  /** The memory limit withMemoryLimit returns to (see there). */
  private baseLimit: string | null | undefined;

  /**
   * Whether a streamed result is being read. DuckDB invalidates a connection's pending result
   * when another statement starts on it, and the stream then ends early without an error (2,048
   * of 100,000 rows read; two of the inducer's counters reading at once gave other counts): such
   * a statement is refused instead.
   */
  private streaming = false;

  /** Throws when a streamed result is still being read on this connection (see `streaming`). */
  private idle(what: string): void {
    if (this.streaming)
      throw new Error(`Store: ${what} while a streamed result is still being read on the same connection (read it to the end, or break out of it, first)`);
  }

  static async open(path: string = ':memory:', opts: StoreOptions = {}): Promise<Store> {
    const readOnly = opts.readOnly ?? false;
    // DuckDB refuses to open a missing file read-only; an empty in-memory database answers
    // every read the same way (no tables) without creating the file behind the writer's back.
    const target = readOnly && path !== ':memory:' && !existsSync(path) ? ':memory:' : path;
    if (target !== ':memory:' && !readOnly) mkdirSync(dirname(target), { recursive: true });
    const options: Record<string, string> = {
      // Never reach the network for an extension: parquet, json and icu are built in.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'true',
    };
    if (opts.memoryLimit) options['memory_limit'] = opts.memoryLimit;
    if (opts.threads) options['threads'] = String(opts.threads);
    if (readOnly && target !== ':memory:') options['access_mode'] = 'READ_ONLY';
    try {
      const instance = await DuckDBInstance.create(target, options);
      const conn = await instance.connect();
      return new Store(instance, conn, path, readOnly, opts.onClose, opts.memoryLimit ?? null);
    } catch (e) {
      const message = (e as Error).message;
      const conflict = lockConflictPid(message);
      if (conflict) throw new DatabaseBusyError(path, conflict.pid, message);
      throw new ExternalError(`cannot open the database ${path}: ${message}`);
    }
  }

  /**
   * Run `fn` with DuckDB's memory limit lowered to `limit` (evicting what its buffer pool holds
   * above it), then return to the limit the store was opened with. For scans whose blocks nobody
   * reads again (a window's bounds, the kernel's column cache build): at 50M rows one pass over a
   * column fills the pool with hundreds of MB the process then keeps. An in-memory database keeps
   * its tables in that pool, so it is left alone.
   */
  async withMemoryLimit<T>(limit: string, fn: () => Promise<T>): Promise<T> {
    if (this.path === ':memory:') return fn();
    this.baseLimit ??= this.memoryLimit ?? (await this.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))?.v ?? null;
    const base = this.baseLimit;
    if (base === null) return fn();
    // what DuckDB cannot drop from memory (temporary tables, hash tables: a read-only database has
    // nowhere to spill them) stays: the limit is `limit` above it, never below it
    const held = await this.one<{ b: bigint | number | null }>(`SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory() WHERE tag <> 'BASE_TABLE'`).catch(
      () => undefined,
    );
    const bytes = Math.ceil(parseBytes(limit) + Number(held?.b ?? 0));
    const lowered = await this.run(`SET memory_limit = ${quoteString(`${bytes}B`)}`).then(
      () => true,
      () => false,
    );
    try {
      return await fn();
    } finally {
      // back to the limit the store was opened with (DuckDB prints its setting rounded, '953.6 MiB'
      // for 1GB: read back and set again at every call it would drift), or DuckDB's default as read
      // before the first call. Not RESET: it leaves the buffer pool at the lowered size (DuckDB 1.4).
      if (lowered) await this.run(`SET memory_limit = ${quoteString(base)}`);
    }
  }

  /** Run a statement for its effect. */
  async run(sql: string, params: readonly Param[] = [], opts: RunOptions = {}): Promise<number> {
    this.idle('a statement');
    const values = params.length ? params.map(toDuckValue) : undefined;
    if (!opts.onProgress) return (await this.conn.run(sql, values)).rowsChanged;
    return this.withProgress(opts.onProgress, opts.progressMs ?? 100, async () => (await this.conn.run(sql, values)).rowsChanged);
  }

  /**
   * Poll DuckDB's query progress while `fn` runs. Tracking is switched on only for this
   * statement (it costs a little), and its printing stays off: the CLI draws its own line.
   */
  private async withProgress<T>(onProgress: OnProgress, everyMs: number, fn: () => Promise<T>): Promise<T> {
    await this.conn.run('SET enable_progress_bar = true');
    await this.conn.run('SET enable_progress_bar_print = false');
    await this.conn.run('SET progress_bar_time = 0');
    let last = -1;
    const timer = setInterval(() => {
      const p = this.conn.progress;
      const done = Number(p.rows_processed);
      const total = Number(p.total_rows_to_process);
      if (done > last && done > 0) {
        last = done;
        onProgress(done, total > 0 ? total : null, 'rows');
      }
    }, everyMs);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      await this.conn.run('RESET enable_progress_bar').catch(() => undefined);
    }
  }

  /** Read a small result (aggregates) at once, as row objects. */
  async all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    this.idle('a query');
    const reader = await this.conn.runAndReadAll(sql, params.length ? params.map(toDuckValue) : undefined);
    return reader.getRowObjectsJS().map((r) => normaliseValue(r) as T);
  }

  /** The first row of a small result, or undefined. */
  async one<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Stream a result chunk by chunk (each chunk up to 2048 rows), never holding it whole. */
  async *stream<T extends Row = Row>(sql: string, params: readonly Param[] = []): AsyncGenerator<T[]> {
    this.idle('a streamed query');
    this.streaming = true;
    try {
      const result = await this.conn.stream(sql, params.length ? params.map(toDuckValue) : undefined);
      const names = result.deduplicatedColumnNames();
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) return;
        const rows = chunk.convertRows(JSDuckDBValueConverter);
        yield rows.map((r) => {
          const o: Row = {};
          names.forEach((n, i) => (o[n] = normaliseValue(r[i])));
          return o as T;
        });
      }
    } finally {
      this.streaming = false;
    }
  }

  /**
   * Stream a result as typed columns, chunk by chunk, for the backtest kernel: each column's
   * fixed-width values exactly as DuckDB holds them (a DOUBLE column is a Float64Array, UBIGINT a
   * BigUint64Array, INTEGER an Int32Array, UTINYINT a Uint8Array ...) and its validity bitmap as
   * 32-bit words (bit i of word i >> 5 set = row i is not NULL; `null` when no row is NULL).
   * No value becomes a JS object. The arrays are views into DuckDB's chunk: valid only until the
   * generator is resumed, so callers copy what they keep. A column without fixed-width values
   * (VARCHAR, LIST, ...) is refused: cast or hash it in the statement.
   */
  async *columnChunks(sql: string, params: readonly Param[] = []): AsyncGenerator<ColumnChunk> {
    this.idle('a streamed query');
    this.streaming = true;
    try {
      yield* this.chunksOf(await this.conn.stream(sql, params.length ? params.map(toDuckValue) : undefined));
    } finally {
      this.streaming = false;
    }
  }

  private async *chunksOf(result: Awaited<ReturnType<DuckDBConnection['stream']>>): AsyncGenerator<ColumnChunk> {
    const n = result.columnCount;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      const columns: ColumnChunk['columns'] = [];
      for (let c = 0; c < n; c++) {
        // The typed vectors keep their values and validity in (TypeScript-private) typed arrays:
        // reading them avoids one JS value per row, which was the bottleneck (issue 13).
        const v = chunk.getColumnVector(c) as unknown as { items?: unknown; validity?: { data?: BigUint64Array | null } };
        const items = v.items;
        if (!ArrayBuffer.isView(items) || items instanceof DataView)
          throw new Error(`columnChunks: column ${c} of type ${result.columnType(c).toString()} has no fixed-width values`);
        const bits = v.validity?.data ?? null;
        const valid = bits ? new Uint32Array(bits.buffer, bits.byteOffset, Math.ceil(chunk.rowCount / 32)) : null;
        columns.push({ values: items, valid });
      }
      yield { rows: chunk.rowCount, columns };
    }
  }

  /** Column names and DuckDB type names of a query's result, without running it over data. */
  async describe(sql: string, params: readonly Param[] = []): Promise<{ name: string; type: string }[]> {
    const rows = await this.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`, params);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  async tableExists(table: string): Promise<boolean> {
    const r = await this.one<{ n: number }>(`select count(*) as n from information_schema.tables where table_schema = 'main' and table_name = ?`, [table]);
    return (r?.n ?? 0) > 0;
  }

  /**
   * Run `fn` in a transaction: all of it is stored, or none of it. DuckDB's DDL is
   * transactional, so a failed ingest leaves the table exactly as it was.
   */
  async transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    this.idle('a transaction');
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn(this);
      await this.conn.run('COMMIT');
      return out;
    } catch (e) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Append rows (column arrays) through DuckDB's appender, used for Arrow IPC batches. */
  async appendColumns(table: string, columns: readonly (readonly Param[])[], rowCount: number): Promise<void> {
    this.idle('an append');
    const app = await this.conn.createAppender(table);
    try {
      for (let i = 0; i < rowCount; i++) {
        for (const col of columns) {
          const v = col[i];
          if (v === null || v === undefined) app.appendNull();
          else if (typeof v === 'number') app.appendDouble(v);
          else if (typeof v === 'bigint') app.appendBigInt(v);
          else if (typeof v === 'boolean') app.appendBoolean(v);
          else if (v instanceof Date) app.appendVarchar(v.toISOString());
          else app.appendVarchar(v);
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
  }

  close(): void {
    try {
      this.conn.closeSync();
    } finally {
      try {
        this.instance.closeSync();
      } finally {
        this.onClose?.();
      }
    }
  }
}
