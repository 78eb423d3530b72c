import { Option } from 'commander';
import type { Register } from './index.js';
import { withEngines } from '../../backtest/evaluate.js';
import { fmtPct } from '../../format.js';
import { promote } from '../../release/promote.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('promote')
    .description(
      'move an approved rule one rollout stage on (shadow -> challenge -> block) after the gate on the data since its last stage (exit 1 when it fails)',
    )
    .argument('<id>', 'an approved rule id (or a unique prefix of 8+ characters)')
    .addOption(new Option('--to <stage>', 'challenge | block (one stage after the current one)').choices(['challenge', 'block']).makeOptionMandatory())
    .option('--reviewer <name>', 'who promotes it (default: $USER)')
    .option('--override <reason>', 'promote although the gate fails; the reason is recorded in the rule file')
    .action(async (id: string, opts: { to: string; reviewer?: string; override?: string }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const reviewer = opts.reviewer ?? io.env['USER'] ?? io.env['LOGNAME'] ?? '';
        const { value: p, engine } = await withEngines(() => promote(ws, store, { id, to: opts.to, reviewer, override: opts.override, onStep: bar.step }));
        bar.done();
        if (g.json) {
          io.stdout(JSON.stringify({ ...p, engine }, null, 2) + '\n');
          return;
        }
        const e = p.evidence;
        io.stdout(`promoted ${p.id} ${p.title}: ${p.from} -> ${p.to}\n`);
        io.stdout(
          `  gate on ${e.window.rows.toLocaleString('en-US')} sessions since ${p.since}: precision ${fmtPct(e.precision, 1)}, FPR upper ` +
            `95% ${fmtPct(e.fpr_upper95)}, ${e.counts.tp} bots caught${p.verdict.pass ? '' : ` — FAILED, overridden: ${p.override}`}\n`,
        );
        for (const r of p.verdict.reasons) io.stdout(`     - ${r}\n`);
        io.stdout(`  recorded in ${p.file}\n`);
      });
    });
};
