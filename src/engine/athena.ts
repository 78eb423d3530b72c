/**
 * Amazon Athena (Trino) through @aws-sdk/client-athena, loaded only when this engine is used;
 * credentials from the AWS default chain. A statement is StartQueryExecution with its values as
 * ExecutionParameters (each a Trino literal, escaped here: the statement text only ever holds
 * `?`), GetQueryExecution polled with backoff until it ends or the timeout stops it, and
 * GetQueryResults paged. Ctrl-C stops the running query (StopQueryExecution). Bytes scanned are
 * recorded per statement and priced at the list price; `maxScanBytes` stops a run that would
 * read more.
 */
import '../llm/sdk-env.js';
import type { AthenaClient as AthenaClientType } from '@aws-sdk/client-athena';
import type { Param, Row } from '../db/store.js';
import { ansiString } from '../compile/dialects.js';
import { sqlTimestamp } from '../db/window.js';
import { ExternalError, InputError } from '../errors.js';
import { statementHash, Usage, type ColumnInfo, type Engine, type EngineInfo } from './types.js';

export interface AthenaOptions {
  workgroup?: string;
  database: string;
  /** Data catalog (default AwsDataCatalog). */
  catalog?: string;
  /** s3://bucket/prefix/ for results; default: the workgroup's. */
  output_location?: string;
  region?: string;
  /** Stop (and fail) when the run's statements together have scanned more than this. */
  maxScanBytes?: number;
  /** A statement running longer than this is stopped (default 30 minutes). */
  timeoutMs?: number;
  /** Polling: first wait, growth factor, longest wait (default 250 ms, x1.6, 5 s). */
  poll?: { firstMs: number; factor: number; maxMs: number };
  /** USD per TB (2^40 bytes) scanned; default 5, Athena's list price. */
  pricePerTb?: number;
  /** Rows per GetQueryResults page (at most 1000). */
  pageRows?: number;
}

/** Athena bills at least 10 MB per query. */
export const ATHENA_MIN_BYTES = 10 * 2 ** 20;
export const ATHENA_PRICE_PER_TB = 5;
const TB = 2 ** 40;

/** A bound value as the Trino literal Athena substitutes for its `?` (ExecutionParameters are literal text). */
export function athenaLiteral(p: Param): string {
  if (p === null) return 'NULL';
  if (typeof p === 'boolean') return p ? 'true' : 'false';
  if (typeof p === 'bigint') return p.toString();
  if (typeof p === 'number') {
    if (!Number.isFinite(p)) throw new Error(`cannot bind a non-finite number ${p} on Athena`);
    // Trino reads 1e+21 as a DOUBLE and 1.5 as a DECIMAL; both cast exactly to the DOUBLE of the statement
    return String(p);
  }
  if (p instanceof Date) return ansiString(sqlTimestamp(p));
  return ansiString(p);
}

function duckTypeOfTrino(t: string): string {
  const base = t.toLowerCase().replace(/\(.*$/, '').trim();
  const m: Record<string, string> = {
    tinyint: 'TINYINT',
    smallint: 'SMALLINT',
    integer: 'INTEGER',
    int: 'INTEGER',
    bigint: 'BIGINT',
    real: 'FLOAT',
    float: 'FLOAT',
    double: 'DOUBLE',
    decimal: 'DECIMAL',
    boolean: 'BOOLEAN',
    varchar: 'VARCHAR',
    char: 'VARCHAR',
    string: 'VARCHAR',
    timestamp: 'TIMESTAMP',
    date: 'DATE',
  };
  return m[base] ?? base.toUpperCase();
}

function convert(v: string | undefined, type: string): Row[string] {
  if (v === undefined) return null;
  const t = type.toLowerCase().replace(/\(.*$/, '');
  switch (t) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint': {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : BigInt(v);
    }
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(v);
    case 'boolean':
      return v === 'true';
    case 'timestamp':
      return new Date(`${v.replace(' ', 'T')}Z`);
    default:
      return v;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Athena's error text -> exit 2 when an object is missing (configuration), else 3. */
function failure(target: string, id: string, reason: string, errorType?: number): Error {
  const where = `athena ${target}`;
  if (/TABLE_NOT_FOUND|COLUMN_NOT_FOUND|SCHEMA_NOT_FOUND|does not exist|cannot be resolved/i.test(reason)) {
    return InputError.single({
      message: `${where}: query ${id} failed: ${reason}`,
      where: { field: 'data' },
      expected: 'the table and columns of rulegen.yaml data: and features.yaml in the Athena database',
      found: reason,
    });
  }
  return new ExternalError(`${where}: query ${id} failed${errorType !== undefined ? ` (error type ${errorType})` : ''}: ${reason}`);
}

export class AthenaEngine implements Engine {
  readonly kind = 'athena' as const;
  readonly dialect = 'trino' as const;
  readonly target: string;
  private readonly usage: Usage;
  private readonly running = new Set<string>();
  private cancelled = false;
  private constructor(
    private readonly sdk: typeof import('@aws-sdk/client-athena'),
    private readonly client: AthenaClientType,
    private readonly opts: AthenaOptions,
  ) {
    this.target = `workgroup ${opts.workgroup ?? 'primary'}, database ${opts.database}${opts.region ? `, ${opts.region}` : ''}`;
    this.usage = new Usage((opts.pricePerTb ?? ATHENA_PRICE_PER_TB) / TB, ATHENA_MIN_BYTES);
  }

  static async connect(opts: AthenaOptions): Promise<AthenaEngine> {
    if (!opts.database)
      throw InputError.single({
        message: 'engine.database is required for athena',
        where: { field: 'engine.database' },
        expected: 'the Glue/Athena database that holds the sessions table',
        found: 'nothing',
      });
    const sdk = await import('@aws-sdk/client-athena');
    const client = new sdk.AthenaClient({ ...(opts.region ? { region: opts.region } : {}) });
    return new AthenaEngine(sdk, client, opts);
  }

  private scanned(): number {
    return this.usage.statements.reduce((a, s) => a + (s.bytes_scanned ?? 0), 0);
  }

  /** Start a statement, wait for it to end, return its id. */
  private async execute(sql: string, params: readonly Param[]): Promise<string> {
    if (this.cancelled) throw new ExternalError(`athena ${this.target}: cancelled`);
    const max = this.opts.maxScanBytes;
    if (max !== undefined && this.scanned() >= max)
      throw new ExternalError(
        `athena ${this.target}: the run has scanned ${gb(this.scanned())} GB, the --max-scan-gb limit is ${gb(max)} GB; not starting another query`,
      );
    const { StartQueryExecutionCommand, GetQueryExecutionCommand, StopQueryExecutionCommand } = this.sdk;
    const t0 = performance.now();
    let id: string;
    try {
      const started = await this.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          QueryExecutionContext: { Database: this.opts.database, ...(this.opts.catalog ? { Catalog: this.opts.catalog } : {}) },
          ...(this.opts.workgroup ? { WorkGroup: this.opts.workgroup } : {}),
          ...(this.opts.output_location ? { ResultConfiguration: { OutputLocation: this.opts.output_location } } : {}),
          ...(params.length ? { ExecutionParameters: params.map(athenaLiteral) } : {}),
        }),
      );
      id = started.QueryExecutionId!;
    } catch (e) {
      throw new ExternalError(`athena ${this.target}: StartQueryExecution failed: ${(e as Error).message}`);
    }
    this.running.add(id);
    const poll = this.opts.poll ?? { firstMs: 250, factor: 1.6, maxMs: 5000 };
    const timeout = this.opts.timeoutMs ?? 30 * 60_000;
    let wait = poll.firstMs;
    let bytes = 0;
    try {
      for (;;) {
        if (performance.now() - t0 > timeout) {
          await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
          throw new ExternalError(`athena ${this.target}: query ${id} still running after ${Math.round(timeout / 1000)} s: stopped`);
        }
        await sleep(wait);
        wait = Math.min(poll.maxMs, wait * poll.factor);
        let q;
        try {
          q = (await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
        } catch (e) {
          throw new ExternalError(`athena ${this.target}: GetQueryExecution ${id} failed: ${(e as Error).message}`);
        }
        bytes = Number(q?.Statistics?.DataScannedInBytes ?? bytes);
        const state = q?.Status?.State;
        if (max !== undefined && this.scanned() + bytes > max && state !== 'SUCCEEDED') {
          await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
          this.usage.record({ hash: statementHash(sql, params), ms: performance.now() - t0, bytes_scanned: bytes, id });
          throw new ExternalError(
            `athena ${this.target}: query ${id} stopped after scanning ${gb(bytes)} GB: the run would read more than --max-scan-gb ${gb(max)}`,
          );
        }
        if (state === 'SUCCEEDED') break;
        if (state === 'FAILED')
          throw failure(
            this.target,
            id,
            q?.Status?.StateChangeReason ?? q?.Status?.AthenaError?.ErrorMessage ?? 'no reason given',
            q?.Status?.AthenaError?.ErrorType,
          );
        if (state === 'CANCELLED')
          throw new ExternalError(
            `athena ${this.target}: query ${id} was ` +
              `cancelled${this.cancelled ? ' (Ctrl-C)' : ''}${q?.Status?.StateChangeReason ? `: ${q.Status.StateChangeReason}` : ''}`,
          );
      }
    } finally {
      this.running.delete(id);
    }
    this.usage.record({ hash: statementHash(sql, params), ms: performance.now() - t0, bytes_scanned: bytes, id });
    return id;
  }

  private async *pages(id: string): AsyncGenerator<Row[]> {
    const { GetQueryResultsCommand } = this.sdk;
    let token: string | undefined;
    let first = true;
    let columns: { name: string; type: string }[] = [];
    do {
      let page;
      try {
        page = await this.client.send(
          new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: this.opts.pageRows ?? 1000, ...(token ? { NextToken: token } : {}) }),
        );
      } catch (e) {
        throw new ExternalError(`athena ${this.target}: GetQueryResults ${id} failed: ${(e as Error).message}`);
      }
      if (first) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({ name: c.Name ?? c.Label ?? '', type: c.Type ?? 'varchar' }));
      // the first row of the first page repeats the column names
      const raw = (page.ResultSet?.Rows ?? []).slice(first ? 1 : 0);
      first = false;
      yield raw.map((r) => {
        const o: Row = {};
        columns.forEach((c, i) => (o[c.name] = convert(r.Data?.[i]?.VarCharValue, c.type)));
        return o;
      });
      token = page.NextToken;
    } while (token);
  }

  async all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    const out: Row[] = [];
    for await (const rows of this.stream(sql, params)) out.push(...rows);
    return out as T[];
  }
  async one<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async *stream<T extends Row = Row>(sql: string, params: readonly Param[] = []): AsyncGenerator<T[]> {
    const id = await this.execute(sql, params);
    for await (const rows of this.pages(id)) yield rows as T[];
  }
  async run(sql: string, params: readonly Param[] = []): Promise<void> {
    await this.execute(sql, params);
  }

  async columns(table: string): Promise<ColumnInfo[] | null> {
    const rows = await this.all<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
      [this.opts.database, table],
    );
    return rows.length ? rows.map((r) => ({ name: r.column_name, type: duckTypeOfTrino(r.data_type) })) : null;
  }

  /** Stop every running query (Ctrl-C); the statements waiting on them fail as cancelled. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    const { StopQueryExecutionCommand } = this.sdk;
    await Promise.all([...this.running].map((id) => this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined)));
  }

  info(): EngineInfo {
    return this.usage.info('athena', 'trino', this.target);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(3);
