/**
 * PostgreSQL (and its wire-compatible warehouses: Aurora, Citus, Redshift's PostgreSQL
 * protocol) through the `pg` driver, loaded only when this engine is used. The password comes
 * from PGPASSWORD or ~/.pgpass, never from rulegen.yaml; host, port, database and user from the
 * configured url, else from the usual PG* environment variables.
 *
 * Values are bound as $1..$n (the `?` of the plan renumbered); counts come back as numbers
 * (BIGINT and NUMERIC sums are exact below 2^53) and TIMESTAMPs as UTC instants, so that rows
 * read the same as the embedded store's.
 */
import type { Param, Row, Value } from '../db/store.js';
import { ExternalError, InputError } from '../errors.js';
import { dollarPlaceholders } from './plan.js';
import { statementHash, Usage, type ColumnInfo, type Engine, type EngineInfo } from './types.js';

/** The part of `pg` used here (typed loosely: the driver is loaded lazily). */
type PgModule = typeof import('pg');
type PgClient = import('pg').Client;

export interface PostgresOptions {
  /** postgres://user@host:port/db; the password must not be in it. Default: PG* environment variables. */
  url?: string;
  /** Environment for PGPASSWORD and the PG* defaults (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Rows per FETCH when streaming. */
  pageRows?: number;
}

const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const DATE = 1082;
const FLOAT4 = 700;

function exactNumber(s: string | null): number | bigint | string | null {
  if (s === null) return null;
  const n = Number(s);
  if (Number.isSafeInteger(n) || (!Number.isInteger(n) && Number.isFinite(n))) return n;
  return /^-?\d+$/.test(s) ? BigInt(s) : n;
}

/** Map a PostgreSQL type name (information_schema data_type) to the DuckDB name rank and backtest check against. */
export function duckTypeOfPg(t: string): string {
  const m: Record<string, string> = {
    smallint: 'SMALLINT',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    real: 'FLOAT',
    'double precision': 'DOUBLE',
    numeric: 'DECIMAL',
    boolean: 'BOOLEAN',
    text: 'VARCHAR',
    'character varying': 'VARCHAR',
    character: 'VARCHAR',
    'timestamp without time zone': 'TIMESTAMP',
    'timestamp with time zone': 'TIMESTAMP WITH TIME ZONE',
    date: 'DATE',
  };
  return m[t] ?? t.toUpperCase();
}

/** postgres://user:secret@host/db -> postgres://user@host/db (for messages and results). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(an unparsable url)';
  }
}

export class PostgresEngine implements Engine {
  readonly kind = 'postgres' as const;
  readonly dialect = 'postgres' as const;
  private readonly usage = new Usage();
  private cursorSeq = 0;
  private cancelled = false;
  private constructor(
    private readonly pg: PgModule,
    private readonly client: PgClient,
    private readonly config: import('pg').ClientConfig,
    readonly target: string,
  ) {}

  static async connect(opts: PostgresOptions = {}): Promise<PostgresEngine> {
    const env = opts.env ?? process.env;
    if (opts.url) {
      let u: URL;
      try {
        u = new URL(opts.url);
      } catch {
        throw InputError.single({
          message: 'engine.url is not a URL',
          where: { field: 'engine.url' },
          expected: 'postgres://user@host:5432/database',
          found: redactUrl(opts.url),
        });
      }
      if (u.password)
        throw InputError.single({
          message: 'engine.url carries a password',
          where: { field: 'engine.url' },
          expected: 'no password in rulegen.yaml: set PGPASSWORD or use ~/.pgpass',
          found: redactUrl(opts.url),
        });
    }
    const mod = await import('pg');
    const pg = ((mod as unknown as { default?: PgModule }).default ?? mod) as PgModule;
    const types = {
      getTypeParser: (oid: number, format?: string) => {
        if (oid === INT8 || oid === NUMERIC) return exactNumber;
        if (oid === FLOAT4) return (s: string) => Number(s);
        // TIMESTAMP is a UTC instant throughout rulegen (as DuckDB reads it), never local time
        if (oid === TIMESTAMP) return (s: string) => new Date(`${s.replace(' ', 'T')}Z`);
        if (oid === TIMESTAMPTZ) return (s: string) => new Date(s);
        if (oid === DATE) return (s: string) => s;
        return pg.types.getTypeParser(oid, format as 'text');
      },
    };
    const base: import('pg').ClientConfig = { ...(opts.url ? { connectionString: opts.url } : {}), application_name: 'rulegen', types: types as never };
    const target = opts.url
      ? redactUrl(opts.url)
      : `postgres://${env['PGUSER'] ?? ''}${env['PGUSER'] ? '@' : ''}${env['PGHOST'] ?? 'localhost'}:${env['PGPORT'] ?? '5432'}/${env['PGDATABASE'] ?? ''}`;
    // The password: PGPASSWORD, else ~/.pgpass (through pg's own pgpass reader); never the file.
    const password = async (params: unknown) => {
      if (env['PGPASSWORD'] !== undefined) return env['PGPASSWORD'];
      const mod = (await import('pgpass' as string)) as { default?: (p: unknown, cb: (pw?: string) => void) => void };
      const lookup = mod.default ?? (mod as unknown as (p: unknown, cb: (pw?: string) => void) => void);
      return new Promise<string>((res) => lookup(params, (pw) => res(pw ?? '')));
    };
    const config: import('pg').ClientConfig = { ...base, password: password as unknown as () => Promise<string> };
    const client = new pg.Client(config);
    client.on('error', () => undefined); // a dropped connection surfaces on the next query
    try {
      await client.connect();
    } catch (e) {
      throw describePgError(e, target, 'connecting');
    }
    return new PostgresEngine(pg, client, config, target);
  }

  private async query(sql: string, params: readonly Param[]): Promise<Row[]> {
    const { sql: text } = dollarPlaceholders(sql);
    const values = params.map((p) => (p instanceof Date ? p.toISOString() : typeof p === 'bigint' ? p.toString() : p));
    const t0 = performance.now();
    try {
      const r = await this.client.query(text, values);
      this.usage.record({ hash: statementHash(sql, params), ms: performance.now() - t0, bytes_scanned: null });
      return (r.rows ?? []) as Row[];
    } catch (e) {
      throw describePgError(e, this.target, undefined, this.cancelled);
    }
  }

  all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.query(sql, params) as Promise<T[]>;
  }
  async one<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async run(sql: string, params: readonly Param[] = []): Promise<void> {
    await this.query(sql, params);
  }

  /** A server-side cursor in a transaction, FETCHed page by page. */
  async *stream<T extends Row = Row>(sql: string, params: readonly Param[] = []): AsyncGenerator<T[]> {
    const name = `rulegen_cursor_${++this.cursorSeq}`;
    await this.query('BEGIN', []);
    try {
      await this.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
      for (;;) {
        const rows = await this.query(`FETCH 2048 FROM ${name}`, []);
        if (!rows.length) break;
        yield rows as T[];
      }
      await this.query(`CLOSE ${name}`, []);
    } finally {
      await this.client.query('COMMIT').catch(() => undefined);
    }
  }

  async columns(table: string): Promise<ColumnInfo[] | null> {
    const rows = await this.all<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
      [table],
    );
    return rows.length ? rows.map((r) => ({ name: r.column_name, type: duckTypeOfPg(r.data_type) })) : null;
  }

  /** Cancel the running statement from a second connection (pg_cancel_backend). */
  async cancel(): Promise<void> {
    this.cancelled = true;
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (!pid) return;
    const other = new this.pg.Client(this.config);
    other.on('error', () => undefined);
    try {
      await other.connect();
      await other.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await other.end().catch(() => undefined);
    }
  }

  info(): EngineInfo {
    return this.usage.info('postgres', 'postgres', this.target);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

/**
 * PostgreSQL's error -> exit code: a missing table or column is a configuration problem (2),
 * naming the object; everything else (unreachable, credentials, a failing or cancelled
 * statement) is external (3), with the server's message.
 */
export function describePgError(e: unknown, target: string, doing?: string, cancelled = false): Error {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const where = `postgres ${target}`;
  if (err.code === '42P01' || err.code === '42703' || err.code === '3F000') {
    return InputError.single({
      message: `${where}: ${msg}`,
      where: { field: 'data' },
      expected: 'the table and columns of rulegen.yaml data: and features.yaml on the engine',
      found: msg,
    });
  }
  if (err.code === '57014') return new ExternalError(`${where}: the statement was cancelled${cancelled ? ' (Ctrl-C)' : ''}: ${msg}`);
  if (err.code === '28P01' || err.code === '28000')
    return new ExternalError(`${where}: authentication failed: ${msg} (the password comes from PGPASSWORD or ~/.pgpass)`);
  return new ExternalError(`${where}: ${doing ? `${doing} failed: ` : ''}${msg || (err.code ?? 'unknown error')}`);
}

export type { Value };
