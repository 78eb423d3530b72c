import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { makeCatalog, type Catalog } from '../../src/catalog/schema.js';
import { DEFAULT_CONFIG, type Config } from '../../src/config/schema.js';
import { quoteString, Store } from '../../src/db/store.js';
import { loadImport } from '../../src/rank/import.js';
import { rankFeatures } from '../../src/rank/rank.js';
import type { FeatureRank, Ranking } from '../../src/rank/types.js';
import { aucPairwise, categoryScores, fold, informationValue, ksStatistic, quantileLinear } from './oracle.js';

const DIR = join(import.meta.dirname, '../../fixtures/rank');
const config: Config = { ...DEFAULT_CONFIG, split: { test_fraction: 0.3, test_from: '2026-01-10' } };
const catalog = loadCatalog(join(DIR, 'features.yaml'));

async function fixtureStore(): Promise<Store> {
  const s = await Store.open();
  await s.run(`CREATE TABLE sessions AS SELECT * FROM read_csv(${quoteString(join(DIR, 'sessions.csv'))}, header = true, columns = {
    'session_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'label': 'INTEGER', 'x': 'DOUBLE', 'y': 'DOUBLE', 'flag': 'BOOLEAN',
    'kind': 'VARCHAR', 'empty': 'DOUBLE', 'konst': 'DOUBLE', 'late': 'DOUBLE', 'secret': 'DOUBLE'})`);
  return s;
}

/** The train window's labelled rows, read whole: the oracle works row by row. */
async function trainRows(s: Store): Promise<Record<string, unknown>[]> {
  return s.all(`SELECT * FROM sessions WHERE ts < TIMESTAMP '2026-01-10' AND label IS NOT NULL`);
}

const get = (r: Ranking, name: string): FeatureRank => {
  const f = r.features.find((x) => x.feature === name);
  if (!f) throw new Error(`no ${name} in the ranking`);
  return f;
};

function split(rows: Record<string, unknown>[], col: string): { bots: number[]; humans: number[]; labelled: { value: number | null; bot: boolean }[] } {
  const labelled = rows.map((r) => ({ value: r[col] === null ? null : Number(r[col]), bot: r['label'] === 1 }));
  return {
    bots: labelled.filter((r) => r.bot && r.value !== null).map((r) => r.value!),
    humans: labelled.filter((r) => !r.bot && r.value !== null).map((r) => r.value!),
    labelled,
  };
}

describe('rank on the fixture (ties, nulls, bad columns)', () => {
  let store: Store;
  let rows: Record<string, unknown>[];
  let ranking: Ranking;
  beforeAll(async () => {
    store = await fixtureStore();
    rows = await trainRows(store);
    ranking = await rankFeatures(store, config, catalog);
  });
  afterAll(() => store.close());

  it('counts the labelled train rows', () => {
    const bots = rows.filter((r) => r['label'] === 1).length;
    expect(ranking.bots).toBe(bots);
    expect(ranking.humans).toBe(rows.length - bots);
    expect(ranking.base_rate).toBeCloseTo(bots / rows.length, 12);
    expect(ranking.window.name).toBe('train');
    expect(ranking.window.to).toBe('2026-01-10T00:00:00.000Z');
  });

  it.each(['x', 'y', 'secret', 'flag', 'konst'])('%s: AUC, KS, IV, quantiles, coverage and nulls match the row-by-row definitions', (name) => {
    const { bots, humans, labelled } = split(rows, name);
    const f = get(ranking, name);
    const raw = aucPairwise(bots, humans)!;
    expect(f.auc).toBeCloseTo(fold(raw)!, 12);
    expect(f.direction).toBe(raw > 0.5 ? 'higher' : raw < 0.5 ? 'lower' : null);
    expect(f.ks).toBeCloseTo(ksStatistic(bots, humans)!, 12);
    expect(f.iv).toBeCloseTo(informationValue(labelled, true)!, 12);
    const nBots = labelled.filter((r) => r.bot).length;
    expect(f.coverage).toBeCloseTo(labelled.filter((r) => r.value !== null).length / labelled.length, 12);
    expect(f.nulls.bot).toBeCloseTo(labelled.filter((r) => r.bot && r.value === null).length / nBots, 12);
    expect(f.nulls.human).toBeCloseTo(labelled.filter((r) => !r.bot && r.value === null).length / (labelled.length - nBots), 12);
    if (f.type === 'number') {
      for (const p of [1, 5, 25, 50, 75, 95, 99] as const) {
        expect(f.quantiles!.bot[`p${p}`]).toBeCloseTo(quantileLinear(bots, p / 100)!, 12);
        expect(f.quantiles!.human[`p${p}`]).toBeCloseTo(quantileLinear(humans, p / 100)!, 12);
      }
    }
  });

  it('has real ties in the fixture, so the tie rule is exercised', () => {
    const { bots, humans } = split(rows, 'x');
    expect(bots.some((b) => humans.includes(b))).toBe(true);
    expect(get(ranking, 'x').direction).toBe('higher');
    expect(get(ranking, 'y').direction).toBe('lower');
  });

  it('quantiles agree with DuckDB quantile_cont', async () => {
    const q = await store.one<{ b50: number; h95: number; b1: number }>(
      `SELECT quantile_cont(x, 0.5) FILTER (WHERE label = 1) AS b50, quantile_cont(x, 0.95) FILTER (WHERE label = 0) AS h95, quantile_cont(y, ` +
        `0.01) FILTER (WHERE label = 1) AS b1 FROM sessions WHERE ts < TIMESTAMP '2026-01-10'`,
    );
    expect(get(ranking, 'x').quantiles!.bot.p50).toBeCloseTo(q!.b50, 12);
    expect(get(ranking, 'x').quantiles!.human.p95).toBeCloseTo(q!.h95, 12);
    expect(get(ranking, 'y').quantiles!.bot.p1).toBeCloseTo(q!.b1, 12);
  });

  it('category: AUC and KS over categories ordered by bot rate, IV per value, lifts with shares', () => {
    const labelled = rows.map((r) => ({ value: (r['kind'] as string | null) ?? null, bot: r['label'] === 1 }));
    const score = categoryScores(labelled);
    const bots = labelled.filter((r) => r.bot && r.value !== null).map((r) => score.get(r.value!)!);
    const humans = labelled.filter((r) => !r.bot && r.value !== null).map((r) => score.get(r.value!)!);
    const f = get(ranking, 'kind');
    expect(f.auc).toBeCloseTo(aucPairwise(bots, humans)!, 12);
    expect(f.ks).toBeCloseTo(ksStatistic(bots, humans)!, 12);
    expect(f.iv).toBeCloseTo(informationValue(labelled, false)!, 12);
    expect(f.direction).toBeNull();
    expect(f.notes.join(' ')).toMatch(/optimistic/);
    const nb = labelled.filter((r) => r.bot).length;
    const nh = labelled.length - nb;
    const lifts = f.categories!;
    expect(lifts.map((c) => c.value).sort()).toEqual([...score.keys()].sort());
    for (const c of lifts) {
      const b = labelled.filter((r) => r.bot && r.value === c.value).length;
      const h = labelled.filter((r) => !r.bot && r.value === c.value).length;
      expect(c.bot_share).toBeCloseTo(b / nb, 12);
      expect(c.human_share).toBeCloseTo(h / nh, 12);
      expect(c.lift).toBe(h > 0 ? b / nb / (h / nh) : null);
    }
    // by lift, best first (a value no human has would come first)
    const l = lifts.map((c) => c.lift ?? Infinity);
    expect([...l].sort((a, b) => b - a)).toEqual(l);
    expect(lifts[0]!.value).toBe('delta');
  });

  it('boolean: categories true/false by lift, AUC of true as the higher score', () => {
    const f = get(ranking, 'flag');
    expect(f.categories!.map((c) => c.value)).toEqual(['true', 'false']);
    expect(f.direction).toBe('higher');
    expect(f.quantiles).toBeUndefined();
  });

  it('all-null, constant, unlabelled-only and missing columns: a note each, the rest still ranked', async () => {
    const empty = get(ranking, 'empty');
    expect(empty).toMatchObject({ auc: null, ks: null, iv: null, coverage: 0, importance: 0 });
    expect(empty.notes.join(' ')).toMatch(/all null in the train window/);
    const konst = get(ranking, 'konst');
    expect(konst.notes.join(' ')).toMatch(/constant: every labelled value is 7/);
    expect(konst).toMatchObject({ auc: 0.5, ks: 0, direction: null });
    expect(konst.iv).toBeGreaterThan(0); // bots miss it more often: the null bin separates
    const late = get(ranking, 'late');
    const n = (await store.one<{ n: number }>(`SELECT count(late) AS n FROM sessions WHERE ts < TIMESTAMP '2026-01-10'`))!.n;
    expect(n).toBeGreaterThan(0);
    expect(late.notes).toContain(`no labelled row has a value (${n} unlabelled rows do): nothing to rank on`);
    expect(late.auc).toBeNull();
    const missing = get(ranking, 'missing');
    expect(missing.notes.join(' ')).toMatch(/no column "missing"/);
    expect(ranking.warnings.join('\n')).toMatch(/missing: no such column/);
    // features without any statistic sort last
    const names = ranking.features.map((f) => f.feature);
    expect(names.slice(-3).sort()).toEqual(['empty', 'late', 'missing']);
    const withStats = ranking.features.slice(0, -3).map((f) => f.importance);
    expect([...withStats].sort((a, b) => b - a)).toEqual(withStats);
  });

  it('marks sensitive features and ranks them all the same', () => {
    expect(get(ranking, 'secret').sensitive).toBe(true);
    expect(get(ranking, 'x').sensitive).toBeUndefined();
    expect(get(ranking, 'secret').auc).not.toBeNull();
  });

  it('merges an imported importance side by side and reports bad rows', async () => {
    const imported = loadImport(join(DIR, 'import-bad.csv'), catalog);
    const r = await rankFeatures(store, config, catalog, { imported });
    expect(get(r, 'x').imported).toEqual({ importance: 0.31, std: 0.02 });
    expect(get(r, 'kind').imported).toEqual({ importance: 0.05, std: 0.01 });
    expect(get(r, 'y').imported).toBeUndefined();
    expect(get(r, 'x').auc).toBe(get(ranking, 'x').auc);
    expect(r.warnings.filter((w) => w.includes('import-bad.csv')).length).toBe(imported.problems.length);
  });

  it('uses a bounded number of statements, whatever the number of features', async () => {
    const count = async (cat: Catalog) => {
      let n = 0;
      const spy = new Proxy(store, {
        get(target, prop, recv) {
          const v = Reflect.get(target, prop, recv);
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            if (['all', 'one', 'run', 'describe'].includes(String(prop))) n++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      await rankFeatures(spy, config, cat);
      return n;
    };
    const few = await count(makeCatalog(catalog.features.filter((f) => ['x', 'flag', 'kind'].includes(f.name))));
    const all = await count(makeCatalog(catalog.features.filter((f) => !['empty', 'late', 'missing'].includes(f.name))));
    expect(all).toBe(few);
    expect(all).toBeLessThanOrEqual(13);
  });
});

describe('rank without bots or without labels', () => {
  it('no bots in the train window: a warning, AUC/KS/IV undefined, coverage and human quantiles still there', async () => {
    const s = await fixtureStore();
    try {
      await s.run('UPDATE sessions SET label = 0 WHERE label = 1');
      const r = await rankFeatures(s, config, catalog);
      expect(r.bots).toBe(0);
      expect(r.base_rate).toBe(0);
      expect(r.warnings.join('\n')).toMatch(/no bots \(label 1\) in the train window/);
      for (const f of r.features) expect(f).toMatchObject({ auc: null, ks: null, iv: null });
      const x = get(r, 'x');
      expect(x.coverage).toBeGreaterThan(0.5);
      expect(x.quantiles!.bot.p50).toBeNull();
      expect(x.quantiles!.human.p50).not.toBeNull();
    } finally {
      s.close();
    }
  });

  it('no labelled rows at all: a warning, every feature says so', async () => {
    const s = await fixtureStore();
    try {
      await s.run('UPDATE sessions SET label = NULL');
      const r = await rankFeatures(s, config, catalog);
      expect(r).toMatchObject({ bots: 0, humans: 0, base_rate: null });
      expect(r.warnings.join('\n')).toMatch(/no labelled rows in the train window/);
      expect(get(r, 'x').notes).toContain('no labelled rows in the train window');
    } finally {
      s.close();
    }
  });
});

describe('rank against the row-by-row definitions on random data', () => {
  const rowArb = fc.record({
    label: fc.constantFrom(0, 1, 1, null),
    a: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 4 }),
    b: fc.option(fc.boolean(), { nil: null, freq: 4 }),
    c: fc.option(fc.constantFrom('p', 'q', 'r', 's'), { nil: null, freq: 4 }),
  });
  const cat = makeCatalog([
    { name: 'a', type: 'number', description: 'a', sensitive: false },
    { name: 'b', type: 'boolean', description: 'b', sensitive: false },
    { name: 'c', type: 'category', description: 'c', sensitive: false },
  ]);
  const cfg: Config = { ...DEFAULT_CONFIG, split: { test_fraction: 0.3, test_from: '2030-01-01' } };

  it('AUC, KS and IV match for numbers, booleans and categories', async () => {
    const s = await Store.open();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(rowArb, { minLength: 2, maxLength: 120 }), async (data) => {
          await s.run('CREATE OR REPLACE TABLE sessions (session_id VARCHAR, ts TIMESTAMP, label INTEGER, a DOUBLE, b BOOLEAN, c VARCHAR)');
          await s.appendColumns(
            'sessions',
            [
              data.map((_, i) => `s${i}`),
              data.map(() => '2026-01-01 00:00:00'),
              data.map((d) => d.label),
              data.map((d) => d.a),
              data.map((d) => d.b),
              data.map((d) => d.c),
            ],
            data.length,
          );
          const r = await rankFeatures(s, cfg, cat);
          const lab = data.filter((d) => d.label !== null);
          const bothLabels = lab.some((d) => d.label === 1) && lab.some((d) => d.label === 0);
          for (const name of ['a', 'b'] as const) {
            const rows = lab.map((d) => ({ value: d[name] === null ? null : Number(d[name]), bot: d.label === 1 }));
            const bots = rows.filter((x) => x.bot && x.value !== null).map((x) => x.value!);
            const humans = rows.filter((x) => !x.bot && x.value !== null).map((x) => x.value!);
            const f = get(r, name);
            const auc = bothLabels ? fold(aucPairwise(bots, humans)) : null;
            if (auc === null) expect(f.auc).toBeNull();
            else expect(f.auc).toBeCloseTo(auc, 12);
            const ks = bothLabels ? ksStatistic(bots, humans) : null;
            if (ks === null) expect(f.ks).toBeNull();
            else expect(f.ks).toBeCloseTo(ks, 12);
            const iv = bothLabels && rows.some((x) => x.value !== null) ? informationValue(rows, true) : null;
            if (iv === null) expect(f.iv).toBeNull();
            else expect(f.iv).toBeCloseTo(iv, 12);
          }
          const crow = lab.map((d) => ({ value: d.c, bot: d.label === 1 }));
          const score = categoryScores(crow);
          const cb = crow.filter((x) => x.bot && x.value !== null).map((x) => score.get(x.value!)!);
          const ch = crow.filter((x) => !x.bot && x.value !== null).map((x) => score.get(x.value!)!);
          const fc_ = get(r, 'c');
          const cauc = bothLabels ? aucPairwise(cb, ch) : null;
          if (cauc === null) expect(fc_.auc).toBeNull();
          else expect(fc_.auc).toBeCloseTo(cauc, 12);
          const civ = bothLabels && crow.some((x) => x.value !== null) ? informationValue(crow, false) : null;
          if (civ === null) expect(fc_.iv).toBeNull();
          else expect(fc_.iv).toBeCloseTo(civ, 12);
        }),
        { numRuns: 40, seed: 20260125 },
      );
    } finally {
      s.close();
    }
  });
});
