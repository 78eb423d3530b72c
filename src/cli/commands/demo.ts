import type { Register } from './index.js';
import { runDemo } from '../../demo.js';
import { formatBacktest } from '../../backtest/format.js';
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
        const top = r.ranking.features.slice(0, 5).map((f, i) => `  ${i + 1}. ${f.feature} (AUC ${f.auc?.toFixed(3) ?? 'n/a'}, bots ${f.direction ?? 'n/a'})`);
        io.stdout(
          [
            `demo workspace: ${r.dir}`,
            `synthetic data: ${r.data}`,
            '',
            '1. ingest',
            formatIngestSummary(r.ingest, 'sessions').trimEnd(),
            '',
            '2. rank (train window): the most separating features',
            ...top,
            '',
            `3. propose (offline:${r.proposed.method}): ${r.proposed.candidates.length} candidates written to ${r.dir}/candidates/`,
            ...r.proposed.candidates.map((c) => `  ${c.id.slice(0, 8)}  ${c.condition}`),
            '',
            '4. backtest (test window)',
            formatBacktest(r.backtest, { segments: false }).trimEnd(),
            '',
            'next:',
            `  rulegen -C ${r.dir} rank`,
            `  rulegen -C ${r.dir} backtest --variations`,
            `  rulegen -C ${r.dir} check --candidates`,
            '',
          ].join('\n'),
        );
      } finally {
        bar.done();
      }
    });
};
