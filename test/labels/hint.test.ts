import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../src/config/schema.js';
import { Store } from '../../src/db/store.js';
import { missingClassHint } from '../../src/labels/hint.js';
import { testWindowPower } from '../../src/propose/propose.js';
import { formatRanking } from '../../src/rank/format.js';
import { rankFeatures } from '../../src/rank/rank.js';
import { makeCatalog } from '../../src/catalog/schema.js';
import type { Workspace } from '../../src/workspace.js';

describe('one class without labels: what to do', () => {
  it('names the fix for missing humans (access logs: logs.unlabelled: human) and for missing bots; nothing when both exist', () => {
    expect(missingClassHint(10, 0)).toMatch(/no session is labelled human.*logs\.unlabelled: human.*relabel .*--as human/);
    expect(missingClassHint(0, 10)).toMatch(/no session is labelled bot.*--as bot/);
    expect(missingClassHint(10, 10)).toBeNull();
    expect(missingClassHint(0, 0)).toBeNull();
  });

  it('rank and propose say it on a log labelled only where agents declare a bot', async () => {
    const store = await Store.open();
    try {
      // what ingest-logs gives with logs.unlabelled: unknown: bots labelled, everyone else NULL
      await store.run(`CREATE TABLE sessions AS SELECT 's' || i AS session_id, TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR AS ts,
        CASE WHEN i % 4 = 0 THEN 1 END AS label, (i % 7)::DOUBLE AS speed FROM range(400) t(i)`);
      const config: Config = { ...DEFAULT_CONFIG, split: { test_fraction: 0.3 } };
      const catalog = makeCatalog([{ name: 'speed', type: 'number', description: 'Speed.', sensitive: false }]);
      const ranking = await rankFeatures(store, config, catalog);
      expect(formatRanking(ranking, 5)).toMatch(/\nnote: no session is labelled human.*logs\.unlabelled: human/);
      const power = await testWindowPower(store, { config } as Workspace);
      expect(power).toMatch(/the test window has 0 labelled humans.*; no session is labelled human/);
    } finally {
      store.close();
    }
  });
});
