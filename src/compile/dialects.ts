/**
 * Per-dialect tokens: how an identifier is quoted and how a literal reaches the SQL. DuckDB
 * binds every literal as a positional parameter with an explicit cast; the text exports
 * (postgres, trino, spark) inline literals, escaped by that engine's rules, because their
 * text leaves the tool and has nothing to bind against.
 */
import { quoteIdent as doubleQuoted, quoteString } from '../db/quote.js';
import type { Param } from '../db/store.js';
import type { ComparisonOp, Literal, LiteralKind } from '../rule/ast.js';
import { printNumber } from '../rule/printer.js';

export const DIALECTS = ['duckdb', 'postgres', 'trino', 'spark'] as const;
/** A SQL dialect the compiler targets; only `duckdb` is executed by rulegen itself. */
export type Dialect = (typeof DIALECTS)[number];

export function isDialect(s: string): s is Dialect {
  return (DIALECTS as readonly string[]).includes(s);
}

/** The tokens a dialect needs; a new literal kind or operator has to be mapped here to exist. */
export interface DialectTokens {
  readonly name: Dialect;
  /** Quote an identifier, whatever it contains. */
  ident(name: string): string;
  /** The one way a literal reaches SQL: a placeholder (and a pushed parameter) or inlined text. */
  value(l: Literal, params: Param[]): string;
  readonly ops: Readonly<Record<ComparisonOp, string>>;
}

// `<>` is the standard spelling; every target accepts it.
const OPS: Record<ComparisonOp, string> = { '<': '<', '<=': '<=', '>': '>', '>=': '>=', '=': '=', '!=': '<>' };

/**
 * DuckDB binds a JS integer as INTEGER and a JS string as VARCHAR by inference; an explicit
 * cast makes the parameter's type exact whatever value it holds (1 vs 1.5, '5' vs 5).
 */
const DUCKDB_CASTS: Record<LiteralKind, string> = { number: 'DOUBLE', string: 'VARCHAR', boolean: 'BOOLEAN' };

/**
 * @duckdb/node-api binds an integral JS number as INTEGER or BIGINT, and throws for one beyond
 * the int64 range (1e21, Number.MAX_VALUE). Such a number goes as its shortest decimal text,
 * which the `::DOUBLE` cast reads back to the very same double.
 */
export function duckNumber(v: number): number | string {
  return Number.isInteger(v) && Math.abs(v) >= 2 ** 63 ? String(v) : v;
}

function sqlBoolean(v: boolean): string {
  return v ? 'true' : 'false';
}

/** ANSI string literal: the only escape is a doubled quote (postgres with standard_conforming_strings, trino). */
export const ansiString = quoteString;

/**
 * PostgreSQL: a plain '...' is only safe while standard_conforming_strings is on; with a
 * backslash in the text an E'...' literal is used, which means the same under either setting.
 */
export function postgresString(s: string): string {
  if (!s.includes('\\')) return ansiString(s);
  return `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/**
 * Spark SQL: backslash is an escape character and adjacent literals concatenate, so `''`
 * would not mean a quote: both ' and \ are escaped with a backslash.
 */
export function sparkString(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function inlined(str: (s: string) => string): DialectTokens['value'] {
  return (l) => {
    switch (l.kind) {
      case 'number':
        // The checker guarantees finiteness; re-checked here because this text leaves the tool.
        if (!Number.isFinite(l.value)) throw new Error(`cannot inline a non-finite number ${l.value}`);
        return printNumber(l.value);
      case 'string':
        return str(l.value);
      case 'boolean':
        return sqlBoolean(l.value);
    }
  };
}

export const TOKENS: Readonly<Record<Dialect, DialectTokens>> = Object.freeze({
  duckdb: {
    name: 'duckdb',
    ident: doubleQuoted,
    value: (l, params) => {
      params.push(l.kind === 'number' ? duckNumber(l.value) : l.value);
      return `?::${DUCKDB_CASTS[l.kind]}`;
    },
    ops: OPS,
  },
  postgres: { name: 'postgres', ident: doubleQuoted, value: inlined(postgresString), ops: OPS },
  trino: { name: 'trino', ident: doubleQuoted, value: inlined(ansiString), ops: OPS },
  spark: { name: 'spark', ident: (n) => `\`${n.replaceAll('`', '``')}\``, value: inlined(sparkString), ops: OPS },
});

/**
 * Executing dialects: PostgreSQL and Trino statements that rulegen runs itself (`--engine`).
 * Unlike the text exports above, every literal is a bound `?` parameter with an explicit cast,
 * as for DuckDB; the engine renders the placeholder its own way ($1 for PostgreSQL, Athena's
 * execution parameters).
 */
const boundValue =
  (casts: Record<LiteralKind, string>): DialectTokens['value'] =>
  (l, params) => {
    params.push(l.value);
    return `CAST(? AS ${casts[l.kind]})`;
  };

export const BOUND_TOKENS: Readonly<Record<'postgres' | 'trino', DialectTokens>> = Object.freeze({
  postgres: { name: 'postgres', ident: doubleQuoted, value: boundValue({ number: 'double precision', string: 'text', boolean: 'boolean' }), ops: OPS },
  trino: { name: 'trino', ident: doubleQuoted, value: boundValue({ number: 'DOUBLE', string: 'VARCHAR', boolean: 'BOOLEAN' }), ops: OPS },
});
