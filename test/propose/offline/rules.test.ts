import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePredicate } from '../../../src/compile/compile.js';
import { Store } from '../../../src/db/store.js';
import { addBins, sqlCounter, type AtomCounter, type SampleRule } from '../../../src/propose/offline/bins.js';
import { bitmapCounter } from '../../../src/propose/offline/bitmaps.js';
import { pc as popcount } from '../../../src/backtest/kernel/bits.js';
import type { Term } from '../../../src/propose/offline/types.js';
import { comparison, type ComparisonOp } from '../../../src/rule/ast.js';
import { print } from '../../../src/rule/printer.js';
import { FEATURES, catalog, makeSample, termsOf } from './sample-fixture.js';

// Whole rules on the sample (validation.ts's counts and the covering loop's coverage): the
// bitmap counter (rules-bits.ts) against the SQL statements (rules-sql.ts), on random samples
// with NULLs, NaN, -0, integers beyond 2^53, quotes in categories, and thresholds no atom has.

const RATIOS = [0, -0, 1, 0.25, 0.5, 0.75, 1e-300, 0.3333333333333333, NaN];
const BIGS = [0, 1, 2, 3, 2 ** 53, 2 ** 53 + 2, 9007199254740993];

const row = fc.record({
  ratio: fc.option(fc.constantFrom(...RATIOS), { nil: null }),
  big: fc.option(fc.constantFrom(...BIGS), { nil: null }),
  flag: fc.option(fc.boolean(), { nil: null }),
  client: fc.option(fc.constantFrom('curl', 'chrome', "it's", 'say "hi"', ''), { nil: null }),
  bot: fc.boolean(),
  val: fc.boolean(),
});

/** Existing rules, as hit columns `_rg_e<i>` the way createSample makes them. */
const EXISTING = ['ratio > 0.3', "client in ('curl', 'it''s') or flag"];

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(() => store.close());

/** A term no atom has: a number feature against any of the data's values (ties) or a value between. */
const variant = (feature: 'ratio' | 'big', op: ComparisonOp, v: number): Term => {
  const ast = comparison(feature, op, v);
  return { atom: { key: print(ast), feature, ast, spec: { op: 'ge', value: v } }, pred: compilePredicate(ast, catalog) };
};
const VARIANT_VALUES = { ratio: [...RATIOS.filter((x) => !Number.isNaN(x)), 0.3, -1, 2], big: [...BIGS, 2.5, 2 ** 53 + 1] };
const OPS: ComparisonOp[] = ['<', '<=', '>', '>=', '=', '!='];

async function counters(terms: Term[]): Promise<AtomCounter[]> {
  const bins = await addBins(store, FEATURES, terms);
  const out: AtomCounter[] = [sqlCounter(store, bins, terms), (await bitmapCounter(store, bins, terms, EXISTING.length))!];
  process.env['RULEGEN_KERNEL_SIMD'] = '0';
  try {
    out.push((await bitmapCounter(store, bins, terms, EXISTING.length))!);
  } finally {
    delete process.env['RULEGEN_KERNEL_SIMD'];
  }
  return out;
}

/** Every counter gives what the first (SQL) gives; one after the other, as they share the store's connection. */
async function same(cs: AtomCounter[], f: (c: AtomCounter) => Promise<unknown>): Promise<void> {
  const results: unknown[] = [];
  for (const c of cs) results.push(await f(c));
  for (const r of results.slice(1)) expect(r).toEqual(results[0]);
}

describe('whole rules on the sample: bitmaps vs SQL', () => {
  it('gives the same validation, sample, judgement and coverage counts on random samples, rules and rounding variants', async () => {
    const pick = fc.record({ atoms: fc.array(fc.nat(), { maxLength: 3 }), variant: fc.option(fc.tuple(fc.boolean(), fc.nat(), fc.nat())) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 200 }),
        fc.array(pick, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        async (rows, picks, cover) => {
          await makeSample(store, rows, EXISTING);
          const terms = await termsOf(store);
          if (terms.length === 0) return;
          const conjs = picks.map((p) => {
            const ts = p.atoms.map((a) => terms[a % terms.length]!);
            if (p.variant) {
              const [isBig, o, v] = p.variant;
              const values = VARIANT_VALUES[isBig ? 'big' : 'ratio'];
              ts.push(variant(isBig ? 'big' : 'ratio', OPS[o % OPS.length]!, values[v % values.length]!));
            }
            return ts.length ? ts : [terms[0]!];
          });
          const cs = await counters(terms);
          const all = async () => {
            await same(cs, (c) => c.onValidation(conjs));
            await same(cs, (c) => c.onSample(conjs));
            await same(cs, (c) => c.judge(conjs, EXISTING.length));
            await same(cs, (c) => c.uncoveredFitBots());
          };
          await all();
          // coverage as the covering loop moves it: a chosen rule, then an existing rule's bots
          const rule: SampleRule = { terms: conjs[cover % conjs.length]! };
          await same(cs, (c) => c.coverNew(rule));
          await same(cs, (c) => c.cover(rule, false));
          await all();
          const ex: SampleRule = { existing: cover % EXISTING.length };
          await same(cs, (c) => c.coverNew(ex));
          await same(cs, (c) => c.cover(ex, true));
          await all();
          await same(cs, (c) => c.score([[terms[cover % terms.length]!]]));
          await same(cs, (c) => c.resetCoverage());
          await all();
        },
      ),
      { numRuns: 30, seed: 21 },
    );
  });

  it('counts NaN above every threshold and NULL nowhere, as DuckDB does', async () => {
    const base = { big: null, flag: null, client: null, val: true };
    await makeSample(
      store,
      [
        { ...base, ratio: NaN, bot: true },
        { ...base, ratio: null, bot: true },
        { ...base, ratio: 0.5, bot: false },
        { ...base, ratio: -0, bot: false },
      ],
      EXISTING,
    );
    const terms = await termsOf(store);
    const [sql, bits] = await counters(terms);
    for (const [op, tp, fp] of [
      ['>', 1, 1],
      ['<', 0, 1],
      ['!=', 1, 2],
      ['=', 0, 0],
    ] as const) {
      const conj = [[variant('ratio', op, 0.3)]];
      expect(await bits!.onValidation(conj)).toEqual([{ tp, fp }]);
      expect(await sql!.onValidation(conj)).toEqual([{ tp, fp }]);
    }
    expect(await bits!.onValidation([[variant('ratio', '=', 0)]])).toEqual([{ tp: 0, fp: 1 }]);
  });

  it('popcounts a word', () => {
    for (const [x, n] of [
      [0, 0],
      [-1, 32],
      [1, 1],
      [0x80000000 | 0, 1],
      [0x55555555, 16],
      [0x0f0f00ff, 16],
    ] as const)
      expect(popcount(x)).toBe(n);
  });
});
