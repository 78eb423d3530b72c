/**
 * The writer's lock, `.rulegen/lock`: names the command that holds the database for writing,
 * so a second command can say who is busy instead of passing on DuckDB's raw lock message.
 * DuckDB's own file lock stays the real guard; this file only carries the holder's name.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExternalError } from '../errors.js';

/** The lock file's content. */
export interface LockInfo {
  command: string;
  pid: number;
  /** ISO time the holder started. */
  started: string;
}

export interface Lock {
  readonly path: string;
  readonly info: LockInfo;
  /** Remove the file if it is still ours (idempotent). */
  release(): void;
}

export interface LockOptions {
  pid?: number;
  now?: Date;
  /** Is this process still running? Injectable for tests. */
  alive?: (pid: number) => boolean;
}

/** A file this young with no readable content is being written right now, not abandoned. */
const FRESH_MS = 2000;

/** Signal 0 checks that a process exists without touching it; EPERM means it exists as another user. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof v.command === 'string' && Number.isSafeInteger(v.pid) && typeof v.started === 'string')
      return { command: v.command, pid: v.pid!, started: v.started };
  } catch {
    // missing or half-written: the caller decides
  }
  return undefined;
}

/** "the workspace is busy: ingest (pid 123) since <time>", or as much as is known. */
export function busyError(holder: LockInfo | undefined, duckdbPid?: number): ExternalError {
  const who = holder
    ? `${holder.command} (pid ${holder.pid}) since ${holder.started}`
    : `another rulegen process${duckdbPid !== undefined ? ` (pid ${duckdbPid})` : ''} has the database open`;
  return new ExternalError(`the workspace is busy: ${who}; try again when it has finished`);
}

/**
 * Take the lock for `command`, creating the file exclusively (O_EXCL, so two writers cannot
 * both win). A lock whose process is gone is stale and taken over; a live one is a busy error.
 */
export function acquireLock(path: string, command: string, opts: LockOptions = {}): Lock {
  const alive = opts.alive ?? pidAlive;
  const info: LockInfo = { command, pid: opts.pid ?? process.pid, started: (opts.now ?? new Date()).toISOString() };
  mkdirSync(dirname(path), { recursive: true });
  // Two tries: the second follows removing a stale lock; losing that race to another taker is busy.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(info) + '\n', { flag: 'wx' });
      return lockHandle(path, info);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ExternalError(`cannot create the lock ${path}: ${(e as Error).message}`);
    }
    const held = readLock(path);
    if (held ? alive(held.pid) : isFresh(path)) throw busyError(held);
    rmSync(path, { force: true });
  }
  throw busyError(readLock(path));
}

function isFresh(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < FRESH_MS;
  } catch {
    return false;
  }
}

function lockHandle(path: string, info: LockInfo): Lock {
  let released = false;
  return {
    path,
    info,
    release() {
      if (released) return;
      released = true;
      // Only our own lock: a process that took over a lock it judged stale keeps its own.
      const now = readLock(path);
      if (now && now.pid === info.pid && now.started === info.started && now.command === info.command) rmSync(path, { force: true });
    },
  };
}
