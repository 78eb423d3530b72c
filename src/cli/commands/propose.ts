import type { Register } from './index.js';
import { InputError } from '../../errors.js';
import { chooseProvider, proposeOffline } from '../../propose/propose.js';
import { fmtPct } from '../../backtest/format.js';
import { openWorkspace, openWorkspaceStore } from '../../workspace.js';
import { progress } from '../context.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('propose')
    .description('propose candidate rules (offline inducer; Claude on Bedrock in a later version), backtest them, write candidates/')
    .option('--provider <p>', 'offline | bedrock | replay (default: bedrock with AWS credentials, else offline)')
    .option('--count <n>', 'how many candidates at most', '5')
    .option('--dry-run', 'show what would be proposed without writing files', false)
    .action(async (opts: { provider?: string; count: string; dryRun: boolean }) => {
      const g = globals();
      const count = Number(opts.count);
      if (!Number.isInteger(count) || count < 1 || count > 100) throw InputError.single({ message: 'invalid --count', where: { field: '--count' }, expected: 'an integer from 1 to 100', found: opts.count });
      const ws = openWorkspace(g.workspace);
      const { provider, why } = chooseProvider(opts.provider, ws, io.env);
      if (!g.quiet) io.stderr(`provider: ${provider} (${why})\n`);
      if (provider !== 'offline') {
        throw InputError.single({ message: `the ${provider} provider is not available in this version of rulegen`, where: { field: '--provider' }, expected: 'offline', found: provider });
      }
      const store = await openWorkspaceStore(ws);
      const bar = progress(io, g.quiet);
      try {
        const r = await proposeOffline(ws, store, { count, dryRun: opts.dryRun, onStep: bar.step });
        bar.done();
        if (g.json) {
          io.stdout(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        const lines = [`${r.candidates.length} candidate(s) from offline:${r.method} (${r.searched} rules scored on ${r.sampleRows.toLocaleString('en-US')} sampled train sessions, ${r.seconds.toFixed(1)} s)${r.dryRun ? ' — dry run, nothing written' : ''}`];
        for (const c of r.candidates) {
          const t = c.test as { recall: number | null; precision: number | null; fpr_upper95: number | null };
          lines.push(`  ${c.id.slice(0, 8)}  ${c.condition}`, `            test: recall ${fmtPct(t.recall, 1)}, precision ${fmtPct(t.precision, 1)}, FPR upper 95% ${fmtPct(t.fpr_upper95)}${r.dryRun ? '' : `  -> ${c.file}`}`);
        }
        if (r.candidates.length === 0) lines.push('  no rule passed the gate on the train window; loosen gate settings or add features');
        io.stdout(lines.join('\n') + '\n');
      } finally {
        bar.done();
        store.close();
      }
    });
};
