/** The frame most commands share: open the workspace and its store, show progress, always clean up. */
import type { Store } from '../../db/store.js';
import { openWorkspace, openWorkspaceStore, type StoreAccess, type Workspace } from '../../workspace.js';
import { progress, type GlobalOptions, type Io, type Progress } from '../context.js';

export interface FrameOptions {
  /** An already opened workspace (default: open `g.workspace`). */
  ws?: Workspace;
  /**
   * Read-only by default, so commands run side by side; a command that changes tables passes
   * `{ mode: 'write', command: '<verb>' }` and takes the workspace lock.
   */
  access?: StoreAccess;
}

export async function withWorkspaceStore<T>(
  io: Io,
  g: GlobalOptions,
  fn: (ws: Workspace, store: Store, bar: Progress) => Promise<T>,
  opts: FrameOptions = {},
): Promise<T> {
  const ws = opts.ws ?? openWorkspace(g.workspace);
  const store = await openWorkspaceStore(ws, opts.access ?? { mode: 'read' });
  const bar = progress(io, g.quiet);
  try {
    return await fn(ws, store, bar);
  } finally {
    bar.done();
    store.close();
  }
}
