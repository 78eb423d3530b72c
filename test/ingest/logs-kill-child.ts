/**
 * Child process of logs-kill.test.ts: one `ingest-logs --replace` through the core, as the CLI
 * runs it, printing "ready" once the store is open and each step as it starts, so the parent can
 * time its kill. Usage: node --import tsx logs-kill-child.ts WORKSPACE FILE...
 */
import { ingestLogs } from '../../src/ingest/logs/ingest-logs.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';

const [dir, ...files] = process.argv.slice(2);
const ws = openWorkspace(dir!);
const store = await openWorkspaceStore(ws);
process.stdout.write('ready\n');
try {
  const s = await ingestLogs(store, ws.config, { files, replace: true, onStep: (m) => process.stdout.write(`step ${m}\n`) });
  process.stdout.write(`done ${s.sessions}\n`);
} finally {
  store.close();
}
