/**
 * Columns for the kernel: streamed from DuckDB as typed arrays (Store.columnChunks, never one
 * JS value per row) into 65,536-row blocks, and cached per workspace as raw little-endian files
 * (one values file and one validity file per column) under `.rulegen/cache/kernel/`, invalidated
 * by the table's data fingerprint. Only the columns a run needs are read; a later run that needs
 * more columns adds them to the cache. Memory stays bounded: one block per column in flight.
 *
 * The pieces: fingerprint.ts (the cache key), cache.ts (ColumnCache: build, meta, sources for the
 * block readers) and day-buckets.ts (its layout on disk), stream.ts (DuckDB to blocks),
 * dictionary.ts (category codes), memory.ts (DuckDB's memory limit). Re-exported here for the
 * importers of columns.js.
 */
export { ColumnCache } from './cache.js';
export { SUB_ROWS } from './day-buckets.js';
export { loadDictionary, type Dictionary } from './dictionary.js';
export { dataFingerprint } from './fingerprint.js';
export { releaseBufferPool } from './memory.js';
export { streamBlocks } from './stream.js';
