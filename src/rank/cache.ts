/**
 * The ranking, kept beside the store (`cache/rank/`) under a key of everything it is computed
 * from: the table's data fingerprint (which also covers a labels overlay), the config's data and
 * split, the catalog, the category list length and this module's version. `rank` then `propose`
 * (the README's workflow), or a dry run then the real one, rank 10M sessions once: propose's
 * ranking was a third of its CPU (4.6 s of 13 s at 10M).
 * Only the embedded store's own ranking is kept: not an imported importance (a file read each
 * time) nor a warehouse engine's scan. A cache that cannot be read or written costs only time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { dataFingerprint } from '../backtest/kernel/fingerprint.js';
import type { Store } from '../db/store.js';
import { writeFileAtomic } from '../fsutil.js';
import { rankFeatures, type RankOptions } from './rank.js';
import type { Ranking } from './types.js';

/** Bumped whenever rank.ts computes something differently: older cached rankings are then ignored. */
export const RANK_CACHE_VERSION = 1;

/** Where a ranking with these inputs is kept; null when it is not kept (in-memory store, import, a warehouse engine). */
export async function rankCacheFile(store: Store, config: Config, catalog: Catalog, opts: RankOptions = {}): Promise<string | null> {
  if (store.path === ':memory:' || opts.imported || (opts.engine && opts.engine.kind !== 'duckdb')) return null;
  const fingerprint = await dataFingerprint(store, config.data.table);
  const key = JSON.stringify({
    version: RANK_CACHE_VERSION,
    fingerprint,
    data: config.data,
    split: config.split,
    catalog: catalog.features,
    maxCategories: opts.maxCategories ?? null,
  });
  return join(dirname(store.path), 'cache', 'rank', `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
}

/** rankFeatures, or the same ranking from the cache when its inputs have not changed. */
export async function rankCached(store: Store, config: Config, catalog: Catalog, opts: RankOptions = {}): Promise<Ranking> {
  const file = await rankCacheFile(store, config, catalog, opts);
  if (file) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as Ranking;
      opts.onStep?.('ranking features: unchanged data, the ranking kept from the last run');
      return cached;
    } catch {
      // not there yet (or unreadable): rank
    }
  }
  const ranking = await rankFeatures(store, config, catalog, opts);
  if (file) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, JSON.stringify(ranking));
    } catch {
      // a read-only workspace: the next run ranks again
    }
  }
  return ranking;
}
