/**
 * Hostile input: every attempt is either a clean parse/check error (a Problem, exit 2) or a
 * bound value; the sessions table is the same afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, countStatement, DIALECTS } from '../../src/compile/compile.js';
import { Store } from '../../src/db/store.js';
import { InputError } from '../../src/errors.js';
import { and, comparison, featureRef, isNull, not, or, type Expr } from '../../src/rule/ast.js';
import { checkCondition } from '../../src/rule/checks.js';
import { evaluate } from '../../src/rule/evaluate.js';
import { parseRuleFile } from '../../src/rule/file.js';
import { MAX_TERMS, parseCondition } from '../../src/rule/parser.js';
import { print } from '../../src/rule/printer.js';
import { HOSTILE_STRINGS } from '../rule/arbitrary.js';
import { catalog, createDuckTable, duckFingerprint, SESSIONS, sessionRows } from './sessions.js';

const HOSTILE_NAMES = [
  'x; drop table sessions',
  'sessions; drop table sessions',
  '"requests_per_minute"',
  'requests_per_minute"; drop table sessions; --',
  'requests_per_minute) or (1=1',
  "requests_per_minute' or '1'='1",
  '`requests_per_minute`',
  'requests_per_minute -- comment',
  'requests_per_minute/**/',
  'REQUESTS_PER_MINUTE',
  'réquests',
  'sessions',
  'pg_sleep(10)',
  '1=1',
];

let store: Store;
const rows = sessionRows();
let before: string;

beforeAll(async () => {
  store = await Store.open();
  await createDuckTable(store, 'sessions', SESSIONS, rows);
  await store.run('create table canary (x integer)');
  before = await duckFingerprint(store, 'sessions');
});

afterAll(async () => {
  // The table is intact after everything this file threw at it.
  expect(await duckFingerprint(store, 'sessions')).toBe(before);
  expect(await store.tableExists('canary')).toBe(true);
  store?.close();
});

function cleanError(text: string): void {
  const r = parseCondition(text);
  if (!r.ok) {
    expect(r.problem.severity).toBe('error');
    expect(r.problem.where?.line).toBeGreaterThanOrEqual(1);
    return;
  }
  const errors = checkCondition(r.ast, catalog).filter((f) => f.severity === 'error');
  expect(errors.length, `${text} should not pass the checks`).toBeGreaterThan(0);
  for (const d of DIALECTS) expect(() => compile(r.ast, catalog, d)).toThrow(InputError);
}

describe('hostile feature names', () => {
  it.each(HOSTILE_NAMES)('%s in a condition is a parse or check error', (name) => {
    cleanError(`${name} > 1`);
    cleanError(`${name} is null`);
    cleanError(`requests_per_minute > 1 and ${name}`);
  });

  it.each(HOSTILE_NAMES)('%s in a hand-built AST is refused by the compiler', (name) => {
    for (const e of [comparison(name, '>', 1), featureRef(name), isNull(name), not(featureRef(name))]) {
      for (const d of DIALECTS) expect(() => compile(e, catalog, d)).toThrow(InputError);
    }
  });
});

describe('hostile string literals are bound, never pasted', () => {
  it.each(HOSTILE_STRINGS)('%j', async (s) => {
    const e = or(comparison('country', '=', s), comparison('asn_org', '!=', s));
    const q = compile(e, catalog, 'duckdb');
    expect(q.parameters).toEqual([s, s]);
    // The SQL text is the same whatever the string: nothing of it reaches the text.
    expect(q.sql).toBe(compile(or(comparison('country', '=', 'a'), comparison('asn_org', '!=', 'a')), catalog, 'duckdb').sql);
    const stmt = countStatement(q, 'sessions');
    const got = await store.one(stmt.sql, stmt.parameters);
    expect(got?.['n']).toBe(rows.filter((r) => evaluate(e, r)).length);
  });

  it('hostile strings reach the exports only escaped', () => {
    for (const s of HOSTILE_STRINGS) {
      const e = comparison('country', '=', s);
      const pg = compile(e, catalog, 'postgres').sql;
      const spark = compile(e, catalog, 'spark').sql;
      // Strip the escaped literal: what remains is exactly the fixed skeleton.
      expect(pg.replace(/(E?'(?:[^'\\]|''|\\.)*')/, 'L')).toBe('coalesce(("country" = L), false)');
      expect(spark.replace(/'(?:[^'\\]|\\.)*'/, 'L')).toBe('coalesce((`country` = L), false)');
    }
  });

  it('hostile text in a rule file is a problem with its place, never a crash', () => {
    for (const text of ['x; drop table sessions', "country = '' or 1=1 --", "country = 'a'; drop table sessions; --"]) {
      const load = parseRuleFile(`id: 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed\ncondition: "${text}"\n`, 'r.yaml', catalog);
      const errs = load.problems.filter((p) => p.where?.field === 'condition');
      expect(errs.length).toBeGreaterThan(0);
      expect(errs[0]!.where?.line).toBe(2);
    }
  });
});

describe('hostile sizes', () => {
  const term = (i: number): Expr => comparison('requests_per_minute', '>', i);

  it('a 10,000-term expression is a clean error as text and as an AST', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => print(term(i))).join(' or ');
    const r = parseCondition(text);
    expect(r.ok).toBe(false);
    const big = or(...Array.from({ length: 10_000 }, (_, i) => term(i)));
    expect(() => compile(big, catalog)).toThrow(/has 10000 terms/);
  });

  it('a 100,000-deep AST is refused without a stack overflow', () => {
    let e: Expr = term(1);
    for (let i = 0; i < 100_000; i++) e = i % 2 ? not(e) : and(e, featureRef('js_executed'));
    expect(() => compile(e, catalog)).toThrow(/nests deeper/);
    expect(checkCondition(e, catalog)[0]!.message).toMatch(/nests deeper/);
  });

  it(`a ${MAX_TERMS}-term expression compiles and runs`, async () => {
    const e = or(...Array.from({ length: MAX_TERMS }, (_, i) => comparison('requests_per_minute', '=', i)));
    const q = countStatement(compile(e, catalog), 'sessions');
    expect(q.parameters).toHaveLength(MAX_TERMS);
    const got = await store.one(q.sql, q.parameters);
    expect(got?.['n']).toBe(rows.filter((r) => evaluate(e, r)).length);
  });
});
