import { Option } from 'commander';
import type { Register } from './index.js';
import { relabel } from '../../labels/relabel.js';
import { LABEL_VALUES, type LabelValue } from '../../labels/overlay.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('relabel')
    .description(
      'record a label correction (labels.yaml): sessions matching a condition are bots, humans or unknown; every command then reads the corrected labels',
    )
    .requiredOption('--where <condition>', 'the sessions to relabel, in the rule language')
    .addOption(new Option('--as <label>', 'the label they get').choices([...LABEL_VALUES]).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why (kept in labels.yaml and shown by every command that applies it)')
    .requiredOption('--reviewer <name>', 'who decided')
    .option('--dry-run', 'measure what would change without recording it', false)
    .action(async (opts: { where: string; as: LabelValue; reason: string; reviewer: string; dryRun: boolean }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store) => {
        const r = await relabel(store, ws.dir, ws.config, ws.catalog, opts);
        if (g.json) {
          io.stdout(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        const b = r.before;
        io.stdout(
          [
            `${r.written ? 'recorded in' : 'would record in (dry run)'} ${r.file}: ${r.correction.as} where ${r.correction.where}`,
            `  matches ${r.matched.toLocaleString('en-US')} sessions, labelled now: ${b.bot} bot, ${b.human} human, ${b.unknown} unknown`,
            `  labels changed: ${r.changed.toLocaleString('en-US')}`,
            `  reason: ${r.correction.reason} (${r.correction.reviewer})`,
          ].join('\n') + '\n',
        );
      });
    });
};
