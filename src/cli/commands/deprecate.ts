import type { Register } from './index.js';
import { formatProblem } from '../../errors.js';
import { deprecate } from '../../review/lifecycle.js';
import { docsSummary } from '../../report/docs.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('deprecate')
    .description('retire an approved rule: it stays in rules/ with status deprecated and the reason')
    .argument('<id>', 'an approved rule id (or a unique prefix of 8+ characters)')
    .option('--reason <text>', 'why (required; recorded in the rule file)')
    .option('--reviewer <name>', 'who retires it (default: $USER)')
    .option('--no-docs', 'do not regenerate docs/')
    .action(async (id: string, opts: { reason?: string; reviewer?: string; docs: boolean }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const reviewer = opts.reviewer ?? io.env['USER'] ?? io.env['LOGNAME'] ?? 'unknown';
        const r = await deprecate(ws, store, { id, reason: opts.reason ?? '', reviewer, docs: opts.docs, onStep: bar.step });
        bar.done();
        if (g.json) io.stdout(JSON.stringify({ deprecated: r.decisions, docs: r.docs }, null, 2) + '\n');
        else {
          for (const d of r.decisions) io.stdout(`deprecated ${d.id} ${d.title} (kept in ${d.file})\n`);
          if (r.docs) io.stdout(docsSummary(ws, r.docs));
        }
        if (!g.quiet) for (const p of r.docs?.problems ?? []) io.stderr(formatProblem(p) + '\n');
      });
    });
};
