/**
 * Differential tests of the columnar kernel against the SQL engine: for random rules over random
 * tables (NULLs, ties exactly at thresholds and at the split, -0, NaN, huge and tiny doubles,
 * BIGINTs beyond 2^53, hostile category strings, unknown and odd labels, empty windows), every
 * count and every breakdown of runKernelBacktest equals runBacktest's.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest, type BacktestResult, type EngineRule } from '../../src/backtest/engine.js';
import { runKernelBacktest, type KernelRule } from '../../src/backtest/kernel/index.js';
import { transpose32 } from '../../src/backtest/kernel/compute.js';
import { resolveWindow, type Window } from '../../src/db/window.js';
import { makeCatalog } from '../../src/catalog/schema.js';
import { compilePredicate } from '../../src/compile/compile.js';
import { duckNumber } from '../../src/compile/dialects.js';
import { DEFAULT_CONFIG, type Config } from '../../src/config/schema.js';
import { Store, type Param } from '../../src/db/store.js';
import { and, comparison, between, inList, num, type Expr } from '../../src/rule/ast.js';
import { parse } from '../../src/rule/parser.js';
import { print } from '../../src/rule/printer.js';
import { TEST_FEATURES, typedExpr, typedRow } from '../rule/arbitrary.js';

const catalog = makeCatalog([
  ...TEST_FEATURES,
  { name: 'i1', type: 'number', description: 'a BIGINT column', sensitive: false },
  { name: 'country', type: 'category', description: 'a segment column', sensitive: false },
]);
const config: Config = { ...DEFAULT_CONFIG, data: { ...DEFAULT_CONFIG.data, segments: ['country', 'c1'] }, split: { test_fraction: 0.5 } };

/** Timestamps: the first and last fix the span, so the split falls exactly on 2026-01-03 00:00. */
const TIMES = [
  '2026-01-01 00:00:00',
  '2026-01-01 13:00:00',
  '2026-01-02 23:59:59.999',
  '2026-01-03 00:00:00',
  '2026-01-03 00:00:00.001',
  '2026-01-04 07:00:00',
  '2026-01-05 00:00:00',
];
const BIG = [2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 2n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 0n, 1n, -1n, 12345678901234567n];
const BIG_LITERALS = [2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 63, -(2 ** 63), 0, 1, 12345678901234568, 1e21, 0.5];
const COUNTRIES = ['US', 'DE', "O'Brien", '"q"', '', '(none)x', 'ünï', null];

const bigAtom: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(fc.constantFrom('<', '<=', '>', '>=', '=', '!=' as const), fc.constantFrom(...BIG_LITERALS)).map(([op, v]) => comparison('i1', op, num(v))),
  fc.tuple(fc.constantFrom(...BIG_LITERALS), fc.constantFrom(...BIG_LITERALS)).map(([a, b]) => between('i1', num(a), num(b))),
  fc.tuple(fc.array(fc.constantFrom(...BIG_LITERALS), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([vs, neg]) => inList('i1', vs.map(num), neg)),
);
const ruleExpr: fc.Arbitrary<Expr> = fc.oneof(
  { weight: 4, arbitrary: typedExpr },
  { weight: 1, arbitrary: bigAtom },
  { weight: 1, arbitrary: fc.tuple(typedExpr, bigAtom).map(([a, b]) => and(a, b)) },
);

const tableRow = fc.record({
  base: typedRow,
  i1: fc.option(fc.constantFrom(...BIG), { freq: 4 }),
  ts: fc.option(fc.constantFrom(...TIMES), { freq: 12 }),
  label: fc.constantFrom<number | null>(1, 0, 0, 1, null, 2),
  country: fc.constantFrom(...COUNTRIES),
  nan: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
});
type TableRow = typeof tableRow extends fc.Arbitrary<infer T> ? T : never;

const COLS =
  'session_id VARCHAR, ts TIMESTAMP, label INTEGER, country VARCHAR, n1 DOUBLE, n2 DOUBLE, n3 DOUBLE, i1 BIGINT, ' +
  'b1 BOOLEAN, b2 BOOLEAN, c1 VARCHAR, c2 VARCHAR';

async function load(store: Store, rows: readonly TableRow[]): Promise<void> {
  await store.run('DROP TABLE IF EXISTS sessions');
  await store.run(`CREATE TABLE sessions (${COLS})`);
  if (!rows.length) return;
  const params: Param[] = [];
  const tuples = rows.map((r, i) => {
    // the first and last rows fix the span: the split is exactly TIMES[3]
    const ts = i === 0 ? TIMES[0]! : i === rows.length - 1 ? TIMES[TIMES.length - 1]! : r.ts;
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? duckNumber(v) : ((v as Param) ?? null));
    params.push(
      `s${i}`,
      ts,
      r.label,
      r.country,
      n(r.base['n1']),
      r.nan ? 'NaN' : n(r.base['n2']),
      n(r.base['n3']),
      r.i1,
      (r.base['b1'] ?? null) as Param,
      (r.base['b2'] ?? null) as Param,
      (r.base['c1'] ?? null) as Param,
      (r.base['c2'] ?? null) as Param,
    );
    return '(?, ?::TIMESTAMP, ?::INTEGER, ?, ?::DOUBLE, ?::DOUBLE, ?::DOUBLE, ?::BIGINT, ?::BOOLEAN, ?::BOOLEAN, ?::VARCHAR, ?::VARCHAR)';
  });
  await store.run(`INSERT INTO sessions VALUES ${tuples.join(', ')}`, params);
}

function strip(r: BacktestResult): unknown {
  const { timings: _t, ...rest } = r as BacktestResult & { engine?: string };
  delete (rest as { engine?: string }).engine;
  delete (rest as { kernel?: unknown }).kernel;
  return JSON.parse(JSON.stringify(rest, (k, v) => (k === 'fp_share' && typeof v === 'number' ? Number(v.toPrecision(12)) : v)));
}

const flags = fc.record({ approved: fc.boolean(), deployed: fc.boolean(), extra: fc.boolean() });

async function compare(
  store: Store,
  window: Window,
  exprs: readonly Expr[],
  fl: readonly { approved: boolean; deployed: boolean; extra: boolean }[],
  popExprs: readonly Expr[],
  train?: Window,
  both = false,
): Promise<number> {
  const engineRules: EngineRule[] = exprs.map((e, i) => ({ id: `r${i}`, predicate: compilePredicate(e, catalog), ...fl[i]! }));
  const kernelRules: KernelRule[] = engineRules.map((r, i) => ({ ...r, ast: exprs[i]! }));
  const populations = popExprs.map((ast, i) => ({ name: `p${i}`, ast, predicate: compilePredicate(ast, catalog) }));
  const opts = { daily: true, segments: ['country', 'c1'], overlap: true, set: true, ...(train ? { train } : {}) };
  const sql = await runBacktest(store, config, window, engineRules, { ...opts, populations });
  // both inner loops, WebAssembly SIMD and plain JS, on alternate tables (and both on the fixed cases)
  for (const simd of both ? [true, false] : [(flip = !flip)]) {
    const kernel = await runKernelBacktest(store, config, catalog, window, kernelRules, { ...opts, populations, workers: 0, simd });
    expect(kernel.engine).toBe('kernel');
    expect(kernel.kernel.simd).toBe(simd);
    expect(strip(kernel), `${simd ? 'simd' : 'js'}:\n${exprs.map((e) => print(e)).join('\n')}`).toEqual(strip(sql));
  }
  const all = sql.rows + 0;
  nonTrivial += sql.rules.filter((r) => {
    const h = r.counts.tp + r.counts.fp + r.counts.unlabeled_hits;
    return h > 0 && h < all;
  }).length;
  return exprs.length;
}

let store: Store;
let flip = false;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(() => store?.close());

const RULES_PER_TABLE = 24;
let nonTrivial = 0;

describe('the kernel agrees with the SQL engine', () => {
  // 3 x 30 tables x 24 rules (+ populations) = 2,160 random rules in the normal run
  for (const part of [1, 2, 3]) {
    it(`on random tables and rules, part ${part}`, async () => {
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(tableRow, { minLength: 2, maxLength: 40 }),
          fc.array(fc.tuple(ruleExpr, flags), { minLength: RULES_PER_TABLE, maxLength: RULES_PER_TABLE }),
          fc.array(typedExpr, { maxLength: 2 }),
          fc.constantFrom('test', 'all', 'train'),
          async (rows, rules, pops, wname) => {
            await load(store, rows);
            const w = await resolveWindow(store, config, wname as 'test');
            const train = wname === 'test' ? await resolveWindow(store, config, 'train') : undefined;
            cases += await compare(
              store,
              w,
              rules.map((r) => r[0]),
              rules.map((r) => r[1]),
              pops,
              train,
            );
          },
        ),
        { numRuns: 30, seed: 1300 + part },
      );
      expect(cases).toBe(30 * RULES_PER_TABLE);
      // guard against generators whose rules match all rows or none
      expect(nonTrivial).toBeGreaterThan(cases / 5);
      nonTrivial = 0;
    });
  }

  it('on empty windows and an empty table', async () => {
    const rows = await fc.sample(tableRow, { numRuns: 20, seed: 7 });
    await load(store, rows);
    const exprs = ['n1 > 0', "not c1 = 'a'", 'b1 or n2 is null', "country in ('US')"].filter((c) => !c.includes('country')).map((c) => parse(c));
    const fl = exprs.map(() => ({ approved: true, deployed: true, extra: false }));
    const empty: Window = {
      name: 'test',
      from: '2030-01-01T00:00:00.000Z',
      to: '2030-01-02T00:00:00.000Z',
      cutoff: '2030-01-01T00:00:00.000Z',
      where: '"ts" >= ?::TIMESTAMP',
      parameters: ['2030-01-01 00:00:00.000'],
      rows: 0,
    };
    const emptyTrain: Window = { ...empty, name: 'train', where: '"ts" < ?::TIMESTAMP', parameters: ['1990-01-01 00:00:00.000'] };
    await compare(store, empty, exprs, fl, [parse('n1 > 1')], emptyTrain, true);
    await compare(store, empty, [], [], [], undefined, true);
    await load(store, []);
    const all: Window = { ...empty, name: 'all', where: 'TRUE', parameters: [] };
    await compare(store, all, exprs, fl, [parse('n1 > 1')], undefined, true);
  });

  it('on thresholds tied with the data, -0, and values around 2^53', async () => {
    const rows: TableRow[] = [0, -0, 1e-300, -1e-300, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, Infinity, -Infinity, 0.1 + 0.2, 0.3, null].map(
      (v, i) => ({
        base: { n1: v, n2: v, n3: v, b1: i % 2 === 0, b2: null, c1: i % 3 ? "O'Brien" : "'); drop table sessions; --", c2: null },
        i1: BIG[i % BIG.length]!,
        ts: TIMES[i % TIMES.length]!,
        label: [1, 0, null][i % 3]!,
        country: COUNTRIES[i % COUNTRIES.length]!,
        nan: i === 5,
      }),
    );
    await load(store, rows);
    const conds = [
      'n1 >= 0',
      'n1 <= 0',
      'n1 = 0',
      'n1 != 0',
      'n1 > 5e-324',
      'n1 < 1.7976931348623157e308',
      'n1 = 0.30000000000000004',
      'n1 between 0 and 0.3',
      'n2 > 1e308',
      'n2 != 0',
      'i1 = 9007199254740992',
      'i1 > 9007199254740992',
      'i1 >= 9223372036854775807',
      'i1 in (9007199254740992, 1)',
      'not i1 < 0',
      "c1 = 'O''Brien'",
      "c1 not in ('O''Brien')",
      'not (b2 or n1 > 0)',
    ];
    const exprs = conds.map((c) => parse(c));
    for (const wname of ['all', 'test'] as const) {
      const w = await resolveWindow(store, config, wname);
      await compare(
        store,
        w,
        exprs,
        exprs.map((_, i) => ({ approved: i % 2 === 0, deployed: i % 3 === 0, extra: i % 5 === 0 })),
        [],
        wname === 'test' ? await resolveWindow(store, config, 'train') : undefined,
        true,
      );
    }
  });

  it('on a segment column with too many values to combine with the others (counted column by column)', async () => {
    // 4 labels x (300 session ids + 1) x (countries + 1) keys: past the combined-key limit
    const rows = await fc.sample(tableRow, { numRuns: 300, seed: 11 });
    await load(store, rows);
    const seg = { ...config, data: { ...config.data, segments: ['session_id', 'country'] } };
    const exprs = ['n1 > 0', 'b1 or n2 is null', "country in ('US', 'DE')", 'not n3 < 0'].map((c) => parse(c));
    const engineRules: EngineRule[] = exprs.map((e, i) => ({ id: `r${i}`, predicate: compilePredicate(e, catalog), approved: true, deployed: i > 0 }));
    const w = await resolveWindow(store, seg, 'test');
    const opts = { daily: true, segments: ['session_id', 'country'], overlap: true, set: true };
    const sql = await runBacktest(store, seg, w, engineRules, opts);
    for (const simd of [true, false]) {
      const kernel = await runKernelBacktest(
        store,
        seg,
        catalog,
        w,
        engineRules.map((r, i) => ({ ...r, ast: exprs[i]! })),
        { ...opts, workers: 0, simd },
      );
      expect(Object.keys(kernel.rules[0]!.segments!).length).toBeGreaterThan(100);
      expect(strip(kernel)).toEqual(strip(sql));
    }
  });

  it('transposes a 32x32 bit matrix', () => {
    const rows = Array.from({ length: 32 }, (_, r) => (Math.imul(r + 1, 0x9e3779b1) ^ (r << 7)) | 0);
    const A = new Int32Array(32);
    rows.forEach((v, r) => (A[31 - r] = v));
    transpose32(A);
    for (let j = 0; j < 32; j++) for (let r = 0; r < 32; r++) expect((A[31 - j]! >>> r) & 1).toBe((rows[r]! >>> j) & 1);
  });
});

describe('the kernel on a file store: column cache and worker threads', () => {
  let dir: string;
  let file: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rulegen-kernel-'));
    file = await Store.open(join(dir, '.rulegen', 'rulegen.duckdb'));
    // 131,075 rows: three blocks, the last one of 3 rows
    await file.run(`CREATE TABLE sessions AS SELECT 's' || i AS session_id,
      TIMESTAMP '2026-01-01' + to_microseconds(CAST(hash(i, 1) % 432000000000 AS BIGINT)) AS ts,
      CASE hash(i, 2) % 10 WHEN 0 THEN NULL WHEN 1 THEN 1 WHEN 2 THEN 1 WHEN 3 THEN 1 ELSE 0 END AS label,
      ['US', 'DE', 'FR', NULL, 'O''Brien'][1 + CAST(hash(i, 3) % 5 AS BIGINT)] AS country,
      CASE WHEN hash(i, 4) % 7 = 0 THEN NULL ELSE (hash(i, 5) % 1000) / 10.0 END::DOUBLE AS n1,
      (hash(i, 6) % 100)::DOUBLE AS n2, CASE WHEN hash(i, 7) % 5 = 0 THEN NULL ELSE (hash(i, 8) % 50)::DOUBLE - 25 END AS n3,
      (hash(i, 9) % 3 + 9007199254740992)::BIGINT AS i1,
      CASE hash(i, 10) % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END AS b1, hash(i, 11) % 2 = 0 AS b2,
      ['a', 'b', 'A', NULL][1 + CAST(hash(i, 12) % 4 AS BIGINT)] AS c1, ['x', 'y'][1 + CAST(hash(i, 13) % 2 AS BIGINT)] AS c2
      FROM range(131075) t(i)`);
  });
  afterAll(() => {
    file?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the cache once, reuses it, rebuilds it when the data changes, and agrees with SQL on 2 workers', async () => {
    const conds = [
      'n1 > 50',
      'n1 > 50 and b1',
      "n2 < 10 or c1 = 'A'",
      'not n3 > 0',
      "country = 'O''Brien' and n2 >= 50",
      'i1 > 9007199254740992',
      'b2 and not b1',
      'n1 between 10 and 20',
      "c2 != 'x'",
      'n3 is null or n1 < 5',
    ];
    const exprs = conds.map((c) => parse(c));
    const rules: KernelRule[] = exprs.map((ast, i) => ({
      id: `r${i}`,
      ast,
      predicate: compilePredicate(ast, catalog),
      approved: i < 3,
      deployed: i % 2 === 0,
      extra: i === 9,
    }));
    const w = await resolveWindow(file, config, 'test');
    const train = await resolveWindow(file, config, 'train');
    const opts = { daily: true, segments: ['country', 'c1'], overlap: true, set: true, train };
    const sql = await runBacktest(file, config, w, rules, opts);
    // a first run that needs fewer columns: the next one adds columns to the cache, in the same layout
    const few = rules.slice(0, 2);
    const fewSql = await runBacktest(file, config, w, few, {});
    const fewKernel = await runKernelBacktest(file, config, catalog, w, few, { workers: 0 });
    expect(fewKernel.timings['kernel.cache_build']).toBeGreaterThan(0);
    expect(strip(fewKernel)).toEqual(strip(fewSql));
    // progress: rows read while the cache is built, then blocks counted of all
    const ticks: [number, number | null, string][] = [];
    const onProgress = (d: number, t: number | null, u: string) => ticks.push([d, t, u]);
    const first = await runKernelBacktest(file, config, catalog, w, rules, { ...opts, workers: 2, onProgress });
    expect(first.timings['kernel.cache_build']).toBeGreaterThan(0);
    expect(strip(first)).toEqual(strip(sql));
    const rowTicks = ticks.filter((x) => x[2] === 'rows');
    expect(rowTicks.length).toBeGreaterThan(1);
    expect(rowTicks.at(-1)).toEqual([131075, 131075, 'rows']);
    const blockTicks = ticks.filter((x) => x[2] === 'blocks');
    expect(blockTicks.map((x) => x[0])).toEqual(blockTicks.map((_, i) => i));
    expect(blockTicks.at(-1)![0]).toBe(blockTicks.at(-1)![1]);
    expect(blockTicks.length).toBeGreaterThan(2);
    ticks.length = 0;
    const warm = await runKernelBacktest(file, config, catalog, w, rules, { ...opts, workers: 2, onProgress });
    expect(warm.timings['kernel.cache_build']).toBeUndefined();
    expect(strip(warm)).toEqual(strip(sql));
    expect(ticks.every((x) => x[2] === 'blocks')).toBe(true);
    expect(ticks.at(-1)![0]).toBe(ticks.at(-1)![1]);
    ticks.length = 0;
    const one = await runKernelBacktest(file, config, catalog, w, rules, { ...opts, workers: 0, simd: false, onProgress });
    expect(strip(one)).toEqual(strip(sql));
    expect(ticks.map((x) => x[0])).toEqual(ticks.map((_, i) => i));
    expect(ticks.at(-1)![0]).toBe(ticks.at(-1)![1]);
    await file.run('UPDATE sessions SET n1 = n1 + 1 WHERE n2 < 3');
    const sql2 = await runBacktest(file, config, w, rules, opts);
    const after = await runKernelBacktest(file, config, catalog, w, rules, { ...opts, workers: 0, simd: false });
    expect(after.timings['kernel.cache_build']).toBeGreaterThan(0);
    expect(strip(after)).toEqual(strip(sql2));
  });
});
