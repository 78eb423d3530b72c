/** DuckDB's memory limit, lowered while the column cache is built and to drop its buffer pool. */
import { quoteString } from '../../db/quote.js';
import type { Store } from '../../db/store.js';

/** DuckDB's memory limit while the cache is built. */
export const BUILD_MEMORY = '64MB';

/** Set DuckDB's memory limit to `to` (evicting cached blocks above it); returns the limit before, or null if DuckDB refused. */
export async function lowerMemoryLimit(store: Store, to: string): Promise<string | null> {
  const limit = (await store.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))?.v ?? null;
  try {
    await store.run(`SET memory_limit = ${quoteString(to)}`);
    return limit;
  } catch {
    return null;
  }
}

export async function restoreMemoryLimit(store: Store, limit: string | null): Promise<void> {
  if (limit) await store.run(`SET memory_limit = ${quoteString(limit)}`);
}

/**
 * Drop the table blocks DuckDB holds in its buffer pool (a window's row count, a fingerprint scan:
 * up to hundreds of MB at 10M+ rows), which a run from the column cache never reads: the memory
 * limit is lowered, which evicts them, and put back.
 */
export async function releaseBufferPool(store: Store): Promise<void> {
  await restoreMemoryLimit(store, await lowerMemoryLimit(store, BUILD_MEMORY));
}
