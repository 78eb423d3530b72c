/**
 * The ranking cache (src/rank/cache.ts): a second rank or propose on unchanged data reads the
 * ranking it computed before, identical to a fresh one; new data, a changed catalog or a
 * relabel compute it again; an imported importance is never cached.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/db/store.js';
import { rankCached, rankCacheKey } from '../../src/rank/cache.js';
import { rankFeatures } from '../../src/rank/rank.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

let ws: string;
const cacheDir = () => join(ws, '.rulegen', 'cache', 'rank');
const cached = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((f) => f.endsWith('.json')) : []);

beforeAll(async () => {
  ws = await exampleWorkspace({ rules: false });
});

describe('the ranking cache', () => {
  it('keeps the ranking rank computed; the next run reads it, identical to a fresh ranking', async () => {
    rmSync(cacheDir(), { recursive: true, force: true });
    const first = await runCli(['-C', ws, '--json', 'rank'], ws);
    expect(first.code, first.stderr).toBe(0);
    expect(cached()).toHaveLength(1);
    const second = await runCli(['-C', ws, '--json', 'rank'], ws);
    expect(second.stdout).toBe(first.stdout);
    // what the cache holds is what rankFeatures computes now, through a JSON round trip unchanged
    const w = openWorkspace(ws);
    const store = await Store.open(w.paths.db, { readOnly: true });
    try {
      const fresh = await rankFeatures(store, w.config, w.catalog);
      expect(cached()).toHaveLength(1);
      expect(JSON.parse(readFileSync(join(cacheDir(), cached()[0]!), 'utf8'))).toStrictEqual(JSON.parse(JSON.stringify(fresh)));
      expect(JSON.parse(JSON.stringify(fresh))).toEqual(fresh);
      let steps: string[] = [];
      const again = await rankCached(store, w.config, w.catalog, { onStep: (m) => steps.push(m) });
      expect(again).toEqual(fresh);
      expect(steps.join('\n')).toContain('the ranking kept from the last run');
      // an imported importance is read each time: never cached
      steps = [];
      expect(rankCacheKey(w.config, w.catalog, { imported: { file: 'x.csv', rows: [], problems: [] } as never })).toBeNull();
    } finally {
      store.close();
    }
  }, 20_000);

  it('ranks again when the catalog or the labels change', async () => {
    rmSync(cacheDir(), { recursive: true, force: true });
    expect((await runCli(['-C', ws, '-q', 'rank'], ws)).code).toBe(0);
    expect(cached()).toHaveLength(1);
    // a catalog edit (a description) is another key
    const features = join(ws, 'features.yaml');
    writeFileSync(features, readFileSync(features, 'utf8').replace(/description: /, 'description: Edited. '));
    expect((await runCli(['-C', ws, '-q', 'rank'], ws)).code).toBe(0);
    expect(cached()).toHaveLength(2);
    // a relabel changes what the table reads (the labels overlay): another fingerprint
    const r = await runCli(
      ['-C', ws, '-q', 'relabel', '--where', 'login_post_count >= 30', '--as', 'human', '--reviewer', 'test', '--reason', 'cache test'],
      ws,
    );
    expect(r.code, r.stderr).toBe(0);
    const after = await runCli(['-C', ws, '--json', 'rank'], ws);
    expect(after.code, after.stderr).toBe(0);
    expect(cached()).toHaveLength(3);
  }, 30_000);
});
