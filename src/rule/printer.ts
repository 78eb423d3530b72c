/**
 * Canonical text of an AST: lower-case keywords, single spaces, parentheses only where
 * precedence needs them (or where an `and` sits directly inside an `and`, which only a
 * hand-built AST has). `parse(print(ast))` equals `ast` for every AST the factories build.
 */
import type { Expr, Literal, NodeKind, Node } from './ast.js';

/** Binding strength: or < and < not < atom. */
const PRECEDENCE: Record<Expr['kind'], number> = {
  or: 1,
  and: 2,
  not: 3,
  comparison: 4,
  between: 4,
  in: 4,
  isNull: 4,
  feature: 4,
};

export function printString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** JS's shortest round-trip form, which the lexer reads back to the same double. */
export function printNumber(n: number): string {
  return String(n);
}

function operand(e: Expr, parent: 'and' | 'or' | 'not'): string {
  const inner = print(e);
  const needs = parent === 'not' ? PRECEDENCE[e.kind] < PRECEDENCE.not : PRECEDENCE[e.kind] <= PRECEDENCE[parent];
  return needs ? `(${inner})` : inner;
}

type Printer = { [K in NodeKind]: (n: Extract<Node, { kind: K }>) => string };

const PRINTERS: Printer = {
  number: (n) => printNumber(n.value),
  string: (n) => printString(n.value),
  boolean: (n) => (n.value ? 'true' : 'false'),
  comparison: (n) => `${n.feature} ${n.op} ${printLiteral(n.value)}`,
  between: (n) => `${n.feature} between ${printLiteral(n.low)} and ${printLiteral(n.high)}`,
  in: (n) => `${n.feature} ${n.negated ? 'not in' : 'in'} (${n.values.map(printLiteral).join(', ')})`,
  isNull: (n) => `${n.feature} is ${n.negated ? 'not null' : 'null'}`,
  feature: (n) => n.feature,
  and: (n) => n.operands.map((o) => operand(o, 'and')).join(' and '),
  or: (n) => n.operands.map((o) => operand(o, 'or')).join(' or '),
  not: (n) => `not ${operand(n.operand, 'not')}`,
};

export function printLiteral(l: Literal): string {
  return (PRINTERS[l.kind] as (n: Literal) => string)(l);
}

/** Canonical text of a node. */
export function print(node: Node): string {
  return (PRINTERS[node.kind] as (n: Node) => string)(node);
}
