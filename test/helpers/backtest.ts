import { DEFAULT_CONFIG, type Config } from '../../src/config/schema.js';
import { Store } from '../../src/db/store.js';

/** The backtest tests' config: segments by country, the split at 50% of the span. */
export const BACKTEST_CONFIG: Config = { ...DEFAULT_CONFIG, data: { ...DEFAULT_CONFIG.data, segments: ['country'] }, split: { test_fraction: 0.5 } };

/**
 * 14 sessions over 4 days, every backtest figure hand-computed from them: with BACKTEST_CONFIG
 * the split puts a..d in the train window and e..n in the test window (cutoff 2026-01-02 13:30).
 */
export async function fourteenSessions(): Promise<Store> {
  const s = await Store.open();
  await s.run(`CREATE TABLE sessions AS SELECT * FROM (VALUES
    ('a', TIMESTAMP '2026-01-01 00:00', 1, 'US', 100.0),
    ('b', TIMESTAMP '2026-01-01 06:00', 0, 'US', 5.0),
    ('c', TIMESTAMP '2026-01-01 07:00', 0, 'DE', 50.0),
    ('d', TIMESTAMP '2026-01-02 01:00', 1, 'US', 200.0),
    ('e', TIMESTAMP '2026-01-03 01:00', 1, 'US', 150.0),
    ('f', TIMESTAMP '2026-01-03 02:00', 1, 'DE', 20.0),
    ('g', TIMESTAMP '2026-01-03 03:00', 0, 'DE', 120.0),
    ('h', TIMESTAMP '2026-01-03 04:00', 0, 'US', 3.0),
    ('i', TIMESTAMP '2026-01-03 05:00', 0, 'US', 4.0),
    ('j', TIMESTAMP '2026-01-03 06:00', NULL, 'US', 300.0),
    ('k', TIMESTAMP '2026-01-04 00:00', 1, 'US', 90.0),
    ('l', TIMESTAMP '2026-01-04 01:00', 0, 'US', 95.0),
    ('m', TIMESTAMP '2026-01-04 02:00', 0, 'DE', 1.0),
    ('n', TIMESTAMP '2026-01-04 03:00', NULL, 'DE', 2.0)
  ) t(session_id, ts, label, country, rpm)`);
  return s;
}
