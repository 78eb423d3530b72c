/** The workspace folder: its config, its catalog, its database and its rule folders. */
import { join, resolve } from 'node:path';
import { loadCatalog, CATALOG_FILE } from './catalog/load.js';
import type { Catalog } from './catalog/schema.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { Store } from './db/store.js';

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
  };
}

export function openWorkspace(dir: string): Workspace {
  const abs = resolve(dir);
  const config = loadConfig(abs);
  const paths = workspacePaths(abs, config);
  const catalog = loadCatalog(paths.catalog);
  return { dir: abs, config, catalog, paths };
}

export function openWorkspaceStore(ws: Workspace): Promise<Store> {
  return Store.open(ws.paths.db);
}
