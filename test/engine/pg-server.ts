/**
 * A real PostgreSQL server for the engine tests (and bench/engine-postgres.mjs): Debian's
 * `postgresql` started by scripts/postgres.sh in a temporary directory on a free port, and a
 * DuckDB table copied into it (DuckDB writes CSV, the server COPYs it in). A server that cannot
 * start is an Error with the reason: the tests that need it fail, they are never skipped.
 * RULEGEN_PG_URL points at an existing server instead.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/db/store.js';
import { duckTypeOfPg } from '../../src/engine/postgres.js';

const ROOT = join(import.meta.dirname, '../..');

export interface PgServer {
  url: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function startPostgres(): Promise<PgServer> {
  const existing = process.env['RULEGEN_PG_URL'];
  if (existing) return { url: existing, stop: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'rulegen-pg-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const r = spawnSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'start', join(dir, 'pg'), String(port)], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a PostgreSQL server (scripts/postgres.sh exit ${r.status}): ${r.stderr || r.error?.message}`);
  }
  return {
    url: r.stdout.trim(),
    stop: () => {
      spawnSync('bash', [join(ROOT, 'scripts/postgres.sh'), 'stop', join(dir, 'pg')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PG_TYPE: Record<string, string> = {
  BIGINT: 'bigint',
  INTEGER: 'integer',
  SMALLINT: 'smallint',
  TINYINT: 'smallint',
  DOUBLE: 'double precision',
  FLOAT: 'real',
  BOOLEAN: 'boolean',
  VARCHAR: 'text',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
};

/** Copy a DuckDB table into PostgreSQL (replacing it there): same columns, same types, same rows. */
export async function copyTableToPostgres(store: Store, table: string, url: string): Promise<{ rows: number }> {
  const cols = await store.describe(`SELECT * FROM "${table}"`);
  const dir = mkdtempSync(join(tmpdir(), 'rulegen-pgcopy-'));
  chmodSync(dir, 0o755);
  const file = join(dir, `${table}.csv`);
  try {
    await store.run(`COPY "${table}" TO '${file}' (FORMAT csv, HEADER false, NULL '\\N', TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%f')`);
    chmodSync(file, 0o644);
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const ddl = cols.map((c) => {
        const t = PG_TYPE[c.type] ?? (c.type.startsWith('DECIMAL') ? 'numeric' : undefined);
        if (!t) throw new Error(`no PostgreSQL type for ${c.name} ${c.type}`);
        if (duckTypeOfPg(t) !== (c.type === 'TINYINT' ? 'SMALLINT' : c.type) && !c.type.startsWith('DECIMAL'))
          throw new Error(`type round trip ${c.type} -> ${t}`);
        return `"${c.name}" ${t}`;
      });
      await client.query(`DROP TABLE IF EXISTS "${table}"`);
      await client.query(`CREATE TABLE "${table}" (${ddl.join(', ')})`);
      await client.query(`COPY "${table}" FROM '${file}' WITH (FORMAT csv, NULL '\\N')`);
      await client.query(`ANALYZE "${table}"`);
      const n = await client.query(`SELECT count(*)::int AS n FROM "${table}"`);
      return { rows: n.rows[0].n };
    } finally {
      await client.end();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
