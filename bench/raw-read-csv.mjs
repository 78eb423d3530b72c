// The baseline for the ingest-logs benchmark: DuckDB's plain read_csv of the access log into a
// table, as a person would type it (space-separated, double-quoted fields, no header).
// Usage: node bench/raw-read-csv.mjs DB_FILE LOG
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
const [db, log] = process.argv.slice(2);
rmSync(db, { force: true });
rmSync(db + '.wal', { force: true });
const inst = await DuckDBInstance.create(db, { autoinstall_known_extensions: 'false' });
const conn = await inst.connect();
await conn.run(`CREATE TABLE log AS SELECT * FROM read_csv('${log.replaceAll("'", "''")}', delim = ' ', quote = '"', escape = '"', header = false)`);
conn.closeSync();
inst.closeSync();
