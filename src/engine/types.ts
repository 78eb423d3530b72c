/**
 * The engine interface: where the one-scan statements run. The embedded DuckDB store is one
 * engine; PostgreSQL (and its wire-compatible warehouses) and Amazon Athena are others. Each
 * module under src/engine/ owns its driver and loads it only when used. Only aggregates come
 * back: the statements group on the engine and return counts.
 */
import { createHash } from 'node:crypto';
import type { Param, Row } from '../db/store.js';
import type { EngineDialect } from './plan.js';

export const ENGINE_KINDS = ['duckdb', 'postgres', 'athena'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** One statement as it was run: its hash (sha256 of the text and the parameters), time and what it read. */
export interface StatementRecord {
  hash: string;
  ms: number;
  /** Bytes the engine says it scanned (Athena); null where the engine does not say. */
  bytes_scanned: number | null;
  /** Engine-side id (Athena's QueryExecutionId). */
  id?: string;
}

/** What a result says about where it came from: carried by backtest and rank results run on an engine. */
export interface EngineInfo {
  kind: EngineKind;
  /** Where, without secrets: "postgres://host:5432/db", "athena workgroup primary, database logs". */
  target: string;
  dialect: EngineDialect;
  /** sha256 over the hashes of every statement run, in order: the same statements give the same hash. */
  statement_hash: string;
  statements: StatementRecord[];
  bytes_scanned: number | null;
  /** At the engine's list price (Athena: USD 5 per TB scanned, 10 MB minimum per query); null where free or unknown. */
  cost_usd: number | null;
}

/** A column as the engine reports it, its type named the DuckDB way (BIGINT, DOUBLE, VARCHAR, BOOLEAN, TIMESTAMP...). */
export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * Run statements whose values are bound `?` parameters (never pasted into the text), in the
 * engine's `dialect` (see plan.ts). `all` reads a small result (aggregates) at once; `stream`
 * yields it in pages. `cancel` stops what is running (Ctrl-C); the statement then fails with
 * an ExternalError.
 */
export interface Engine {
  readonly kind: EngineKind;
  readonly dialect: EngineDialect;
  readonly target: string;
  all<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  one<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  stream<T extends Row = Row>(sql: string, params?: readonly Param[]): AsyncGenerator<T[]>;
  /** Run for effect (session-local temp tables on engines that have them). */
  run(sql: string, params?: readonly Param[]): Promise<unknown>;
  /** The table's columns, or null when there is no such table. */
  columns(table: string): Promise<ColumnInfo[] | null>;
  cancel(): Promise<void>;
  /** Statements run so far, bytes scanned and cost. */
  info(): EngineInfo;
  close(): Promise<void>;
}

export function statementHash(sql: string, params: readonly Param[]): string {
  const p = params.map((v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Date ? v.toISOString() : v));
  return createHash('sha256').update(sql).update('\0').update(JSON.stringify(p)).digest('hex');
}

/** Keeps the statement records of one engine and turns them into an EngineInfo. */
export class Usage {
  readonly statements: StatementRecord[] = [];
  constructor(
    private readonly costPerByte: number | null = null,
    private readonly minBytes = 0,
  ) {}
  record(r: StatementRecord): void {
    this.statements.push(r);
  }
  info(kind: EngineKind, dialect: EngineDialect, target: string): EngineInfo {
    const known = this.statements.filter((s) => s.bytes_scanned !== null);
    const bytes = known.length ? known.reduce((a, s) => a + s.bytes_scanned!, 0) : null;
    const cost =
      this.costPerByte === null || !known.length ? null : known.reduce((a, s) => a + Math.max(this.minBytes, s.bytes_scanned!) * this.costPerByte!, 0);
    const all = createHash('sha256');
    for (const s of this.statements) all.update(s.hash);
    return { kind, target, dialect, statement_hash: all.digest('hex'), statements: [...this.statements], bytes_scanned: bytes, cost_usd: cost };
  }
}
