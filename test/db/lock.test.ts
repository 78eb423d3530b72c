import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, pidAlive, readLock } from '../../src/db/lock.js';
import { DatabaseBusyError, lockConflictPid, Store } from '../../src/db/store.js';
import { ExternalError } from '../../src/errors.js';
import { tmpDir } from '../helpers/tmp.js';

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('workspace lock', () => {
  it('is exclusive while its holder lives, and released only by its holder', () => {
    const path = join(tmpDir(), '.rulegen', 'lock');
    const lock = acquireLock(path, 'ingest', { now: new Date('2026-02-01T10:00:00Z') });
    expect(readLock(path)).toEqual({ command: 'ingest', pid: process.pid, started: '2026-02-01T10:00:00.000Z' });
    let err: unknown;
    try {
      acquireLock(path, 'ingest');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExternalError);
    expect((err as ExternalError).exitCode).toBe(3);
    expect((err as Error).message).toBe(`the workspace is busy: ingest (pid ${process.pid}) since 2026-02-01T10:00:00.000Z; try again when it has finished`);
    lock.release();
    expect(existsSync(path)).toBe(false);
    acquireLock(path, 'ingest').release();
  });

  it('takes over a stale lock whose process is gone', () => {
    const dir = tmpDir();
    const path = join(dir, '.rulegen', 'lock');
    mkdirSync(join(dir, '.rulegen'));
    const gone = deadPid();
    expect(pidAlive(gone)).toBe(false);
    writeFileSync(path, JSON.stringify({ command: 'ingest', pid: gone, started: '2026-01-01T00:00:00.000Z' }));
    const lock = acquireLock(path, 'ingest');
    expect(readLock(path)?.pid).toBe(process.pid);
    // an old holder releasing late must not remove the new holder's lock
    const old = acquireLock(join(dir, 'x'), 'ingest', { pid: gone });
    writeFileSync(join(dir, 'x'), readFileSync(path));
    old.release();
    expect(existsSync(join(dir, 'x'))).toBe(true);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('an unreadable lock is stale once it is not fresh, busy while it may still be being written', () => {
    const path = join(tmpDir(), 'lock');
    writeFileSync(path, '');
    expect(() => acquireLock(path, 'ingest')).toThrow(/the workspace is busy: another rulegen process/);
  });
});

describe('store access', () => {
  it('read-only: a missing file reads as empty and is not created; writes are refused', async () => {
    const dir = tmpDir();
    const path = join(dir, '.rulegen', 'db.duckdb');
    const ro = await Store.open(path, { readOnly: true });
    expect(await ro.tableExists('sessions')).toBe(false);
    ro.close();
    expect(existsSync(path)).toBe(false);
    const rw = await Store.open(path);
    await rw.run('create table t as select 1 as x');
    rw.close();
    const ro2 = await Store.open(path, { readOnly: true });
    expect(await ro2.one('select x from t')).toEqual({ x: 1 });
    // temp tables (rank, the offline inducer) still work read-only
    await ro2.run('create temp table tt as select 2 as y');
    await expect(ro2.run('create table t2 as select 1 as x')).rejects.toThrow(/read-only/);
    ro2.close();
  });

  it('calls onClose once after closing', async () => {
    let n = 0;
    const s = await Store.open(':memory:', { onClose: () => n++ });
    s.close();
    expect(n).toBe(1);
  });

  it('recognises DuckDB lock conflicts and the holder pid', () => {
    expect(lockConflictPid('IO Error: Could not set lock on file "/x.db": Conflicting lock is held in /usr/bin/node (PID 9612). See also ...')).toEqual({
      pid: 9612,
    });
    expect(lockConflictPid('IO Error: something else')).toBeUndefined();
    expect(new DatabaseBusyError('/x.db', 5, 'd').exitCode).toBe(3);
  });

  it('reports the rows a scan has processed while a statement runs', async () => {
    const s = await Store.open();
    await s.run('create table ids as select range as i from range(1000000)');
    const seen: [number, number | null, string][] = [];
    await s.run(`copy (select i, md5(i::varchar) as m from ids) to '${join(tmpDir(), 'x.parquet')}' (format parquet)`, [], {
      onProgress: (d, t, u) => seen.push([d, t, u]),
      progressMs: 5,
    });
    expect(seen.length).toBeGreaterThan(0);
    for (const [d, t, u] of seen) {
      expect(u).toBe('rows');
      expect(d).toBeGreaterThan(0);
      expect(t).toBeGreaterThanOrEqual(1000000);
    }
    s.close();
  });
});
