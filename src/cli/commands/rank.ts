/** `rulegen rank [--top N] [--import FILE]`: which features separate bots from people on the train window. */
import { resolve } from 'node:path';
import type { Register } from './index.js';
import { InputError, formatProblem } from '../../errors.js';
import { loadImport } from '../../rank/import.js';
import { formatRanking } from '../../rank/format.js';
import { openWorkspace, openWorkspaceStore } from '../../workspace.js';
import { progress } from '../context.js';
import { ENGINE_OPTION, MAX_SCAN_OPTION, withEngine, type EngineFlags } from '../engine-option.js';
import { rankCached } from '../../rank/cache.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('rank')
    .description('rank features by how well they separate bots from people on the train window: AUC, KS, IV, coverage, quantiles, lifts')
    .option('--top <n>', 'features to show (default: rank.top in rulegen.yaml); --json always carries all')
    .option('--import <file>', 'an importance computed elsewhere (CSV or JSON with feature, importance[, std]) to show side by side')
    .option(...ENGINE_OPTION)
    .option(...MAX_SCAN_OPTION)
    .action(async (opts: { top?: string; import?: string } & EngineFlags) => {
      const g = globals();
      const ws = openWorkspace(g.workspace);
      let top = ws.config.rank.top;
      if (opts.top !== undefined) {
        top = Number(opts.top);
        if (!/^\d+$/.test(opts.top.trim()) || !Number.isSafeInteger(top) || top < 1)
          throw InputError.single({ message: 'invalid --top', where: { field: '--top' }, expected: 'a whole number >= 1', found: opts.top });
      }
      // Read the import before the scan: a file that cannot be read at all fails fast.
      const imported = opts.import !== undefined ? loadImport(resolve(io.cwd, opts.import), ws.catalog) : undefined;
      if (imported && !g.quiet) for (const p of imported.problems) io.stderr(formatProblem(p) + '\n');
      const store = await openWorkspaceStore(ws, { mode: 'read' }); // temp tables only
      const bar = progress(io, g.quiet);
      try {
        const ranking = await withEngine(io, g.quiet, ws.config, store, opts, (engine) =>
          rankCached(store, ws.config, ws.catalog, { imported, onStep: bar.step, onProgress: bar.tick, ...(engine ? { engine } : {}) }),
        );
        bar.done();
        if (g.json) io.stdout(JSON.stringify(ranking, null, 2) + '\n');
        else io.stdout(formatRanking(ranking, top));
        // import problems were printed in full above
        const own = imported ? ranking.warnings.filter((w) => !w.startsWith(imported.file)) : ranking.warnings;
        if (!g.quiet) for (const w of own) io.stderr(`warning: ${w}\n`);
      } finally {
        bar.done();
        store.close();
      }
    });
};
