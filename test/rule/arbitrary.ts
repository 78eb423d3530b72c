/** fast-check arbitraries of ASTs and rows, shared by the round-trip and differential tests. */
import fc from 'fast-check';
import { makeCatalog, type Catalog, type Feature } from '../../src/catalog/schema.js';
import { and, between, bool, COMPARISON_OPS, comparison, featureRef, inList, isNull, not, num, or, str, type Expr, type Literal } from '../../src/rule/ast.js';
import type { Row, RowValue } from '../../src/rule/evaluate.js';

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'between', 'true', 'false']);

/** Strings that must stay data: SQL injection attempts, quotes, backslashes, unicode. */
export const HOSTILE_STRINGS = [
  'x; drop table sessions',
  "' or 1=1 --",
  "'); drop table sessions; --",
  "O'Brien",
  "''",
  'back\\slash',
  '\\',
  "\\'",
  '"double"',
  '$1',
  '?',
  '`tick`',
  '日本',
  'ünïcödé 🤖',
  '',
  ' ',
  'line\nbreak',
] as const;

// ---------------------------------------------------------------- untyped ASTs (syntax only)

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((s) => !KEYWORDS.has(s));
const anyLiteral: fc.Arbitrary<Literal> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(num),
  fc.integer({ min: -1000, max: 1000 }).map(num),
  fc
    .oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom(...HOSTILE_STRINGS))
    .filter((s) => !s.includes('\0'))
    .map(str),
  fc.boolean().map(bool),
);

const anyAtom: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(name, fc.constantFrom(...COMPARISON_OPS), anyLiteral).map(([f, op, v]) => comparison(f, op, v)),
  fc.tuple(name, anyLiteral, anyLiteral).map(([f, l, h]) => between(f, l, h)),
  fc.tuple(name, fc.array(anyLiteral, { maxLength: 4 }), fc.boolean()).map(([f, vs, neg]) => inList(f, vs, neg)),
  fc.tuple(name, fc.boolean()).map(([f, neg]) => isNull(f, neg)),
  name.map(featureRef),
);

/** Any syntactically valid AST, including nested same-kind `and`/`or` that only hand-built ASTs have. */
export const anyExpr: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 5, depthSize: 'small' },
    anyAtom,
    fc.array(tie('expr'), { minLength: 2, maxLength: 4 }).map((ops) => and(...ops)),
    fc.array(tie('expr'), { minLength: 2, maxLength: 4 }).map((ops) => or(...ops)),
    tie('expr').map(not),
  ),
})).expr;

// ---------------------------------------------------------------- typed ASTs over a test catalog

/** A catalog for differential tests: no ranges, so every generated literal is valid. */
export const TEST_FEATURES: Feature[] = [
  { name: 'n1', type: 'number', description: 'number one', sensitive: false },
  { name: 'n2', type: 'number', description: 'number two', sensitive: false },
  { name: 'n3', type: 'number', description: 'number three', sensitive: false },
  { name: 'b1', type: 'boolean', description: 'boolean one', sensitive: false },
  { name: 'b2', type: 'boolean', description: 'boolean two', sensitive: false },
  { name: 'c1', type: 'category', description: 'category one', sensitive: false },
  { name: 'c2', type: 'category', description: 'category two', sensitive: false },
];
export const TEST_CATALOG: Catalog = makeCatalog(TEST_FEATURES);

/** A few values shared by data and literals, so that equality and bounds are actually hit. */
const NUMBER_POOL = [0, -0, 1, -1, 0.5, 2, 3, 10, 100, -2.5, 1e-9, 1e21, 0.1, 0.2, 0.30000000000000004, Number.MAX_VALUE, Number.MIN_VALUE];
const CATEGORY_POOL = ['a', 'b', 'A', 'a ', ...HOSTILE_STRINGS];

const numberLiteral = fc.oneof(fc.constantFrom(...NUMBER_POOL), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })).map(num);
const categoryLiteral = fc.constantFrom(...CATEGORY_POOL).map(str);

const numberFeature = fc.constantFrom('n1', 'n2', 'n3');
const booleanFeature = fc.constantFrom('b1', 'b2');
const categoryFeature = fc.constantFrom('c1', 'c2');

const typedAtom: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(numberFeature, fc.constantFrom(...COMPARISON_OPS), numberLiteral).map(([f, op, v]) => comparison(f, op, v)),
  fc.tuple(numberFeature, numberLiteral, numberLiteral).map(([f, l, h]) => between(f, l, h)),
  fc.tuple(numberFeature, fc.array(numberLiteral, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([f, vs, neg]) => inList(f, vs, neg)),
  fc.tuple(booleanFeature, fc.constantFrom('=' as const, '!=' as const), fc.boolean()).map(([f, op, v]) => comparison(f, op, bool(v))),
  booleanFeature.map(featureRef),
  fc.tuple(categoryFeature, fc.constantFrom('=' as const, '!=' as const), categoryLiteral).map(([f, op, v]) => comparison(f, op, v)),
  fc.tuple(categoryFeature, fc.array(categoryLiteral, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([f, vs, neg]) => inList(f, vs, neg)),
  fc.tuple(fc.constantFrom('n1', 'n2', 'n3', 'b1', 'b2', 'c1', 'c2'), fc.boolean()).map(([f, neg]) => isNull(f, neg)),
);

/** A type-correct AST over TEST_CATALOG. */
export const typedExpr: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    typedAtom,
    fc.array(tie('expr'), { minLength: 2, maxLength: 4 }).map((ops) => and(...ops)),
    fc.array(tie('expr'), { minLength: 2, maxLength: 4 }).map((ops) => or(...ops)),
    tie('expr').map(not),
  ),
})).expr;

const maybe = <T extends RowValue>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: a });
const numberValue = fc.oneof(fc.constantFrom(...NUMBER_POOL, Infinity, -Infinity), fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: true }));

/** A row of TEST_CATALOG's features: NaN-free doubles (infinities included), booleans, categories, nulls. */
export const typedRow: fc.Arbitrary<Row> = fc.record({
  n1: maybe(numberValue),
  n2: maybe(numberValue),
  n3: maybe(numberValue),
  b1: maybe(fc.boolean()),
  b2: maybe(fc.boolean()),
  c1: maybe(fc.constantFrom(...CATEGORY_POOL)),
  c2: maybe(
    fc.oneof(
      fc.constantFrom(...CATEGORY_POOL),
      fc.string({ unit: 'grapheme', maxLength: 6 }).filter((s) => !s.includes('\0')),
    ),
  ),
});
