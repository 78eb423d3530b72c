/**
 * The ranking, kept beside the store (`cache/rank/`) under a key of everything it is computed
 * from: the table's data fingerprint (which also covers a labels overlay), the config's data and
 * split, the catalog, the category list length and this module's version. `rank` then `propose`
 * (the README's workflow), or a dry run then the real one, rank 10M sessions once: propose's
 * ranking was a third of its CPU (4.6 s of 13 s at 10M).
 * Only the embedded store's own ranking is kept: not an imported importance (a file read each
 * time) nor a warehouse engine's scan. A cache that cannot be read or written costs only time.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { besideStore } from '../backtest/kernel/fingerprint.js';
import type { Store } from '../db/store.js';
import { requireTable } from '../db/window.js';
import { rankFeatures, type RankOptions } from './rank.js';
import type { Ranking } from './types.js';

/** Bumped whenever rank.ts computes something differently: older cached rankings are then ignored. */
export const RANK_CACHE_VERSION = 1;

/** The cache key of a ranking with these inputs (the data fingerprint is added by besideStore); null when it is not kept. */
export function rankCacheKey(config: Config, catalog: Catalog, opts: RankOptions = {}): string | null {
  if (opts.imported || (opts.engine && opts.engine.kind !== 'duckdb')) return null;
  return JSON.stringify({
    version: RANK_CACHE_VERSION,
    data: config.data,
    split: config.split,
    catalog: catalog.features,
    maxCategories: opts.maxCategories ?? null,
  });
}

/** rankFeatures, or the same ranking from the cache when its inputs have not changed. */
export async function rankCached(store: Store, config: Config, catalog: Catalog, opts: RankOptions = {}): Promise<Ranking> {
  // the cache's fingerprint reads the table: say plainly when nothing is loaded yet
  await requireTable(store, config);
  const key = rankCacheKey(config, catalog, opts);
  if (key === null) return rankFeatures(store, config, catalog, opts);
  return besideStore(
    store,
    config.data.table,
    'rank',
    key,
    () => rankFeatures(store, config, catalog, opts),
    () => opts.onStep?.('ranking features: unchanged data, the ranking kept from the last run'),
  );
}
