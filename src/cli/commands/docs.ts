import type { Register } from './index.js';
import { formatProblem, ReportedFailure } from '../../errors.js';
import { docsSummary, generateDocs } from '../../report/docs.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('docs')
    .description('write docs/rules/<id>.md, docs/rules/README.md and docs/report.html from the rule files (Handlebars templates)')
    .action(async () => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const r = await generateDocs(ws, store, { now: new Date(), onStep: bar.step });
        bar.done();
        io.stdout(g.json ? JSON.stringify(r, null, 2) + '\n' : docsSummary(ws, r));
        for (const p of r.problems) if (!g.quiet || p.severity === 'error') io.stderr(formatProblem(p) + '\n');
        // rule files that do not load are left out of the docs: say so with the exit code
        if (r.problems.some((p) => p.severity === 'error')) throw new ReportedFailure(2);
      });
    });
};
