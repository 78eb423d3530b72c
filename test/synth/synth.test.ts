import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, quoteString, type Row } from '../../src/db/store.js';
import { InputError } from '../../src/errors.js';
import { parseCatalog } from '../../src/catalog/load.js';
import { runCli, tmpDir } from '../helpers/cli.js';
import { ARCHETYPES, configuredBotShare } from '../../src/synth/archetypes.js';
import { renderCatalogYaml, synthCatalog } from '../../src/synth/catalog.js';
import { LABEL_NOISE, MISSING_AT_RANDOM, SYNTH_BASE_COLUMNS, synthesize, synthSql } from '../../src/synth/generate.js';

let dir: string;
let store: Store;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const BOTS = `(${ARCHETYPES.filter((a) => a.label === 1)
  .map((a) => quoteString(a.name))
  .join(', ')})`;

beforeAll(async () => {
  dir = tmpDir('rulegen-synth-');
  store = await Store.open();
});

afterAll(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('archetypes', () => {
  it('shares sum to 1 and bots are 25-35% of sessions', () => {
    expect(ARCHETYPES.reduce((s, a) => s + a.share, 0)).toBeCloseTo(1, 10);
    expect(configuredBotShare()).toBeGreaterThanOrEqual(0.25);
    expect(configuredBotShare()).toBeLessThanOrEqual(0.35);
    expect(new Set(ARCHETYPES.map((a) => a.name)).size).toBe(ARCHETYPES.length);
  });
});

describe('synthCatalog', () => {
  const features = synthCatalog();

  it('has at least 20 features of all three types, described for a reader', () => {
    expect(features.length).toBeGreaterThanOrEqual(20);
    expect(new Set(features.map((f) => f.type))).toEqual(new Set(['number', 'boolean', 'category']));
    for (const f of features) {
      expect(f.description.length, f.name).toBeGreaterThan(20);
      if (f.type === 'number') expect(f.range, f.name).toBeDefined();
      if (f.type === 'category') expect(f.values?.length, f.name).toBeGreaterThan(1);
    }
    expect(features.filter((f) => f.sensitive).map((f) => f.name)).toEqual(['ip_reputation_score']);
  });

  it('never exposes ground truth or raw identifiers as features', () => {
    const names = new Set(features.map((f) => f.name));
    for (const c of SYNTH_BASE_COLUMNS) expect(names.has(c), c).toBe(false);
  });

  it('renders a commented features.yaml that the catalog loader accepts', () => {
    const text = renderCatalogYaml(features);
    expect(text.startsWith('# ')).toBe(true);
    const catalog = parseCatalog(text, 'features.yaml');
    expect(catalog.features).toEqual(features);
  });

  it('returns a fresh copy each time', () => {
    const a = synthCatalog();
    a[0]!.description = 'changed';
    expect(synthCatalog()[0]!.description).not.toBe('changed');
  });
});

describe('synthesize: determinism', () => {
  for (const ext of ['parquet', 'csv'] as const) {
    it(`writes byte-identical ${ext} for the same seed, and different bytes for another`, async () => {
      const opts = { sessions: 20_000, days: 7, seed: 42 };
      const a = await synthesize(store, { ...opts, out: join(dir, `det-a.${ext}`), catalogOut: join(dir, 'det', 'a.yaml') });
      const b = await synthesize(store, { ...opts, out: join(dir, `det-b.${ext}`), catalogOut: join(dir, 'det', 'b.yaml') });
      const c = await synthesize(store, { ...opts, seed: 43, out: join(dir, `det-c.${ext}`), catalogOut: join(dir, 'det', 'c.yaml') });
      expect(a.rows).toBe(20_000);
      expect(sha256(a.out)).toBe(sha256(b.out));
      expect(sha256(a.out)).not.toBe(sha256(c.out));
      expect(readFileSync(a.catalog, 'utf8')).toBe(readFileSync(b.catalog, 'utf8'));
      if (ext === 'parquet') {
        // The bytes are only stable because rows come out in id order; check that directly too.
        const r = await store.one<{ n: number; ids: number; out_of_order: number }>(
          `SELECT count(*) AS n, count(DISTINCT session_id) AS ids,
             sum(CASE WHEN CAST(substr(session_id, 2) AS BIGINT) = file_row_number THEN 0 ELSE 1 END) AS out_of_order
           FROM read_parquet(${quoteString(a.out)}, file_row_number = true)`,
        );
        expect(r).toEqual({ n: 20_000, ids: 20_000, out_of_order: 0 });
      }
    });
  }

  it('keeps row-id order at a scale where DuckDB runs the plan on several threads', async () => {
    // Only the ids are written, so DuckDB prunes the work but keeps the plan's shape: a join
    // or another order-breaking operator in the statement shows up here as rows out of order.
    const file = join(dir, 'order.parquet');
    const sql = synthSql({ sessions: 3_000_000, days: 21, seed: 1, start: new Date('2026-01-01T00:00:00Z') });
    await store.run(`COPY (SELECT session_id FROM (${sql})) TO ${quoteString(file)} (FORMAT parquet)`);
    const r = await store.one<{ n: number; out_of_order: number }>(
      `SELECT count(*) AS n, sum(CASE WHEN CAST(substr(session_id, 2) AS BIGINT) = file_row_number THEN 0 ELSE 1 END) AS out_of_order
       FROM read_parquet(${quoteString(file)}, file_row_number = true)`,
    );
    expect(r).toEqual({ n: 3_000_000, out_of_order: 0 });
  });
});

describe('synthesize: a 50k-session data set', () => {
  let file: string;
  let view: string;
  const q = <T extends Row>(sql: string) => store.all<T>(sql.replaceAll('$d', view));

  beforeAll(async () => {
    file = join(dir, 'big', 'sessions.parquet');
    const summary = await synthesize(store, { sessions: 50_000, days: 21, seed: 7, out: file });
    expect(summary.catalog).toBe(join(dir, 'big', 'features.yaml'));
    view = `read_parquet(${quoteString(file)})`;
  });

  it('has the base columns, then every catalog feature with its SQL type', async () => {
    const cols = await store.describe(`SELECT * FROM ${view}`);
    const features = synthCatalog();
    expect(cols.map((c) => c.name)).toEqual([...SYNTH_BASE_COLUMNS, ...features.map((f) => f.name)]);
    const types = Object.fromEntries(cols.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      session_id: 'VARCHAR',
      ts: 'TIMESTAMP',
      label: 'INTEGER',
      country: 'VARCHAR',
      device_class: 'VARCHAR',
      archetype: 'VARCHAR',
      client_ip: 'VARCHAR',
      user_agent: 'VARCHAR',
    });
    for (const f of features) expect(types[f.name], f.name).toBe({ number: 'DOUBLE', boolean: 'BOOLEAN', category: 'VARCHAR' }[f.type]);
  });

  it('writes a features.yaml next to the data that the loader accepts', () => {
    const catalog = parseCatalog(readFileSync(join(dir, 'big', 'features.yaml'), 'utf8'), 'features.yaml');
    expect(catalog.features.map((f) => f.name)).toEqual(synthCatalog().map((f) => f.name));
  });

  it('keeps every archetype within 2 points of its configured share', async () => {
    const rows = await q<{ archetype: string; share: number }>(`SELECT archetype, count(*) / 50000.0 AS share FROM $d GROUP BY 1`);
    expect(rows.length).toBe(ARCHETYPES.length);
    for (const a of ARCHETYPES) {
      const got = rows.find((r) => r.archetype === a.name)?.share ?? 0;
      expect(Math.abs(got - a.share), a.name).toBeLessThanOrEqual(0.02);
    }
  });

  it('keeps values inside the catalog ranges and category lists', async () => {
    for (const f of synthCatalog()) {
      if (f.type === 'number' && f.range) {
        const [lo, hi] = f.range;
        const r = await q<{ bad: number }>(`SELECT count(*) AS bad FROM $d WHERE ${f.name} < ${lo ?? '-1e308'} OR ${f.name} > ${hi ?? '1e308'}`);
        expect(r[0]!.bad, f.name).toBe(0);
      }
      if (f.type === 'category') {
        const r = await q<{ v: string }>(`SELECT DISTINCT ${f.name} AS v FROM $d WHERE ${f.name} IS NOT NULL`);
        for (const { v } of r) expect(f.values, f.name).toContain(v);
      }
    }
  });

  it('adds label noise: unlabelled rows, bots labelled human, a few humans labelled bot', async () => {
    const [r] = await q<{ unlabelled: number; bot_as_human: number; human_as_bot: number }>(
      `SELECT avg(CASE WHEN label IS NULL THEN 1 ELSE 0 END) AS unlabelled,
         sum(CASE WHEN archetype IN ${BOTS} AND label = 0 THEN 1 ` +
        `ELSE 0 END) / sum(CASE WHEN archetype IN ${BOTS} AND label IS NOT NULL THEN 1 ELSE 0 END) AS bot_as_human,
         sum(CASE WHEN ` +
        `archetype NOT IN ${BOTS} AND label = 1 THEN 1 ELSE 0 END) / sum(CASE WHEN archetype NOT IN ${BOTS} AND label IS NOT NULL THEN 1 ELSE 0 ` +
        `END) AS human_as_bot
       FROM $d`,
    );
    expect(r!.unlabelled).toBeGreaterThan(LABEL_NOISE.unlabelled - 0.01);
    expect(r!.unlabelled).toBeLessThan(LABEL_NOISE.unlabelled + 0.01);
    expect(r!.bot_as_human).toBeGreaterThan(0.005);
    expect(r!.bot_as_human).toBeLessThan(0.015);
    expect(r!.human_as_bot).toBeGreaterThan(0);
    expect(r!.human_as_bot).toBeLessThan(0.005);
  });

  it('leaves NULLs where telemetry is blocked or a lookup failed, and nowhere else', async () => {
    const features = synthCatalog();
    const nulls = await q<Record<string, number>>(
      `SELECT ${features.map((f) => `avg(CASE WHEN ${f.name} IS NULL THEN 1 ELSE 0 END) AS ${f.name}`).join(', ')} FROM $d`,
    );
    const telemetry = ['pointer_events', 'keyboard_nav_ratio', 'plugins_count', 'webdriver_flag'];
    for (const f of features) {
      const share = nulls[0]![f.name]!;
      if (telemetry.includes(f.name)) expect(share, f.name).toBeGreaterThan(0.1);
      else if (f.name in MISSING_AT_RANDOM) expect(share, f.name).toBeGreaterThan(0);
      else if (f.name === 'mean_interarrival_ms' || f.name === 'interarrival_cv') expect(share, f.name).toBeLessThan(0.05);
      else expect(share, f.name).toBe(0);
    }
    const [privacy] = await q<{ blocked: number }>(
      `SELECT avg(CASE WHEN pointer_events IS NULL THEN 1 ELSE 0 END) AS blocked FROM $d WHERE archetype = 'privacy_browser'`,
    );
    expect(privacy!.blocked).toBeGreaterThan(0.7);
  });

  it('sets false-positive traps: people who look like bots on one feature', async () => {
    const [r] = await q<Record<string, number>>(
      `SELECT
         avg(CASE WHEN archetype = 'assistive_tech' THEN (pointer_events = 0)::INT END) AS assistive_no_pointer,
         avg(CASE WHEN archetype = 'headless_browser' THEN (pointer_events = 0)::INT END) AS headless_no_pointer,
         median(CASE WHEN archetype = 'corporate_nat' THEN sessions_per_ip END) AS corporate_per_ip,
         median(CASE WHEN archetype = 'fast_scraper' THEN sessions_per_ip END) AS scraper_per_ip,
         avg(CASE WHEN archetype = 'privacy_browser' THEN referrer_present::INT END) AS privacy_referrer,
         avg(CASE WHEN archetype = 'fast_scraper' THEN referrer_present::INT END) AS scraper_referrer,
         median(CASE WHEN archetype = 'power_user' THEN requests_per_minute END) AS power_rpm,
         median(CASE WHEN archetype = 'power_user' THEN static_asset_ratio END) AS power_assets
       FROM $d`,
    );
    expect(r!['assistive_no_pointer']).toBeGreaterThan(r!['headless_no_pointer']!);
    expect(r!['corporate_per_ip']).toBeGreaterThan(r!['scraper_per_ip']!);
    expect(r!['privacy_referrer']).toBeLessThan(r!['scraper_referrer']!);
    expect(r!['power_rpm']).toBeGreaterThan(15);
    expect(r!['power_assets']).toBeGreaterThan(0.3);
  });

  it('has no single feature that separates bots from people', async () => {
    // A rule on one feature that catches 80% of bots must also hit over 1% of people.
    const features = synthCatalog();
    const truth = `(archetype IN ${BOTS})::INT`;
    for (const f of features) {
      let best: { recall: number; fpr: number }[];
      if (f.type === 'number') {
        best = await q<{ recall: number; fpr: number }>(
          `WITH t AS (SELECT unnest(quantile_disc(${f.name}, [${Array.from({ length: 99 }, (_, i) => (i + 1) / 100).join(', ')}])) AS thr FROM ` +
            `$d),
                x AS (SELECT ${f.name} AS v, ${truth} AS b FROM $d)
           SELECT sum(CASE WHEN b = 1 AND v > thr THEN 1 ` +
            `ELSE 0 END) / sum(b) AS recall, sum(CASE WHEN b = 0 AND v > thr THEN 1 ELSE 0 END) / sum(1 - b) AS fpr FROM t, x GROUP BY thr
       ` +
            `    UNION ALL
           SELECT sum(CASE WHEN b = 1 AND v < thr THEN 1 ELSE 0 END) / sum(b), sum(CASE WHEN b = 0 AND v < thr THEN 1 ` +
            `ELSE 0 END) / sum(1 - b) FROM t, x GROUP BY thr`,
        );
      } else {
        best = await q<{ recall: number; fpr: number }>(
          `SELECT sum(${truth}) / (SELECT sum(${truth}) FROM $d) AS recall, sum(1 - ${truth}) / (SELECT sum(1 - ${truth}) FROM $d) AS fpr FROM ` +
            `$d GROUP BY ${f.name}`,
        );
      }
      for (const b of best) expect(b.recall >= 0.8 && b.fpr <= 0.01, `${f.name}: recall ${b.recall}, fpr ${b.fpr}`).toBe(false);
    }
  });

  it('gives people daily and weekly seasonality and puts low-and-slow bots at night', async () => {
    const [r] = await q<Record<string, number>>(
      `SELECT
         avg(CASE WHEN archetype = 'human_desktop' THEN (hour(ts) BETWEEN 1 AND 5)::INT END) AS human_small_hours,
         avg(CASE WHEN archetype = 'low_and_slow' THEN (hour(ts) BETWEEN 0 AND 6)::INT END) AS slow_night,
         avg(CASE WHEN archetype = 'human_desktop' THEN (dayofweek(ts) IN (0, 6))::INT END) AS human_weekend,
         avg(CASE WHEN archetype = 'fast_scraper' THEN (dayofweek(ts) IN (0, 6))::INT END) AS scraper_weekend
       FROM $d`,
    );
    expect(r!['human_small_hours']).toBeLessThan(5 / 24);
    expect(r!['slow_night']).toBeGreaterThan(0.7);
    // 6 of the 21 days are weekend days: 29% if flat.
    expect(r!['human_weekend']).toBeLessThan(0.24);
    expect(r!['scraper_weekend']).toBeGreaterThan(0.25);
  });

  it('drifts: from two thirds of the span on, fast scrapers slow down and load some assets', async () => {
    const rows = await q<{ late: boolean; rpm: number; assets: number }>(
      `SELECT ts >= TIMESTAMP '2026-01-15' AS late, median(requests_per_minute) AS rpm, avg(static_asset_ratio) AS assets
       FROM $d WHERE archetype = 'fast_scraper' GROUP BY 1`,
    );
    const early = rows.find((r) => !r.late)!;
    const late = rows.find((r) => r.late)!;
    expect(late.rpm).toBeLessThan(early.rpm * 0.6);
    expect(late.assets).toBeGreaterThan(early.assets * 2);
  });

  it('spreads ts over the span from the default start', async () => {
    const [r] = await q<{ lo: Date; hi: Date }>(`SELECT min(ts) AS lo, max(ts) AS hi FROM $d`);
    expect(r!.lo.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-01-01T00:00:00Z'));
    expect(r!.lo.getTime()).toBeLessThan(Date.parse('2026-01-01T06:00:00Z'));
    expect(r!.hi.getTime()).toBeLessThan(Date.parse('2026-01-22T00:00:00Z'));
    expect(r!.hi.getTime()).toBeGreaterThan(Date.parse('2026-01-21T18:00:00Z'));
  });
});

describe('synthesize: bad input', () => {
  it('rejects an output file that is neither .parquet nor .csv, naming both', async () => {
    const err = await synthesize(store, { sessions: 10, days: 1, seed: 1, out: join(dir, 'x.json') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/\.parquet or \.csv/);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('rejects non-positive counts', async () => {
    await expect(synthesize(store, { sessions: 0, days: 1, seed: 1, out: join(dir, 'x.csv') })).rejects.toBeInstanceOf(InputError);
    await expect(synthesize(store, { sessions: 10, days: 1.5, seed: 1, out: join(dir, 'x.csv') })).rejects.toBeInstanceOf(InputError);
    await expect(synthesize(store, { sessions: 10, days: 1, seed: -1, out: join(dir, 'x.csv') })).rejects.toBeInstanceOf(InputError);
  });
});

describe('rulegen synth (CLI, in process)', () => {
  // runCli calls main(argv, io) in process with a captured io whose cwd is the temp dir.
  const run = (argv: string[]) => runCli(argv, dir);

  it('writes the data and the catalog relative to the working directory', async () => {
    const r = await run(['synth', '--sessions', '3000', '--days', '3', '--seed', '5', '--out', 'cli/s.parquet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 3000 sessions/);
    expect(existsSync(join(dir, 'cli', 's.parquet'))).toBe(true);
    expect(existsSync(join(dir, 'cli', 'features.yaml'))).toBe(true);
  });

  it('prints the summary as JSON with --json and honours --catalog', async () => {
    const r = await run(['--json', 'synth', '--sessions', '1000', '--out', 'cli/s.csv', '--catalog', 'cli/cat/features.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { rows: number; format: string; catalog: string; bots: number; humans: number; unlabelled: number };
    expect(s.rows).toBe(1000);
    expect(s.format).toBe('csv');
    expect(s.bots + s.humans + s.unlabelled).toBe(1000);
    expect(s.catalog).toBe(join(dir, 'cli', 'cat', 'features.yaml'));
  });

  it('exits 2 naming the flag on --sessions -5', async () => {
    const r = await run(['synth', '--sessions', '-5', '--out', 'cli/bad.parquet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sessions/);
    expect(r.stderr).toMatch(/"-5"/);
  });

  it('exits 2 on an output file with an unknown extension', async () => {
    const r = await run(['synth', '--out', 'x.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.parquet or \.csv/);
    expect(existsSync(join(dir, 'x.txt'))).toBe(false);
  });
});
