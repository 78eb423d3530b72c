/**
 * The store: the only module that imports @duckdb/node-api. Everything else talks to DuckDB
 * through `Store`, which keeps three promises: extensions are never auto-installed (the
 * machine may be offline), every value reaches SQL as a bound parameter, and results are
 * either small (aggregates, read at once) or streamed chunk by chunk.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, JSDuckDBValueConverter, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { ExternalError } from '../errors.js';

/** A value that can be bound as a parameter. */
export type Param = string | number | boolean | null | bigint | Date;
/** A plain JS value as returned from the store (BIGINT counts come back as numbers when safe). */
export type Value = string | number | boolean | null | bigint | Date | Value[] | { [k: string]: Value };
export type Row = Record<string, Value>;

export interface StoreOptions {
  /** DuckDB memory limit, e.g. '4GB'. Default: DuckDB's (80% of RAM). */
  memoryLimit?: string;
  threads?: number;
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

/** Quote an identifier for DuckDB/PostgreSQL (double quotes, doubled inside). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote a string literal for DuckDB; only for values that cannot be bound (e.g. COPY paths). */
export function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export class Store {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    /** Path of the database file, or ':memory:'. */
    readonly path: string,
  ) {}

  static async open(path: string = ':memory:', opts: StoreOptions = {}): Promise<Store> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const options: Record<string, string> = {
      // Never reach the network for an extension: parquet, json and icu are built in.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'true',
    };
    if (opts.memoryLimit) options['memory_limit'] = opts.memoryLimit;
    if (opts.threads) options['threads'] = String(opts.threads);
    try {
      const instance = await DuckDBInstance.create(path, options);
      const conn = await instance.connect();
      return new Store(instance, conn, path);
    } catch (e) {
      throw new ExternalError(`cannot open the database ${path}: ${(e as Error).message}`);
    }
  }

  /** Run a statement for its effect. */
  async run(sql: string, params: readonly Param[] = []): Promise<number> {
    const r = await this.conn.run(sql, params.length ? params.map(toDuckValue) : undefined);
    return r.rowsChanged;
  }

  /** Read a small result (aggregates) at once, as row objects. */
  async all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql, params.length ? params.map(toDuckValue) : undefined);
    return reader.getRowObjectsJS().map((r) => normaliseValue(r) as T);
  }

  /** The first row of a small result, or undefined. */
  async one<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Stream a result chunk by chunk (each chunk up to 2048 rows), never holding it whole. */
  async *stream<T extends Row = Row>(sql: string, params: readonly Param[] = []): AsyncGenerator<T[]> {
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
  }

  /** Column names and DuckDB type names of a query's result, without running it over data. */
  async describe(sql: string, params: readonly Param[] = []): Promise<{ name: string; type: string }[]> {
    const rows = await this.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`, params);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  async tableExists(table: string): Promise<boolean> {
    const r = await this.one<{ n: number }>(
      `select count(*) as n from information_schema.tables where table_schema = 'main' and table_name = ?`,
      [table],
    );
    return (r?.n ?? 0) > 0;
  }

  /**
   * Run `fn` in a transaction: all of it is stored, or none of it. DuckDB's DDL is
   * transactional, so a failed ingest leaves the table exactly as it was.
   */
  async transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
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
      this.instance.closeSync();
    }
  }
}
