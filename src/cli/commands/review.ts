import type { Register } from './index.js';
import { withEngines } from '../../backtest/evaluate.js';
import { formatProblem, ReportedFailure } from '../../errors.js';
import { reviewCandidates, reviewJson, reviewText } from '../../review/review.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('review')
    .description('list candidates with their evidence on the test window and their gate status, best first')
    .action(async () => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const { value: listing, engine } = await withEngines(() => reviewCandidates(ws, store, { onStep: bar.step }));
        bar.done();
        io.stdout(g.json ? JSON.stringify({ ...(reviewJson(listing) as object), engine }, null, 2) + '\n' : reviewText(listing));
        for (const p of listing.problems) if (!g.quiet || p.severity === 'error') io.stderr(formatProblem(p) + '\n');
        // a candidate file that does not load is bad input, even though the others are listed
        if (listing.problems.some((p) => p.severity === 'error')) throw new ReportedFailure(2);
      });
    });
};
