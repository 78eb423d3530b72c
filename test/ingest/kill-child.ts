/**
 * Child process of kill.test.ts: one ingest through the core, as the CLI runs it, printing
 * "ready" once the store is open and each step as it starts, so the parent can time its kill.
 * Usage: node --import tsx kill-child.ts WORKSPACE append|replace FILE...
 */
import { ingest } from '../../src/ingest/ingest.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';

const [dir, mode, ...files] = process.argv.slice(2);
const ws = openWorkspace(dir!);
const store = await openWorkspaceStore(ws);
process.stdout.write('ready\n');
try {
  const s = await ingest(store, ws.config, ws.catalog, { files, replace: mode === 'replace', onStep: (m) => process.stdout.write(`step ${m}\n`) });
  process.stdout.write(`done ${s.totalRows}\n`);
} finally {
  store.close();
}
