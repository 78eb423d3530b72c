/** The embedded engine: the workspace's DuckDB store behind the engine interface. */
import { quoteIdent, type Param, type Row, type Store } from '../db/store.js';
import { statementHash, Usage, type ColumnInfo, type Engine, type EngineInfo } from './types.js';

export class DuckDbEngine implements Engine {
  readonly kind = 'duckdb' as const;
  readonly dialect = 'duckdb' as const;
  private readonly usage = new Usage();
  constructor(readonly store: Store) {}
  get target(): string {
    return this.store.path;
  }
  private async timed<T>(sql: string, params: readonly Param[], fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await fn();
    this.usage.record({ hash: statementHash(sql, params), ms: performance.now() - t0, bytes_scanned: null });
    return out;
  }
  all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.timed(sql, params, () => this.store.all<T>(sql, params));
  }
  async one<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  stream<T extends Row = Row>(sql: string, params: readonly Param[] = []): AsyncGenerator<T[]> {
    this.usage.record({ hash: statementHash(sql, params), ms: 0, bytes_scanned: null });
    return this.store.stream<T>(sql, params);
  }
  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.timed(sql, params, () => this.store.run(sql, params));
  }
  async columns(table: string): Promise<ColumnInfo[] | null> {
    if (!(await this.store.tableExists(table))) return null;
    return this.store.describe(`SELECT * FROM ${quoteIdent(table)}`);
  }
  async cancel(): Promise<void> {
    // DuckDB runs in-process: Ctrl-C ends the process, and the statement with it.
  }
  info(): EngineInfo {
    return this.usage.info('duckdb', 'duckdb', this.target);
  }
  async close(): Promise<void> {
    // The store belongs to the caller, who closes it.
  }
}
