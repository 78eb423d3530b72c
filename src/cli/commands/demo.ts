import type { Register } from './index.js';
import { runDemo } from '../../demo.js';
import { progress } from '../context.js';
import { formatIngestSummary } from './ingest.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('demo')
    .description('run the pipeline on synthetic traffic in a fresh workspace (no credentials needed)')
    .option('--dir <dir>', 'workspace to create (re-created if it is an earlier demo)', 'rulegen-demo')
    .action(async (opts: { dir: string }) => {
      const g = globals();
      const bar = progress(io, g.quiet);
      try {
        const r = await runDemo({ dir: opts.dir, cwd: io.cwd, onStep: bar.step });
        bar.done();
        if (g.json) {
          io.stdout(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        io.stdout(`demo workspace: ${r.dir}\nsynthetic data: ${r.data}\n\n${formatIngestSummary(r.ingest, 'sessions')}\nnext: rulegen -C ${r.dir} backtest "requests_per_minute > 120 and static_asset_ratio < 0.05" --variations\n`);
      } finally {
        bar.done();
      }
    });
};
