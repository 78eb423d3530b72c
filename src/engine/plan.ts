/**
 * The dialect plan: the few SQL spellings that differ between the engines that execute
 * rulegen's one-scan statements, and — in one table, `CAPABILITIES` — what a dialect lacks and
 * what the plan does instead. The statements themselves (backtest/engine.ts, rank/queries.ts)
 * are written once against this plan; no other module branches on the dialect.
 *
 * Every value is a bound parameter written `?` in the statement text. Each engine renders the
 * placeholders its own way when it executes (DuckDB `?`, PostgreSQL `$1..$n`, Athena `?` with
 * ExecutionParameters), so a statement and its parameters are built the same way everywhere.
 */
import { quoteIdent } from '../db/store.js';

/** The dialects that rulegen executes (the `spark` export is text only). */
export const ENGINE_DIALECTS = ['duckdb', 'postgres', 'trino'] as const;
export type EngineDialect = (typeof ENGINE_DIALECTS)[number];

/** What one dialect can do, and what the plan does where it cannot. */
export interface Capabilities {
  /**
   * `GROUP BY GROUPING SETS` with `grouping()`; else every row is replicated once per set with
   * `CROSS JOIN UNNEST(ARRAY[0..n])` and grouped by the set's number (one scan either way).
   */
  groupingSets: 'native' | 'unnest';
  /** A session-local table for the per-row hit bitmasks (one scan for breakdowns and overlap); else the overlap is one more scan. */
  tempTables: boolean;
  /** A boolean casts straight to DOUBLE; else through INTEGER. */
  boolToDouble: boolean;
}

/**
 * One table for what differs. `trino`'s GROUPING SETS and bit functions exist in Trino itself
 * (as `bitwise_left_shift`), but the generated statements are checked against a real Trino
 * grammar (node-sql-parser) that lacks GROUPING SETS; the UNNEST form is also plain Trino.
 */
export const CAPABILITIES: Readonly<Record<EngineDialect, Capabilities>> = Object.freeze({
  duckdb: { groupingSets: 'native', tempTables: true, boolToDouble: true },
  // PostgreSQL has temp tables, but the mask table is kept for the embedded engine, where it was
  // measured (bench/backtest.mjs); on PostgreSQL the overlap is a second scan.
  postgres: { groupingSets: 'native', tempTables: false, boolToDouble: false },
  trino: { groupingSets: 'unnest', tempTables: false, boolToDouble: true },
});

/** Type names per dialect, for casts. */
const TYPES: Readonly<Record<EngineDialect, Readonly<Record<'double' | 'text' | 'bigint' | 'integer' | 'timestamp' | 'date', string>>>> = {
  duckdb: { double: 'DOUBLE', text: 'VARCHAR', bigint: 'BIGINT', integer: 'INTEGER', timestamp: 'TIMESTAMP', date: 'DATE' },
  postgres: { double: 'double precision', text: 'text', bigint: 'bigint', integer: 'integer', timestamp: 'timestamp', date: 'date' },
  trino: { double: 'DOUBLE', text: 'VARCHAR', bigint: 'BIGINT', integer: 'INTEGER', timestamp: 'TIMESTAMP', date: 'DATE' },
};

export type SqlType = keyof (typeof TYPES)['duckdb'];

/** The spellings of one dialect. */
export interface SqlPlan {
  readonly dialect: EngineDialect;
  readonly can: Capabilities;
  ident(name: string): string;
  cast(expr: string, type: SqlType): string;
  /** The calendar day (UTC for a TIMESTAMP) of a timestamp column. */
  day(column: string): string;
  /** A `?` placeholder read as the given type. */
  param(type: SqlType): string;
  /** A number or boolean column as DOUBLE (booleans as 0/1). */
  asDouble(expr: string, isBoolean: boolean): string;
}

function plan(dialect: EngineDialect): SqlPlan {
  const t = TYPES[dialect];
  const can = CAPABILITIES[dialect];
  const cast = (e: string, type: SqlType) => `CAST(${e} AS ${t[type]})`;
  return Object.freeze({
    dialect,
    can,
    ident: quoteIdent, // all three quote identifiers with double quotes
    cast,
    day: (c: string) => cast(`date_trunc('day', ${c})`, 'date'),
    param: (type: SqlType) => cast('?', type),
    asDouble: (e: string, isBoolean: boolean) => (isBoolean && !can.boolToDouble ? cast(cast(e, 'integer'), 'double') : cast(e, 'double')),
  });
}

export const PLANS: Readonly<Record<EngineDialect, SqlPlan>> = Object.freeze({ duckdb: plan('duckdb'), postgres: plan('postgres'), trino: plan('trino') });

/**
 * Number the `?` placeholders of a statement `$1, $2, ...` (PostgreSQL). Quoted identifiers,
 * string literals and comments are skipped, so a `?` inside them is left as it is.
 */
export function dollarPlaceholders(sql: string): { sql: string; count: number } {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? sql.length : j;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const j = sql.indexOf('*/', i + 2);
      const end = j < 0 ? sql.length : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, count: n };
}

/** Count the `?` placeholders outside quotes and comments. */
export function countPlaceholders(sql: string): number {
  return dollarPlaceholders(sql).count;
}
