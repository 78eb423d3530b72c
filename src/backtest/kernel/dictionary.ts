/** Dictionaries of the category columns: one GROUP BY in DuckDB, each value's code its index. */
import { quoteIdent, type Store } from '../../db/store.js';
import { KernelUnsupportedError } from './plan.js';

/** Dictionaries of category columns: value list (code = index) and hash key -> code. */
export interface Dictionary {
  values: string[];
  byHash: Map<number, number>;
}

export const hashKey = (hi: number, lo: number) => hi * 4294967296 + lo;

export async function loadDictionary(store: Store, table: string, column: string): Promise<Dictionary> {
  const c = `CAST(${quoteIdent(column)} AS VARCHAR)`;
  const rows = await store.all<{ v: string; hi: number; lo: number }>(
    `SELECT ${c} AS v, CAST(hash(${c}) >> 32 AS UINTEGER) AS hi, CAST(hash(${c}) & 4294967295 AS UINTEGER) AS lo ` +
      `FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} IS NOT NULL GROUP BY ALL ORDER BY v`,
  );
  const byHash = new Map<number, number>();
  rows.forEach((r, i) => {
    const k = hashKey(Number(r.hi), Number(r.lo));
    if (byHash.has(k)) throw new KernelUnsupportedError(`two values of ${column} share a 53-bit hash key`);
    byHash.set(k, i);
  });
  return { values: rows.map((r) => r.v), byHash };
}
