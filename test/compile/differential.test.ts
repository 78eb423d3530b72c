/**
 * Differential test: for random type-correct ASTs over random rows (NULLs, infinities, -0,
 * NaN-free doubles, booleans, hostile category strings), DuckDB running the compiled
 * predicate selects exactly the rows the JS reference evaluator selects.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, compilePredicate } from '../../src/compile/compile.js';
import { duckNumber } from '../../src/compile/dialects.js';
import { Store, type Param } from '../../src/db/store.js';
import type { Expr } from '../../src/rule/ast.js';
import { evaluate, type Row } from '../../src/rule/evaluate.js';
import { print } from '../../src/rule/printer.js';
import { TEST_CATALOG, typedExpr, typedRow } from '../rule/arbitrary.js';
import { runs } from '../helpers/runs.js';

const COLUMNS = [
  ['n1', 'DOUBLE'],
  ['n2', 'DOUBLE'],
  ['n3', 'DOUBLE'],
  ['b1', 'BOOLEAN'],
  ['b2', 'BOOLEAN'],
  ['c1', 'VARCHAR'],
  ['c2', 'VARCHAR'],
] as const;

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(() => store?.close());

/**
 * Rows go in as a VALUES list of bound, cast parameters: no table per case, one statement
 * per case. Positional parameters bind in text order: the select list (each predicate twice)
 * comes before the VALUES list.
 */
async function duckMatches(rows: readonly Row[], predicates: readonly Expr[]): Promise<number[][]> {
  const params: Param[] = [];
  const selects = predicates.map((p, k) => {
    const q = compile(p, TEST_CATALOG, 'duckdb');
    // the backtest's form: no outer coalesce inside CASE WHEN (compilePredicate)
    const c = compilePredicate(p, TEST_CATALOG, 'duckdb');
    // Concatenating predicates and their parameter arrays in order is how the backtest uses them.
    params.push(...q.parameters, ...c.parameters);
    return `list(id order by id) filter (where ${q.sql}) as m${k}, sum(case when ${c.sql} then 1 else 0 end) as s${k}`;
  });
  const tuples = rows.map((r, i) => {
    params.push(i);
    for (const [c] of COLUMNS) {
      const v = r[c] ?? null;
      params.push(typeof v === 'number' && Number.isFinite(v) ? duckNumber(v) : v);
    }
    return `(?::INTEGER, ${COLUMNS.map(([, t]) => `?::${t}`).join(', ')})`;
  });
  const sql = `select ${selects.join(', ')} from (values ${tuples.join(', ')}) as t(id, ${COLUMNS.map(([c]) => c).join(', ')})`;
  const [row] = await store.all(sql, params);
  return predicates.map((_, k) => {
    const ids = ((row![`m${k}`] as number[] | null) ?? []).map(Number);
    const count = Number(row![`s${k}`] ?? 0);
    expect(count).toBe(ids.length);
    return ids;
  });
}

function jsMatches(rows: readonly Row[], e: Expr): number[] {
  return rows.flatMap((r, i) => (evaluate(e, r) ? [i] : []));
}

describe('compiled duckdb predicates agree with the reference evaluator', () => {
  const RUNS = runs(250, 2000);
  it(`on ${RUNS} random row sets with 2 conditions each`, async () => {
    let cases = 0;
    let nonTrivial = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(typedRow, { minLength: 1, maxLength: 30 }), fc.array(typedExpr, { minLength: 2, maxLength: 2 }), async (rows, exprs) => {
        const got = await duckMatches(rows, exprs);
        exprs.forEach((e, k) => {
          const want = jsMatches(rows, e);
          cases++;
          if (want.length > 0 && want.length < rows.length) nonTrivial++;
          expect(got[k], `condition: ${print(e)}`).toEqual(want);
        });
      }),
      { numRuns: RUNS },
    );
    expect(cases).toBeGreaterThanOrEqual(2 * RUNS);
    // Guard against a generator that only makes conditions matching all or nothing.
    expect(nonTrivial).toBeGreaterThan(cases / 5);
  });

  it('on the classic NULL traps', async () => {
    const rows: Row[] = [
      { n1: null, b1: null, c1: null },
      { n1: 1, b1: true, c1: 'a' },
      { n1: 2, b1: false, c1: 'b' },
    ];
    const { parse } = await import('../../src/rule/parser.js');
    const conditions = [
      'not n1 > 1',
      'n1 not in (1)',
      'not n1 in (1)',
      'not (n1 > 1 and b1)',
      'not (n1 > 1 or b1)',
      'not not n1 > 1',
      'not b1',
      'b1 != true',
      "c1 != 'a'",
      "not c1 = 'a'",
      'n1 is null or not n1 between 1 and 1',
    ];
    const exprs = conditions.map((c) => parse(c));
    const got = await duckMatches(rows, exprs);
    exprs.forEach((e, k) => expect(got[k], conditions[k]).toEqual(jsMatches(rows, e)));
  });
});
