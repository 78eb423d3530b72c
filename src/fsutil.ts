/**
 * Atomic file writes: a reader (or a crash) never sees a half-written file.
 *
 * Every mutating file-system call of the review workflow goes through `fsStep`, so a test can
 * install a hook that fails from the N-th operation on — every later operation fails too, as
 * if the process had been killed there (see test/review/crash.test.ts).
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExternalError } from './errors.js';

/** The kinds of file-system operation a fault-injection hook sees. */
export type FsOp = 'mkdir' | 'write' | 'rename' | 'link' | 'remove';
export type FsHook = (op: FsOp, path: string) => void;

let hook: FsHook | null = null;
let syncs = true;

/**
 * Turn fsync off (tests only): an in-process kill cannot observe it, and on a loaded machine
 * it dominates a test that replays a batch hundreds of times. Returns the previous setting.
 */
export function setFsync(on: boolean): boolean {
  const prev = syncs;
  syncs = on;
  return prev;
}

/** Install (or clear, with null) the fault-injection hook; returns the previous one. For tests. */
export function setFsHook(h: FsHook | null): FsHook | null {
  const prev = hook;
  hook = h;
  return prev;
}

/** Called before every mutating operation: the hook may throw to simulate a crash there. */
export function fsStep(op: FsOp, path: string): void {
  hook?.(op, path);
}

/** Temp files are hidden, next to their target, and carry the writer's pid (see isTempName). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`);
}

const TEMP = /^\..+\.(\d+)\.\d+(?:\.[a-z0-9]+)?\.tmp$/;

/** The pid of the process that made a temp file named by tempPathFor, or null if it is not one. */
export function tempFileOwner(name: string): number | null {
  const m = TEMP.exec(name);
  return m ? Number(m[1]) : null;
}

/** True if a process with this pid exists (EPERM: it exists, but is someone else's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Write `text` to a new file; with `durable`, fsync before close so a rename publishes whole data. */
export function writeFileStep(path: string, text: string, opts: { exclusive?: boolean; durable?: boolean } = {}): void {
  fsStep('write', path);
  const fd = openSync(path, opts.exclusive ? 'wx' : 'w');
  try {
    writeSync(fd, text);
    if (opts.durable && syncs) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function mkdirStep(dir: string): void {
  fsStep('mkdir', dir);
  mkdirSync(dir, { recursive: true });
}

export function renameStep(from: string, to: string): void {
  fsStep('rename', to);
  renameSync(from, to);
}

export function linkStep(from: string, to: string): void {
  fsStep('link', to);
  linkSync(from, to);
}

export function removeStep(path: string): void {
  fsStep('remove', path);
  rmSync(path, { force: true });
}

/** Best effort: remove a temp file after a failure. A crashed process does not get here, nor does a failing hook. */
export function removeQuietly(path: string): void {
  try {
    removeStep(path);
  } catch {
    /* the original error is the one worth reporting */
  }
}

/** Make a directory's entries (a rename, a link) durable. Not every platform can open a folder: best effort. */
export function fsyncDir(dir: string): void {
  if (!syncs) return;
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* e.g. Windows: directories cannot be opened */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write to a temp file in the same folder, then rename over the target (atomic on POSIX). */
export function writeFileAtomic(path: string, text: string, opts: { durable?: boolean } = {}): void {
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  try {
    mkdirStep(dir);
    writeFileStep(tmp, text, { exclusive: true, durable: opts.durable });
    renameStep(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw new ExternalError(`cannot write ${path}: ${(e as Error).message}`);
  }
  if (opts.durable) fsyncDir(dir);
}
