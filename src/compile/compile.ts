/**
 * AST -> CompiledQuery. The compiler never sees condition text: it walks a checked AST,
 * takes identifiers only from the catalog (always quoted) and sends every literal through
 * the dialect's one `value` path (a bound parameter for duckdb). Every node is fully
 * parenthesised, so predicates can be pasted into larger statements unchanged.
 *
 * NULL semantics (DESIGN.md): an atom on NULL is false, also under `not`. SQL's atoms give
 * NULL there, and `and`/`or` keep "NULL" exactly where two-valued logic says false, so only
 * negation needs care: `not p` becomes `not coalesce(p, false)`, and the whole predicate is
 * wrapped in `coalesce(..., false)` so that it is never NULL.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Param } from '../db/store.js';
import { InputError } from '../errors.js';
import type { Expr, NodeKind, Node } from '../rule/ast.js';
import { structuralFindings } from '../rule/checks.js';
import { BOUND_TOKENS, TOKENS, type Dialect, type DialectTokens } from './dialects.js';

export { DIALECTS, isDialect, type Dialect } from './dialects.js';

/**
 * A compiled predicate. For duckdb `sql` holds positional `?` placeholders matching
 * `parameters` in order (so predicates concatenate with their parameter arrays); for the
 * text exports every literal is inlined and `parameters` is empty.
 */
export type CompiledQuery = Readonly<{ sql: string; parameters: readonly Param[] }>;

interface Ctx {
  readonly t: DialectTokens;
  readonly params: Param[];
}

type Emitter = { [K in NodeKind]: (n: Extract<Node, { kind: K }>, ctx: Ctx) => string };

const emit = (n: Node, ctx: Ctx): string => (EMITTERS[n.kind] as (n: Node, ctx: Ctx) => string)(n, ctx);

const EMITTERS: Emitter = {
  number: (n, c) => c.t.value(n, c.params),
  string: (n, c) => c.t.value(n, c.params),
  boolean: (n, c) => c.t.value(n, c.params),
  comparison: (n, c) => `(${c.t.ident(n.feature)} ${c.t.ops[n.op]} ${emit(n.value, c)})`,
  between: (n, c) => `(${c.t.ident(n.feature)} between ${emit(n.low, c)} and ${emit(n.high, c)})`,
  in: (n, c) => `(${c.t.ident(n.feature)} ${n.negated ? 'not in' : 'in'} (${n.values.map((v) => emit(v, c)).join(', ')}))`,
  isNull: (n, c) => `(${c.t.ident(n.feature)} is ${n.negated ? 'not null' : 'null'})`,
  feature: (n, c) => `(${c.t.ident(n.feature)})`,
  and: (n, c) => `(${n.operands.map((o) => emit(o, c)).join(' and ')})`,
  or: (n, c) => `(${n.operands.map((o) => emit(o, c)).join(' or ')})`,
  not: (n, c) => `(not coalesce(${emit(n.operand, c)}, false))`,
};

/**
 * Compile a condition for `dialect`. Throws InputError (exit 2) when the AST fails the
 * structural checks (unknown feature, misfit operator or literal, empty list, size limits):
 * an unchecked AST, e.g. from a model, is refused rather than half-compiled.
 */
export function compile(ast: Expr, catalog: Catalog, dialect: Dialect = 'duckdb'): CompiledQuery {
  const t = TOKENS[dialect];
  if (!t) throw InputError.single({ message: `unknown SQL dialect ${String(dialect)}`, expected: 'duckdb, postgres, trino or spark', found: String(dialect) });
  return compileTokens(ast, catalog, t);
}

function compileTokens(ast: Expr, catalog: Catalog, t: DialectTokens): CompiledQuery {
  const problems = structuralFindings(ast, catalog).map(({ node: _node, ...p }) => p);
  if (problems.length) throw new InputError(`cannot compile the condition: ${problems[0]!.message}`, problems);
  const ctx: Ctx = { t, params: [] };
  const sql = `coalesce(${emit(ast, ctx)}, false)`;
  return Object.freeze({ sql, parameters: Object.freeze(ctx.params) });
}

/**
 * The predicate for a context that already treats NULL as false (`CASE WHEN`, `WHERE`,
 * `FILTER`): the same as `compile` without the outermost `coalesce(..., false)`, which costs
 * DuckDB about 45% of a 100-rule backtest scan (bench/backtest.mjs). Inner `not` keeps its
 * coalesce: that one changes results.
 */
export function compilePredicate(ast: Expr, catalog: Catalog, dialect: Dialect = 'duckdb'): CompiledQuery {
  const full = compile(ast, catalog, dialect);
  const inner = /^coalesce\((.*), false\)$/s.exec(full.sql);
  return inner ? Object.freeze({ sql: inner[1]!, parameters: full.parameters }) : full;
}

/** A whole statement counting the rows of `table` where the predicate holds; the count column is `n`. */
export function countStatement(predicate: CompiledQuery, table: string, dialect: Dialect = 'duckdb'): CompiledQuery {
  const t = TOKENS[dialect];
  return Object.freeze({ sql: `select count(*) as n from ${t.ident(table)} where ${predicate.sql}`, parameters: predicate.parameters });
}

/** Quote an identifier the way `dialect` does (for callers that build statements around predicates). */
export function quoteIdentifier(name: string, dialect: Dialect = 'duckdb'): string {
  return TOKENS[dialect].ident(name);
}

/**
 * A predicate for an engine that rulegen executes (`--engine`): like `compilePredicate`, with
 * every literal a bound `?` parameter (cast to its type) in that engine's dialect. The caller's
 * context must treat NULL as false (`CASE WHEN`, `WHERE`).
 */
export function compileBound(ast: Expr, catalog: Catalog, dialect: 'duckdb' | 'postgres' | 'trino'): CompiledQuery {
  if (dialect === 'duckdb') return compilePredicate(ast, catalog, 'duckdb');
  const full = compileTokens(ast, catalog, BOUND_TOKENS[dialect]);
  const inner = /^coalesce\((.*), false\)$/s.exec(full.sql);
  return inner ? Object.freeze({ sql: inner[1]!, parameters: full.parameters }) : full;
}
