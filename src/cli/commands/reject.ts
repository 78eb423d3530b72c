import type { Register } from './index.js';
import { formatProblem } from '../../errors.js';
import { reject } from '../../review/lifecycle.js';
import { docsSummary } from '../../report/docs.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('reject')
    .description('reject candidates: they stay in candidates/ with status rejected and the reason (negative examples for propose)')
    .argument('<ids...>', 'candidate ids (or unique prefixes of 8+ characters)')
    .option('--reviewer <name>', 'who rejects (required; recorded in the rule file)')
    .option('--reason <text>', 'why (required; recorded in the rule file)')
    .option('--no-docs', 'do not regenerate docs/')
    .action(async (ids: string[], opts: { reviewer?: string; reason?: string; docs: boolean }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const r = await reject(ws, store, { ids, reviewer: opts.reviewer ?? '', reason: opts.reason ?? '', docs: opts.docs, onStep: bar.step });
        bar.done();
        if (g.json) io.stdout(JSON.stringify({ rejected: r.decisions, docs: r.docs }, null, 2) + '\n');
        else {
          for (const d of r.decisions) io.stdout(`rejected ${d.id} ${d.title} (kept in ${d.file})\n`);
          if (r.docs) io.stdout(docsSummary(ws, r.docs));
        }
        if (!g.quiet) for (const p of r.docs?.problems ?? []) io.stderr(formatProblem(p) + '\n');
      });
    });
};
