/** The sample table's names and the small helpers every stage builds its SQL and keys with. */
import type { Catalog } from '../../catalog/schema.js';
import { compilePredicate } from '../../compile/compile.js';
import { and, comparison, num, type Comparison, type Expr } from '../../rule/ast.js';
import { print } from '../../rule/printer.js';
import type { Term } from './types.js';

export const SAMPLE = 'temp.main.rulegen_induce';
export const LBL = '"_rg_lbl"';
export const VAL = '"_rg_val"';
export const COV = '"_rg_cov"';

export const n = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
export const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
export const conjSql = (terms: readonly Term[]) => ({
  sql: terms.map((t) => `(${t.pred.sql})`).join(' AND '),
  parameters: terms.flatMap((t) => t.pred.parameters),
});
export const astOf = (terms: readonly Term[]): Expr => (terms.length === 1 ? terms[0]!.atom.ast : and(...terms.map((t) => t.atom.ast)));
export const keyOf = (terms: readonly Term[]) => terms.map((t) => t.atom.key).join(' and ');
/** The same conjunction in any term order has one key. */
export const setKey = (terms: readonly Term[]) =>
  terms
    .map((t) => t.atom.key)
    .sort()
    .join(' & ');
export const hit = (p: { sql: string }) => `(CASE WHEN ${p.sql} THEN 1 ELSE 0 END)`;

/** The term `t` with its threshold replaced by `v` (a rounding variant). */
export function withValue(t: Term, a: Comparison, v: number, catalog: Catalog): Term {
  const ast = comparison(a.feature, a.op, num(v));
  return { atom: { key: print(ast), feature: a.feature, ast, spec: { ...t.atom.spec, value: v } }, pred: compilePredicate(ast, catalog) };
}
