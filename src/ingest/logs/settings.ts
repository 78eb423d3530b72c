/** DuckDB settings ingest-logs changes for its run, saved first and restored after. */
import { quoteString, type Store } from '../../db/store.js';

/** DuckDB's memory while ingesting a log (it spills beyond): keeps a 10M-line log under 2 GB of RSS. */
const LOG_MEMORY_LIMIT = '1GB';

/** The settings as they were before the run. */
export interface SavedSettings {
  memoryLimit: string | undefined;
  disabledCompression: string;
}

/** Cap DuckDB's memory and turn FSST off for the run; returns the previous values for restoreSettings. */
export async function capSettings(store: Store): Promise<SavedSettings> {
  // A log of millions of lines would let DuckDB take most of the machine's memory (its default
  // is 80% of RAM); cap it for this run and let the sort and the window functions spill to the
  // database's temp folder instead. The previous limit is restored after.
  const memoryLimit = (await store.one<{ m: string }>(`SELECT current_setting('memory_limit') AS m`))?.m;
  await store.run(`SET memory_limit = '${LOG_MEMORY_LIMIT}'`);
  // FSST (string compression) costs more CPU on write than the rest of the parse's storage for
  // little gain on log columns (agents, referrers and paths repeat: dictionary compression takes
  // them); off for this run's tables, restored after. The stored values are the same.
  const disabledCompression = (await store.one<{ d: string }>(`SELECT current_setting('disabled_compression_methods') AS d`))?.d ?? '';
  await store.run(`SET disabled_compression_methods = ${quoteString(disabledCompression ? `${disabledCompression},fsst` : 'fsst')}`);
  return { memoryLimit, disabledCompression };
}

/** The settings capSettings changed put back (errors ignored). */
export async function restoreSettings(store: Store, saved: SavedSettings): Promise<void> {
  if (saved.memoryLimit) await store.run(`SET memory_limit = ${quoteString(saved.memoryLimit)}`).catch(() => undefined);
  await store.run(`SET disabled_compression_methods = ${quoteString(saved.disabledCompression)}`).catch(() => undefined);
}
