/**
 * A second command while one runs: a child process holds the database (as a running command
 * would), and the in-process CLI must name the holder instead of passing on DuckDB's message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/db/store.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Open `db` in `mode` in another process (writing the lock file as a writer would), then wait. */
function holdDatabase(db: string, mode: 'READ_WRITE' | 'READ_ONLY', lock?: string): Promise<ChildProcess> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    import { existsSync, writeFileSync } from 'node:fs';
    const [db, mode, lock] = process.argv.slice(1);
    const inst = await DuckDBInstance.create(db, { access_mode: mode });
    await inst.connect();
    if (lock) writeFileSync(lock, JSON.stringify({ command: 'ingest', pid: process.pid, started: '2026-02-01T10:00:00.000Z' }));
    process.stdout.write('ready\\n');
    setTimeout(() => undefined, 20000);`;
  // run from the repository so the child resolves @duckdb/node-api
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, db, mode, ...(lock ? [lock] : [])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

async function workspace(): Promise<{ dir: string; db: string; lock: string }> {
  const dir = tmpDir();
  expect((await runCli(['init'], dir)).code).toBe(0);
  writeFileSync(join(dir, 'x.csv'), 'session_id\n1\n');
  const db = join(dir, '.rulegen', 'rulegen.duckdb');
  (await Store.open(db)).close();
  return { dir, db, lock: join(dir, '.rulegen', 'lock') };
}

describe('a second command while one runs', () => {
  it('a writer holding the workspace: readers and writers are told who, exit 3', async () => {
    const ws = await workspace();
    const child = await holdDatabase(ws.db, 'READ_WRITE', ws.lock);
    const busy = `the workspace is busy: ingest (pid ${child.pid}) since 2026-02-01T10:00:00.000Z`;
    const review = await runCli(['--json', 'review'], ws.dir);
    expect(review.code).toBe(3);
    expect(review.stderr).toContain(busy);
    expect(review.stderr).not.toMatch(/Could not set lock/);
    expect(JSON.parse(review.stdout).error.message).toContain(busy);
    const ingest = await runCli(['ingest', 'x.csv'], ws.dir);
    expect(ingest.code).toBe(3);
    expect(ingest.stderr).toContain(busy);
  }, 9000);

  it('a reader holding it: review still runs, ingest is busy naming the pid', async () => {
    const ws = await workspace();
    const child = await holdDatabase(ws.db, 'READ_ONLY');
    const review = await runCli(['review'], ws.dir);
    expect(review.code).toBe(0);
    const ingest = await runCli(['ingest', 'x.csv'], ws.dir);
    expect(ingest.code).toBe(3);
    expect(ingest.stderr).toContain(`the workspace is busy: another rulegen process (pid ${child.pid}) has the database open`);
    // the failed writer left no lock behind
    expect(existsSync(ws.lock)).toBe(false);
  }, 9000);
});
