/**
 * `rulegen export --target json-logic`: every rule as a JsonLogic expression
 * (https://jsonlogic.com), the rule format many engines and languages already evaluate.
 *
 * JsonLogic compares with JavaScript's coercions (`null < 5` is true), so the NULL semantics
 * are spelled out: every ordered comparison, `!=` and `not in` is guarded by
 * `{"!==": [{"var": f}, null]}`, `=` and `in` use strict equality (null never equals a
 * literal), and `not` is JsonLogic's `!` over an expression that is already false on NULL —
 * the compiler's `not coalesce(p, false)`. A missing feature reads as null (JsonLogic's `var`
 * default). JsonLogic has no types: a session value of the wrong type is not reported, as the
 * runtime evaluator does.
 */
import type { Expr, ExprKind, Literal } from '../rule/ast.js';
import { effectiveOf, type ExportRule } from './rules.js';

/** A JsonLogic expression: a JSON value whose single-key objects are operations. */
export type JsonLogic = null | boolean | number | string | JsonLogic[] | { [op: string]: JsonLogic };

const v = (f: string): JsonLogic => ({ var: f });
const known = (f: string): JsonLogic => ({ '!==': [v(f), null] });
const lit = (l: Literal): JsonLogic => l.value;

type Emitter = { [K in ExprKind]: (e: Extract<Expr, { kind: K }>) => JsonLogic };

const EMIT: Emitter = {
  comparison: (e): JsonLogic => {
    switch (e.op) {
      case '=':
        return { '===': [v(e.feature), lit(e.value)] };
      case '!=':
        return { and: [known(e.feature), { '!==': [v(e.feature), lit(e.value)] }] };
      default:
        return { and: [known(e.feature), { [e.op]: [v(e.feature), lit(e.value)] }] };
    }
  },
  between: (e) => ({ and: [known(e.feature), { '<=': [lit(e.low), v(e.feature), lit(e.high)] }] }),
  in: (e) => {
    const hit: JsonLogic = { in: [v(e.feature), e.values.map(lit)] };
    return e.negated ? { and: [known(e.feature), { '!': [hit] }] } : hit;
  },
  isNull: (e) => (e.negated ? known(e.feature) : { '===': [v(e.feature), null] }),
  feature: (e) => ({ '===': [v(e.feature), true] }),
  and: (e) => ({ and: e.operands.map(jsonLogicOf) }),
  or: (e) => ({ or: e.operands.map(jsonLogicOf) }),
  not: (e) => ({ '!': [jsonLogicOf(e.operand)] }),
};

/** One condition as JsonLogic; truthy exactly where the compiled SQL predicate is true. */
export function jsonLogicOf(e: Expr): JsonLogic {
  return (EMIT[e.kind] as (e: Expr) => JsonLogic)(e);
}

export interface JsonLogicExport {
  format: 'json-logic';
  spec: 'https://jsonlogic.com';
  /** How to decide: evaluate each rule's `logic`; the strongest `effective` among the truthy ones is the action (null: shadow). */
  rules: { id: string; title: string; action: string; stage: string; effective: string | null; logic: JsonLogic }[];
}

export function jsonLogicExport(rules: readonly ExportRule[]): JsonLogicExport {
  return {
    format: 'json-logic',
    spec: 'https://jsonlogic.com',
    rules: rules.map((r) => ({ id: r.id, title: r.title, action: r.action, stage: r.stage, effective: effectiveOf(r), logic: jsonLogicOf(r.ast) })),
  };
}
