/** The frame most commands share: open the workspace and its store, show progress, always clean up. */
import type { Store } from '../../db/store.js';
import { openWorkspace, openWorkspaceStore, type Workspace } from '../../workspace.js';
import { progress, type GlobalOptions, type Io, type Progress } from '../context.js';

export async function withWorkspaceStore<T>(io: Io, g: GlobalOptions, fn: (ws: Workspace, store: Store, bar: Progress) => Promise<T>, ws: Workspace = openWorkspace(g.workspace)): Promise<T> {
  const store = await openWorkspaceStore(ws);
  const bar = progress(io, g.quiet);
  try {
    return await fn(ws, store, bar);
  } finally {
    bar.done();
    store.close();
  }
}
