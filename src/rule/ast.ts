/**
 * The condition language's AST: the single source of truth for a rule. Nodes are tagged by
 * `kind`, frozen, and built only through the factories below, which keep the invariants
 * the printer and the compiler rely on (finite numbers, n-ary `and`/`or` with two or more
 * operands, no -0). Every visitor dispatches through a `Record<NodeKind, ...>` table, so a
 * new kind does not compile until each visitor handles it.
 */

/** A number literal: always finite, never -0 (so print/parse round-trips exactly). */
export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}
/** A single-quoted string literal; any text, NUL excluded. */
export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
}
/** `true` or `false`. */
export interface BooleanLiteral {
  readonly kind: 'boolean';
  readonly value: boolean;
}
export type Literal = NumberLiteral | StringLiteral | BooleanLiteral;

export const COMPARISON_OPS = ['<', '<=', '>', '>=', '=', '!='] as const;
/** The six comparison operators of the language (`!=` is printed as such, compiled as `<>`). */
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

/** `feature op literal`; the feature is always on the left. */
export interface Comparison {
  readonly kind: 'comparison';
  readonly feature: string;
  readonly op: ComparisonOp;
  readonly value: Literal;
}
/** `feature between low and high`, inclusive at both ends as in SQL. */
export interface Between {
  readonly kind: 'between';
  readonly feature: string;
  readonly low: Literal;
  readonly high: Literal;
}
/** `feature in (...)` or, with `negated`, `feature not in (...)`. `values` may be empty only until checked. */
export interface In {
  readonly kind: 'in';
  readonly feature: string;
  readonly negated: boolean;
  readonly values: readonly Literal[];
}
/** `feature is null` or, with `negated`, `feature is not null`. */
export interface IsNull {
  readonly kind: 'isNull';
  readonly feature: string;
  readonly negated: boolean;
}
/** A boolean feature standing alone: true when the feature is true (false when null). */
export interface FeatureRef {
  readonly kind: 'feature';
  readonly feature: string;
}
/** Conjunction of two or more operands; never directly nests when parsed (`a and b and c` is flat). */
export interface And {
  readonly kind: 'and';
  readonly operands: readonly Expr[];
}
/** Disjunction of two or more operands. */
export interface Or {
  readonly kind: 'or';
  readonly operands: readonly Expr[];
}
/** Negation; a NULL comparison under `not` stays false inside, so `not p` is true there. */
export interface Not {
  readonly kind: 'not';
  readonly operand: Expr;
}

/** A boolean expression: what a rule's `condition` parses to. */
export type Expr = Comparison | Between | In | IsNull | FeatureRef | And | Or | Not;
/** Any node of the AST. */
export type Node = Expr | Literal;
export type ExprKind = Expr['kind'];
export type LiteralKind = Literal['kind'];
export type NodeKind = Node['kind'];

/** Atoms: the nodes that name exactly one feature. */
export type Atom = Comparison | Between | In | IsNull | FeatureRef;

const EXPR_KINDS: Record<ExprKind, true> = {
  comparison: true,
  between: true,
  in: true,
  isNull: true,
  feature: true,
  and: true,
  or: true,
  not: true,
};
const LITERAL_KINDS: Record<LiteralKind, true> = { number: true, string: true, boolean: true };

export class AstError extends Error {
  override readonly name = 'AstError';
}

function literalCheck(v: Literal): Literal {
  if (!isLiteral(v)) throw new AstError(`not a literal: ${JSON.stringify(v)}`);
  return v;
}

export function num(value: number): NumberLiteral {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AstError(`a number literal must be finite, got ${String(value)}`);
  // -0 prints as "0": normalising here keeps parse(print(ast)) equal to ast.
  return Object.freeze({ kind: 'number', value: value === 0 ? 0 : value });
}
export function str(value: string): StringLiteral {
  if (typeof value !== 'string') throw new AstError('a string literal must be a string');
  return Object.freeze({ kind: 'string', value });
}
export function bool(value: boolean): BooleanLiteral {
  if (typeof value !== 'boolean') throw new AstError('a boolean literal must be true or false');
  return Object.freeze({ kind: 'boolean', value });
}
/** A literal from a plain JS value. */
export function lit(value: number | string | boolean): Literal {
  return typeof value === 'number' ? num(value) : typeof value === 'string' ? str(value) : bool(value);
}

function featureName(f: string): string {
  if (typeof f !== 'string' || f.length === 0) throw new AstError('a feature name must be a non-empty string');
  return f;
}

export function comparison(feature: string, op: ComparisonOp, value: Literal | number | string | boolean): Comparison {
  if (!(COMPARISON_OPS as readonly string[]).includes(op)) throw new AstError(`unknown operator ${String(op)}`);
  const v = typeof value === 'object' ? literalCheck(value) : lit(value);
  return Object.freeze({ kind: 'comparison', feature: featureName(feature), op, value: v });
}
export function between(feature: string, low: Literal | number, high: Literal | number): Between {
  const l = typeof low === 'object' ? literalCheck(low) : num(low);
  const h = typeof high === 'object' ? literalCheck(high) : num(high);
  return Object.freeze({ kind: 'between', feature: featureName(feature), low: l, high: h });
}
export function inList(feature: string, values: readonly (Literal | number | string | boolean)[], negated = false): In {
  const vs = values.map((v) => (typeof v === 'object' ? literalCheck(v) : lit(v)));
  return Object.freeze({ kind: 'in', feature: featureName(feature), negated, values: Object.freeze(vs) });
}
export function notInList(feature: string, values: readonly (Literal | number | string | boolean)[]): In {
  return inList(feature, values, true);
}
export function isNull(feature: string, negated = false): IsNull {
  return Object.freeze({ kind: 'isNull', feature: featureName(feature), negated });
}
export function isNotNull(feature: string): IsNull {
  return isNull(feature, true);
}
export function featureRef(feature: string): FeatureRef {
  return Object.freeze({ kind: 'feature', feature: featureName(feature) });
}
export function and(...operands: Expr[]): And {
  if (operands.length < 2) throw new AstError('`and` needs at least two operands');
  operands.forEach(exprCheck);
  return Object.freeze({ kind: 'and', operands: Object.freeze([...operands]) });
}
export function or(...operands: Expr[]): Or {
  if (operands.length < 2) throw new AstError('`or` needs at least two operands');
  operands.forEach(exprCheck);
  return Object.freeze({ kind: 'or', operands: Object.freeze([...operands]) });
}
export function not(operand: Expr): Not {
  return Object.freeze({ kind: 'not', operand: exprCheck(operand) });
}

function exprCheck(e: Expr): Expr {
  if (!isExpr(e)) throw new AstError(`not an expression: ${JSON.stringify(e)?.slice(0, 80)}`);
  return e;
}

export function isLiteral(n: unknown): n is Literal {
  return typeof n === 'object' && n !== null && Object.hasOwn(LITERAL_KINDS, (n as { kind?: unknown }).kind as string);
}
export function isExpr(n: unknown): n is Expr {
  return typeof n === 'object' && n !== null && Object.hasOwn(EXPR_KINDS, (n as { kind?: unknown }).kind as string);
}
export function isAtom(e: Expr): e is Atom {
  return e.kind !== 'and' && e.kind !== 'or' && e.kind !== 'not';
}

/** Direct sub-expressions of `e` (literals excluded). */
export function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'and':
    case 'or':
      return e.operands;
    case 'not':
      return [e.operand];
    default:
      return [];
  }
}

/** Size of an expression: atoms ("terms"), nesting depth and node count, measured without recursion. */
export interface Measure {
  terms: number;
  depth: number;
  nodes: number;
}

/** Measured with an explicit stack so a hostile, very deep AST cannot overflow the JS stack. */
export function measure(root: Expr): Measure {
  let terms = 0;
  let depth = 0;
  let nodes = 0;
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length) {
    const [e, d] = stack.pop()!;
    nodes++;
    if (d > depth) depth = d;
    if (isAtom(e)) terms++;
    for (const c of children(e)) stack.push([c, d + 1]);
  }
  return { terms, depth, nodes };
}

/** Every feature an expression names, in first-use order. */
export function featuresOf(root: Expr): string[] {
  const seen = new Set<string>();
  const stack: Expr[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (isAtom(e)) seen.add(e.feature);
    const cs = children(e);
    for (let i = cs.length - 1; i >= 0; i--) stack.push(cs[i]!);
  }
  return [...seen];
}
