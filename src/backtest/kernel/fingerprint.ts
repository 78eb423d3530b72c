/**
 * The data fingerprint of a table, which keys the kernel's column cache (cache.ts), and the JSON
 * results kept beside the store under it: the proposer's families (src/propose/model/families.ts)
 * and the ranking (src/rank/cache.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { quoteIdent, type Store } from '../../db/store.js';
import { writeFileAtomic } from '../../fsutil.js';

/**
 * The table's data fingerprint: row count, columns and types, and the size and modification time
 * of the database file and its WAL, which every committed write changes (a checkpoint may change
 * them without a data change: that only costs a rebuild). A few milliseconds; DuckDB's
 * `pragma_storage_info` measured 0.5 s at 10M rows. `hash: true` adds a hash aggregate over
 * every row (a full scan) for callers that want the content itself checked.
 */
export async function dataFingerprint(store: Store, table: string, opts: { hash?: boolean } = {}): Promise<string> {
  const t = quoteIdent(table);
  const n = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
  const cols = await store.describe(`SELECT * FROM ${t}`);
  const files = [store.path, `${store.path}.wal`].map((f) => {
    try {
      const st = statSync(f);
      return [st.size, st.mtimeMs];
    } catch {
      return null;
    }
  });
  // A temporary view shadowing the table (the labels overlay, src/labels/apply.ts) changes what
  // the table reads without touching the file: its definition and the temp tables it reads count.
  const shadow = await store.all<{ sql: string }>('SELECT sql FROM duckdb_views() WHERE temporary AND view_name = $1', [table]);
  const overlay: unknown[] = shadow.map((v) => v.sql);
  if (shadow.length) {
    const temps = await store.all<{ name: string }>('SELECT table_name AS name FROM duckdb_tables() WHERE temporary ORDER BY table_name');
    for (const { name } of temps.filter((x) => shadow.some((v) => v.sql.includes(x.name)))) {
      const q = quoteIdent(name);
      overlay.push(await store.one(`SELECT count(*) AS n, CAST(bit_xor(hash(${q})) AS VARCHAR) AS h FROM temp.main.${q}`));
    }
  }
  const h = createHash('sha256').update(JSON.stringify({ n: n?.n, cols, files, overlay }));
  if (opts.hash) {
    // one hash per row over every column (a struct of the row), folded order-independently
    const r = await store.one(`SELECT CAST(bit_xor(hash(${t})) AS VARCHAR) AS h, CAST(sum(hash(${t}) % 1000003) AS VARCHAR) AS s FROM ${t}`);
    h.update(`${String(r?.['h'])}:${String(r?.['s'])}`);
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * `compute()`, kept as JSON beside the store (`cache/<kind>/`) under `key` and the table's data
 * fingerprint, so a later run on unchanged data reads it instead (`onHit` is told). An in-memory
 * store is not cached; a cache that cannot be read or written costs only the time to compute.
 */
export async function besideStore<T>(store: Store, table: string, kind: string, key: string, compute: () => Promise<T>, onHit?: () => void): Promise<T> {
  if (store.path === ':memory:') return compute();
  const fingerprint = await dataFingerprint(store, table);
  const name = createHash('sha256').update(`${key}\n${fingerprint}`).digest('hex').slice(0, 32);
  const file = join(dirname(store.path), 'cache', kind, `${name}.json`);
  try {
    const hit = JSON.parse(readFileSync(file, 'utf8')) as T;
    onHit?.();
    return hit;
  } catch {
    // not there yet (or unreadable): compute
  }
  const value = await compute();
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(value));
  } catch {
    // a read-only workspace: the next run computes again
  }
  return value;
}
