// The baseline for the ingest benchmark: what a person would type into DuckDB by hand.
// Usage: node bench/raw-ctas.mjs DB_FILE PARQUET
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
const [db, parquet] = process.argv.slice(2);
rmSync(db, { force: true });
rmSync(db + '.wal', { force: true });
const inst = await DuckDBInstance.create(db, { autoinstall_known_extensions: 'false' });
const conn = await inst.connect();
await conn.run(`CREATE TABLE sessions AS SELECT * FROM read_parquet('${parquet.replaceAll("'", "''")}')`);
conn.closeSync();
inst.closeSync();
