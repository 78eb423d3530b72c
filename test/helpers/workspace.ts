import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/db/store.js';
import { synthesize } from '../../src/synth/generate.js';
import { rankFeatures } from '../../src/rank/rank.js';
import type { Ranking } from '../../src/rank/types.js';
import { openWorkspace, openWorkspaceStore, type Workspace } from '../../src/workspace.js';
import { runCli } from './cli.js';
import { tmpDir } from './tmp.js';

const ROOT = join(import.meta.dirname, '../..');

/**
 * A workspace like the repository's example (fixtures/workspace): 60,000 synthetic sessions,
 * seed 11, ingested; the repository's example rules copied into its rules/.
 */
export async function exampleWorkspace(opts: { rules?: boolean } = {}): Promise<string> {
  const dir = tmpDir('rulegen-ws-');
  cpSync(join(ROOT, 'fixtures/workspace/rulegen.yaml'), join(dir, 'rulegen.yaml'));
  cpSync(join(ROOT, 'fixtures/workspace/features.yaml'), join(dir, 'features.yaml'));
  // the example keeps its rules at the repository's top level; here they live inside
  const cfg = join(dir, 'rulegen.yaml');
  const { readFileSync } = await import('node:fs');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('rules: ../../rules', 'rules: rules'));
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'candidates'));
  if (opts.rules !== false) cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
  const mem = await Store.open();
  try {
    await synthesize(mem, { sessions: 60_000, days: 14, seed: 11, out: join(dir, 'data', 'sessions.parquet'), catalogOut: join(dir, 'data', 'features.yaml') });
  } finally {
    mem.close();
  }
  const r = await runCli(['-C', dir, '--quiet', 'ingest', 'data/sessions.parquet'], dir);
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
}

/**
 * exampleWorkspace, opened: the workspace, a store on it (the caller closes it) and the
 * feature ranking the propose tests hand to the model path.
 */
export async function rankedExampleWorkspace(opts: { rules?: boolean } = {}): Promise<{ dir: string; base: Workspace; store: Store; ranking: Ranking }> {
  const dir = await exampleWorkspace(opts);
  const base = openWorkspace(dir);
  const store = await openWorkspaceStore(base);
  const ranking = await rankFeatures(store, base.config, base.catalog);
  return { dir, base, store, ranking };
}
