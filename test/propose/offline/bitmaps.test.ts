import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../src/db/store.js';
import { addBins, sqlCounter, type AtomCounter } from '../../../src/propose/offline/bins.js';
import { bitmapCounter, numberCode } from '../../../src/propose/offline/bitmaps.js';
import { FEATURES, makeSample, termsOf } from './sample-fixture.js';

/** One row of the sample: the features (null = NULL), the label, the slice and the coverage flags. */
const row = fc.record({
  ratio: fc.option(fc.constantFrom(0, -0, 1, 0.25, 0.5, 0.75, 1e-300, 0.3333333333333333, NaN, Infinity), { nil: null }),
  big: fc.option(fc.constantFrom(0, 1, 2, 3, 2 ** 53, 2 ** 53 + 2, 9007199254740993), { nil: null }),
  flag: fc.option(fc.boolean(), { nil: null }),
  client: fc.option(fc.constantFrom('curl', 'chrome', "it's", 'say "hi"', ''), { nil: null }),
  bot: fc.boolean(),
  val: fc.boolean(),
  cov: fc.boolean(),
});

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(() => store.close());

describe('the covering search counter: bitmaps vs SQL histograms', () => {
  it('gives identical counts for every atom (SIMD and plain-JS popcounts): no parent, random parents, newly covered bots, after coverage changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), async (rows, picks) => {
        await makeSample(store, rows);
        const terms = await termsOf(store);
        if (terms.length === 0) return;
        const bins = await addBins(store, FEATURES, terms);
        // SQL histograms, bitmaps by WebAssembly SIMD (where the runtime has it) and by plain JS
        const counters: AtomCounter[] = [sqlCounter(store, bins, terms), (await bitmapCounter(store, bins, terms))!];
        process.env['RULEGEN_KERNEL_SIMD'] = '0';
        try {
          counters.push((await bitmapCounter(store, bins, terms))!);
        } finally {
          delete process.env['RULEGEN_KERNEL_SIMD'];
        }
        const parents = [
          ...picks.map((p) => [terms[p % terms.length]!]),
          picks.length >= 2 ? [terms[picks[0]! % terms.length]!, terms[picks[1]! % terms.length]!] : [],
        ].filter((p) => p.length);
        const same = async (f: (c: AtomCounter) => Promise<unknown>) => {
          // one after the other: they share the store's connection
          const results: unknown[] = [];
          for (const c of counters) results.push(await f(c));
          for (const r of results.slice(1)) expect(r).toEqual(results[0]);
        };
        await same((c) => c.score(null));
        if (parents.length) await same((c) => c.score(parents));
        // a rule covers some bots, as the covering loop does (each counter owns its coverage: the
        // SQL one in the table's flags, the bitmap ones in memory); its counts over just those bots
        const t = terms[(picks[0] ?? 0) % terms.length]!;
        await same((c) => c.coverNew({ terms: [t] }));
        await same((c) => c.score(parents.length ? parents : null));
      }),
      { numRuns: 40, seed: 13 },
    );
  });

  it('counts a hand-made sample exactly (nulls hold only for `is null`, -0 equals 0, integers beyond 2^53)', async () => {
    const base = { bot: true, val: false, cov: false, flag: null, client: null };
    await makeSample(store, [
      { ...base, ratio: 0, big: 2 ** 53 },
      { ...base, ratio: -0, big: 2 ** 53 + 2 },
      { ...base, ratio: null, big: null, bot: false },
      { ...base, ratio: 1, big: 1, bot: false },
    ]);
    const terms = await termsOf(store);
    const bins = await addBins(store, FEATURES, terms);
    const counter = (await bitmapCounter(store, bins, terms))!;
    const [counts] = await counter.score(null);
    const of = (key: string) => counts![terms.findIndex((t) => t.atom.key === key)]!;
    expect(of('ratio = 0')).toEqual({ tpAll: 2, tpNew: 2, fp: 0 });
    expect(of('ratio > 0')).toEqual({ tpAll: 0, tpNew: 0, fp: 1 });
    expect(of('big = 9007199254740994')).toEqual({ tpAll: 1, tpNew: 1, fp: 0 });
    expect(counter.searched).toBe(terms.length);
    // beyond its memory budget the bitmap counter declines (the caller counts by SQL)
    expect(await bitmapCounter(store, bins, terms, 0, 4 * terms.length * 4 - 1)).toBeNull();
    expect(await bitmapCounter(store, bins, terms, 0, 4 * terms.length * 4)).not.toBeNull();
  });

  it('counts a category of many values (more codes than prefix bitmaps are kept for) as SQL does', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => ({
      ratio: null,
      big: null,
      flag: null,
      // 400 values, a few of them mostly bots (by lift), one NULL in 7
      client: i % 7 === 0 ? null : `c${i % 400}`,
      bot: i % 400 < 30 || i % 5 === 0,
      val: i % 3 === 0,
      cov: i % 11 === 0,
    }));
    await makeSample(store, rows);
    const terms = await termsOf(store);
    expect(terms.some((t) => t.atom.spec.op === 'in')).toBe(true);
    const bins = await addBins(store, FEATURES, terms);
    const parents = [[terms.find((t) => t.atom.spec.op === 'in')!]];
    const sql = sqlCounter(store, bins, terms);
    const bits = (await bitmapCounter(store, bins, terms))!;
    expect(await bits.score(null)).toEqual(await sql.score(null));
    expect(await bits.score(parents)).toEqual(await sql.score(parents));
  });

  it('codes a number among the thresholds as the SQL bin column does (ties odd, NaN above all, -0 = 0)', () => {
    const T = [0, 0.5, 2];
    expect([-1, -0, 0, 0.25, 0.5, 1, 2, 3, Infinity, NaN].map((v) => numberCode(v, T))).toEqual([0, 1, 1, 2, 3, 4, 5, 6, 6, 6]);
    expect(numberCode(7, [])).toBe(0);
  });
});
