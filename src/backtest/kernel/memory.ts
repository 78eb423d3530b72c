/** DuckDB's memory limit while the column cache is built, and to drop its buffer pool. */
import type { Store } from '../../db/store.js';

/**
 * DuckDB's memory limit while the cache is built (and to drop its buffer pool): a streaming scan
 * needs a few blocks per thread. Measured (cache build, 100 rules' columns): 64MB peaked at
 * 394 MB RSS at 10M sessions and 454 MB at 50M, 24MB at 342 MB and 381 MB, no slower.
 */
export const BUILD_MEMORY = '24MB';

/**
 * Drop the table blocks DuckDB holds in its buffer pool (a fingerprint scan, a window's bounds
 * read before the memory limit was lowered), which a run from the column cache never reads:
 * the memory limit is lowered, which evicts them, and put back.
 */
export async function releaseBufferPool(store: Store): Promise<void> {
  await store.withMemoryLimit(BUILD_MEMORY, async () => undefined);
}
