/**
 * The postgres export runs unchanged on real PostgreSQL (PGlite: PostgreSQL compiled to
 * WebAssembly, in-process, no server) against the same fixture as DuckDB and returns the
 * same counts as DuckDB and as the reference evaluator.
 */
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, countStatement } from '../../src/compile/compile.js';
import { Store } from '../../src/db/store.js';
import { evaluate, type Row } from '../../src/rule/evaluate.js';
import { parse } from '../../src/rule/parser.js';
import { print } from '../../src/rule/printer.js';
import { HOSTILE_STRINGS, TEST_CATALOG, TEST_FEATURES, typedExpr, typedRow } from '../rule/arbitrary.js';
import { runs } from '../helpers/runs.js';
import { catalog, createDuckTable, createPgTable, GOLDEN_CONDITIONS, SESSIONS, sessionRows, shapeOf } from './sessions.js';

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Hostile literals as data: each must compile to a harmless, escaped literal. */
const HOSTILE_CONDITIONS = [
  ...HOSTILE_STRINGS.map((s) => `country = ${quote(s)} or asn_org = ${quote(s)}`),
  `asn_org in (${HOSTILE_STRINGS.map(quote).join(', ')})`,
  `not country not in (${HOSTILE_STRINGS.map(quote).join(', ')})`,
];

let pg: PGlite;
let store: Store;
const rows = sessionRows();
const randomRows: Row[] = fc.sample(typedRow, { numRuns: 300, seed: 20260110 });
const TEST_SHAPE = shapeOf(TEST_FEATURES);

beforeAll(async () => {
  pg = await PGlite.create();
  store = await Store.open();
  await createPgTable(pg, 'sessions', SESSIONS, rows);
  await createDuckTable(store, 'sessions', SESSIONS, rows);
  const numbered = randomRows.map((r, i) => ({ ...r, session_id: i }));
  await createPgTable(pg, 'random', TEST_SHAPE, numbered);
  await createDuckTable(store, 'random', TEST_SHAPE, numbered);
}, 60_000);

afterAll(async () => {
  store?.close();
  await pg?.close();
});

async function pgCount(sql: string): Promise<number> {
  const r = await pg.query<{ n: number | bigint }>(sql);
  return Number(r.rows[0]!.n);
}

async function duckCount(sql: string, params: readonly unknown[]): Promise<number> {
  const r = await store.one(sql, params as never);
  return Number(r?.['n']);
}

describe('postgres export on PostgreSQL (PGlite)', () => {
  it('is really PostgreSQL', async () => {
    const r = await pg.query<{ v: string }>('select version() as v');
    expect(r.rows[0]!.v).toMatch(/^PostgreSQL \d+/);
  });

  it.each([...GOLDEN_CONDITIONS, ...HOSTILE_CONDITIONS])('same count as DuckDB: %s', async (c) => {
    const e = parse(c);
    const exported = countStatement(compile(e, catalog, 'postgres'), 'sessions', 'postgres');
    expect(exported.parameters).toEqual([]);
    const duck = countStatement(compile(e, catalog, 'duckdb'), 'sessions', 'duckdb');
    const want = rows.filter((r) => evaluate(e, r)).length;
    expect(await pgCount(exported.sql)).toBe(want);
    expect(await duckCount(duck.sql, duck.parameters)).toBe(want);
  });

  it('hostile strings matched as data, and the table is intact', async () => {
    // Every hostile string is in the fixture: a literal that matched nothing would prove little.
    const e = parse(`asn_org in (${HOSTILE_STRINGS.map(quote).join(', ')})`);
    expect(rows.filter((r) => evaluate(e, r)).length).toBeGreaterThan(HOSTILE_STRINGS.length);
    expect(await pgCount('select count(*) as n from sessions')).toBe(rows.length);
    const tables = await pg.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'public'`);
    expect(tables.rows[0]!.n).toBe(2);
  });

  it(`agrees with DuckDB and the evaluator on ${runs(250, 1000)} random conditions over random rows`, async () => {
    await fc.assert(
      fc.asyncProperty(typedExpr, async (e) => {
        const exported = countStatement(compile(e, TEST_CATALOG, 'postgres'), 'random', 'postgres');
        const duck = countStatement(compile(e, TEST_CATALOG, 'duckdb'), 'random', 'duckdb');
        const want = randomRows.filter((r) => evaluate(e, r)).length;
        expect(await pgCount(exported.sql), print(e)).toBe(want);
        expect(await duckCount(duck.sql, duck.parameters), print(e)).toBe(want);
      }),
      { numRuns: runs(250, 1000) },
    );
  });
});
