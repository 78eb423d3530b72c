/**
 * The JS reference evaluator: the oracle that the compiled SQL is tested against. It is
 * deliberately plain two-valued logic: an atom on a missing (null/undefined) feature is
 * false, `not` inverts that false to true, `and`/`or` are JS's. The compiler reaches the
 * same answers through SQL's three-valued logic by wrapping every `not` operand and the
 * whole predicate in `coalesce(..., false)`.
 */
import type { ComparisonOp, Expr, ExprKind, Literal } from './ast.js';

/** A feature's value in one row; null and undefined both mean "unknown". */
export type RowValue = number | string | boolean | null | undefined;
/** One row: feature name -> value. */
export type Row = Readonly<Record<string, RowValue>>;

type Known = number | string | boolean;

function known(v: RowValue): v is Known {
  return v !== null && v !== undefined;
}

function sameType(a: Known, b: Known): boolean {
  return typeof a === typeof b;
}

const COMPARE: Record<ComparisonOp, (a: Known, b: Known) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

function value(row: Row, feature: string): RowValue {
  return Object.hasOwn(row, feature) ? row[feature] : undefined;
}

function cmp(op: ComparisonOp, v: RowValue, l: Literal): boolean {
  // A type mismatch cannot pass the checker; treating it as "no match" keeps the oracle total.
  return known(v) && sameType(v, l.value) && COMPARE[op](v, l.value);
}

type Evaluator = { [K in ExprKind]: (e: Extract<Expr, { kind: K }>, row: Row) => boolean };

const EVALUATORS: Evaluator = {
  comparison: (e, row) => cmp(e.op, value(row, e.feature), e.value),
  between: (e, row) => {
    const v = value(row, e.feature);
    return cmp('>=', v, e.low) && cmp('<=', v, e.high);
  },
  in: (e, row) => {
    const v = value(row, e.feature);
    if (!known(v)) return false;
    const hit = e.values.some((l) => cmp('=', v, l));
    return e.negated ? !hit && e.values.every((l) => sameType(v, l.value)) : hit;
  },
  isNull: (e, row) => known(value(row, e.feature)) === e.negated,
  feature: (e, row) => value(row, e.feature) === true,
  and: (e, row) => e.operands.every((o) => evaluate(o, row)),
  or: (e, row) => e.operands.some((o) => evaluate(o, row)),
  not: (e, row) => !evaluate(e.operand, row),
};

/** Whether `row` matches `e`, with the NULL semantics of DESIGN.md. */
export function evaluate(e: Expr, row: Row): boolean {
  return (EVALUATORS[e.kind] as (e: Expr, row: Row) => boolean)(e, row);
}
