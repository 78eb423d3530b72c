/** Recovery at the start of every command, before it reads the workspace. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkspace, openWorkspaceStore, type Workspace } from '../workspace.js';
import { generateDocs } from '../report/docs.js';
import { recoverWorkspace } from './journal.js';

/**
 * What the CLI runs before any command on a workspace: finish or roll back what a killed
 * command left (journal.ts), and regenerate the docs when rule files were repaired without them.
 * Returns the notes for stderr. A folder that is not a loadable workspace is left to the command.
 */
export async function recoverBeforeCommand(dir: string, opts: { now?: Date } = {}): Promise<string[]> {
  if (!existsSync(join(dir, 'rulegen.yaml'))) return [];
  let ws: Workspace;
  try {
    ws = openWorkspace(dir);
  } catch {
    return []; // the command itself reports a broken config or catalog, with file and line
  }
  const r = recoverWorkspace(ws);
  if (!r.docsStale) return r.notes;
  const store = await openWorkspaceStore(ws);
  try {
    const docs = await generateDocs(ws, store, { now: opts.now ?? new Date() });
    return [
      ...r.notes,
      `regenerated the docs after the repair (${docs.written.length} file${docs.written.length === 1 ? '' : 's'} ` +
        `changed${docs.removed.length ? `, ${docs.removed.length} removed` : ''})`,
    ];
  } finally {
    store.close();
  }
}
