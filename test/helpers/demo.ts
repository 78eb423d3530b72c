import { join } from 'node:path';
import { initWorkspace } from '../../src/init.js';
import { Store } from '../../src/db/store.js';
import { ingest } from '../../src/ingest/ingest.js';
import { synthesize } from '../../src/synth/generate.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';
import { tmpDir } from './tmp.js';

/**
 * The demo's data, built as src/demo.ts builds it: init, 100,000 sessions over 21 days, seed 1,
 * ingested. Returns the workspace directory (a fresh temporary one named with `prefix`).
 */
export async function demoWorkspace(prefix: string): Promise<string> {
  const demo = tmpDir(prefix);
  initWorkspace(demo, { cwd: demo });
  const data = join(demo, 'data', 'sessions.parquet');
  const mem = await Store.open();
  try {
    await synthesize(mem, { sessions: 100_000, days: 21, seed: 1, out: data, catalogOut: join(demo, 'data', 'features.yaml') });
  } finally {
    mem.close();
  }
  const ws = openWorkspace(demo);
  const store = await openWorkspaceStore(ws);
  try {
    await ingest(store, ws.config, ws.catalog, { files: [data], replace: true });
  } finally {
    store.close();
  }
  return demo;
}
