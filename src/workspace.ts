/** The workspace folder: its config, its catalog, its database and its rule folders. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadCatalog, CATALOG_FILE } from './catalog/load.js';
import type { Catalog } from './catalog/schema.js';
import { CONFIG_FILE, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { DatabaseBusyError, Store } from './db/store.js';
import { acquireLock, busyError, readLock, type Lock } from './db/lock.js';
import { InputError } from './errors.js';
import { loadCorrections } from './labels/overlay.js';
import { applyLabelOverlay, overlayNote } from './labels/apply.js';
import { note } from './notes.js';

export interface Workspace {
  readonly dir: string;
  readonly config: Config;
  readonly catalog: Catalog;
  readonly paths: {
    config: string;
    catalog: string;
    db: string;
    candidates: string;
    rules: string;
    docs: string;
    prompts: string;
    runs: string;
    /** `.rulegen/lock`: names the command writing the database (see db/lock.ts). */
    lock: string;
  };
}

export function workspacePaths(dir: string, config?: Config): Workspace['paths'] {
  // Rule folders may live outside the workspace (the repository's own example keeps its rules
  // at the top level, its data under fixtures/).
  const p = config?.paths ?? { rules: 'rules', candidates: 'candidates', docs: 'docs' };
  return {
    config: join(dir, 'rulegen.yaml'),
    catalog: join(dir, CATALOG_FILE),
    db: join(dir, '.rulegen', 'rulegen.duckdb'),
    candidates: resolve(dir, p.candidates),
    rules: resolve(dir, p.rules),
    docs: resolve(dir, p.docs),
    prompts: join(dir, 'prompts'),
    runs: join(dir, '.rulegen', 'runs'),
    lock: join(dir, '.rulegen', 'lock'),
  };
}

export function openWorkspace(dir: string): Workspace {
  const abs = resolve(dir);
  const config = loadConfig(abs);
  const paths = workspacePaths(abs, config);
  const catalog = loadCatalog(paths.catalog);
  return { dir: abs, config, catalog, paths };
}

/** The nearest folder, from `start` upwards, that holds rulegen.yaml (as git finds .git). */
export function findWorkspaceDir(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The workspace a command runs in: `-C` when given (taken as is), else the nearest ancestor of
 * `cwd` with rulegen.yaml. A command that needs none (init creates one) gets `cwd` when there
 * is none; one that needs it gets an InputError saying how to make or name one.
 */
export function resolveWorkspaceDir(cwd: string, explicit: string | undefined, needsWorkspace: boolean): string {
  if (explicit !== undefined) return resolve(cwd, explicit);
  const found = findWorkspaceDir(cwd);
  if (found) return found;
  if (!needsWorkspace) return resolve(cwd);
  throw new InputError(`no ${CONFIG_FILE} in ${resolve(cwd)} or any parent; run \`rulegen init\` or pass -C`);
}

/**
 * How a command uses the database. `read` opens it read-only, so any number of readers run
 * side by side (review while propose runs). `write` is the one writer; with `command` it also
 * takes the workspace lock so others can say who is busy. Writing rule files is not a database
 * write: only commands that change tables (ingest) need `write`.
 */
export type StoreAccess = { mode: 'read' } | { mode: 'write'; command?: string };

/**
 * Open the workspace's database. The default, `write` without a lock, keeps library callers
 * (the demo, tests) as they were; CLI commands say which access they need.
 */
export async function openWorkspaceStore(ws: Workspace, access: StoreAccess = { mode: 'write' }): Promise<Store> {
  const lockPath = ws.paths.lock;
  const lock: Lock | undefined = access.mode === 'write' && access.command ? acquireLock(lockPath, access.command) : undefined;
  let store: Store;
  try {
    store = await Store.open(ws.paths.db, { readOnly: access.mode === 'read', onClose: lock?.release });
  } catch (e) {
    lock?.release();
    // DuckDB only knows a pid; the lock file knows the command and since when
    if (e instanceof DatabaseBusyError) throw busyError(readLock(lockPath), e.holderPid);
    throw e;
  }
  // Label corrections (labels.yaml) shadow the sessions table for every reader; a command that
  // writes tables (ingest) sees the data as loaded.
  if (!(access.mode === 'write' && access.command)) {
    try {
      const corrections = loadCorrections(ws.dir, ws.catalog);
      const applied = await applyLabelOverlay(store, ws.config, corrections);
      if (applied) note(overlayNote(applied));
    } catch (e) {
      store.close();
      throw e;
    }
  }
  return store;
}
