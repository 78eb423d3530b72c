/**
 * SQL quoting, written once. A leaf module (no database driver) so that the compiler and the
 * exports can quote without loading DuckDB; src/db/store.ts re-exports both.
 * Values are bound as parameters wherever the engine allows; these are for what cannot be.
 */

/** Quote an identifier (DuckDB, PostgreSQL, Trino: double quotes, doubled inside). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** An ANSI string literal: the only escape is a doubled quote (DuckDB, PostgreSQL with standard_conforming_strings, Trino). */
export function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
