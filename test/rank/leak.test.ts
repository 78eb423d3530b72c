import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCatalog, type Feature } from '../../src/catalog/schema.js';
import { DEFAULT_CONFIG, type Config } from '../../src/config/schema.js';
import { Store } from '../../src/db/store.js';
import { formatRanking } from '../../src/rank/format.js';
import { leakEvidence, leakSuspects } from '../../src/rank/leak.js';
import { rankFeatures } from '../../src/rank/rank.js';
import type { Ranking } from '../../src/rank/types.js';
import { runCli, tmpDir } from '../helpers/cli.js';

const config: Config = { ...DEFAULT_CONFIG, split: { test_fraction: 0.3 } };
const features: Feature[] = [
  { name: 'speed', type: 'number', description: 'A real signal: bots are faster, with overlap.', sensitive: false },
  { name: 'ua_says_bot', type: 'boolean', description: 'Planted leak: the user agent that made the label.', sensitive: false },
  { name: 'ua_kind', type: 'category', description: 'Planted leak: a category only bots show.', sensitive: false },
  { name: 'denied', type: 'number', description: 'A clean signal of one small family (a fifth of the bots).', sensitive: false },
];

/**
 * 4,000 sessions over 10 days, a third bots. speed overlaps; ua_says_bot is the label itself;
 * ua_kind is 'crawler' for 70% of bots and never for humans; denied > 0 for a fifth of bots
 * only (no human): "bots only" but a minority of them, so not a leak.
 */
const TABLE = `CREATE TABLE sessions AS
  SELECT 's' || i AS session_id, TIMESTAMP '2026-01-01' + INTERVAL (i * 216) SECOND AS ts, lbl AS label,
    (CASE WHEN lbl = 1 THEN 15 ELSE 10 END) + (i * 7919 % 23)::DOUBLE AS speed,
    lbl = 1 AS ua_says_bot,
    CASE WHEN lbl = 1 AND i % 10 < 7 THEN 'crawler' WHEN i % 2 = 0 THEN 'chrome' ELSE 'firefox' END AS ua_kind,
    CASE WHEN lbl = 1 AND i % 5 = 0 THEN 3 + i % 4 ELSE 0 END AS denied
  FROM (SELECT i, CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END AS lbl FROM range(4000) t(i))`;

describe('rank: possible label leaks', () => {
  let store: Store;
  let ranking: Ranking;
  beforeAll(async () => {
    store = await Store.open();
    await store.run(TABLE);
    ranking = await rankFeatures(store, config, makeCatalog(features));
  });
  afterAll(() => store.close());
  const get = (n: string) => ranking.features.find((f) => f.feature === n)!;

  it('flags a feature equal to the label (AUC 1) and a category no human shows that holds most bots, with the evidence', () => {
    const ua = get('ua_says_bot');
    expect(ua.leak).toBeDefined();
    expect(ua.leak!.reasons).toEqual(['auc', 'bots_only']);
    expect(ua.leak!.auc).toBe(1);
    expect(ua.leak!.bot_share).toBe(1);
    expect(ua.leak!.humans_covered).toBe(0);
    expect(ua.leak!.region).toBe('= true');
    const kind = get('ua_kind');
    expect(kind.leak!.reasons).toContain('bots_only');
    expect(kind.leak!.region).toBe("in ('crawler')");
    expect(kind.leak!.bot_share).toBeCloseTo(0.7, 1);
    expect(kind.leak!.humans).toBe(ranking.humans);
    expect(ranking.warnings.some((w) => w.startsWith('ua_says_bot: possible label leak'))).toBe(true);
  });

  it('does not flag an overlapping signal, nor a clean signal of a minority of the bots', () => {
    expect(get('speed').leak).toBeUndefined();
    expect(get('denied').leak).toBeUndefined();
  });

  it('leakSuspects leaves out what the catalog marks leak_ok', () => {
    expect(leakSuspects(ranking, makeCatalog(features)).sort()).toEqual(['ua_kind', 'ua_says_bot']);
    const ok = makeCatalog(features.map((f) => (f.name === 'ua_kind' ? { ...f, leak_ok: true } : f)));
    expect(leakSuspects(ranking, ok)).toEqual(['ua_says_bot']);
  });

  it('marks leaks in the table, with the evidence under it', () => {
    const text = formatRanking(ranking, 10);
    expect(text).toMatch(/ua_says_bot !/);
    expect(text).toMatch(/possible label leak/);
    expect(text).toMatch(/ua_kind: .*in \('crawler'\) holds 7\d\.\d% of bots \(\d+\) and 0 of [\d,]+ humans/);
  });

  it('the thresholds: AUC 0.995, half of the bots, at least 100 humans', () => {
    const none = { lo: { bots: 0, edge: null }, hi: { bots: 0, edge: null }, cats: { bots: 0, values: [] }, nulls: { bots: 0 } };
    expect(leakEvidence(0.995, none, { bots: 100, humans: 100 }, false)?.reasons).toEqual(['auc']);
    expect(leakEvidence(0.994, none, { bots: 100, humans: 100 }, false)).toBeUndefined();
    const half = { ...none, hi: { bots: 50, edge: 9 } };
    expect(leakEvidence(0.9, half, { bots: 100, humans: 100 }, false)).toMatchObject({ reasons: ['bots_only'], region: '>= 9', bot_share: 0.5 });
    expect(leakEvidence(0.9, half, { bots: 100, humans: 99 }, false)).toBeUndefined();
    expect(leakEvidence(0.9, { ...none, hi: { bots: 49, edge: 9 } }, { bots: 100, humans: 100 }, false)).toBeUndefined();
  });

  it('rank --json carries the evidence (CLI)', async () => {
    const dir = tmpDir('rulegen-leak-');
    expect((await runCli(['init', dir], dir)).code).toBe(0);
    const csv = join(dir, 'sessions.csv');
    await store.run(`COPY sessions TO '${csv.replaceAll("'", "''")}' (HEADER)`);
    writeFileSync(
      join(dir, 'features.yaml'),
      features.map((f) => `- name: ${f.name}\n  type: ${f.type}\n  description: ${JSON.stringify(f.description)}\n`).join('\n'),
    );
    const ing = await runCli(['-C', dir, '--quiet', 'ingest', 'sessions.csv'], dir);
    expect(ing.code, ing.stderr).toBe(0);
    const r = await runCli(['-C', dir, '--json', 'rank'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Ranking;
    expect(out.features.find((f) => f.feature === 'ua_says_bot')!.leak).toMatchObject({ auc: 1, bot_share: 1, humans_covered: 0, leak_ok: false });
    expect(out.method?.['leak']).toMatch(/0\.995/);
    expect(r.stderr).toMatch(/warning: ua_says_bot: possible label leak/);
  });
});
