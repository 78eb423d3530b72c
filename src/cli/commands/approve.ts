import type { Register } from './index.js';
import { withEngines } from '../../backtest/evaluate.js';
import { formatProblem } from '../../errors.js';
import { approve } from '../../review/lifecycle.js';
import { incrementalText } from '../../review/findings.js';
import { docsSummary } from '../../report/docs.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('approve')
    .description(
      're-run the backtest, apply the gate (per rule, the deployed set, protected segments, stability, duplicates) and move candidates to ' +
        'rules/ as approved (exit 1 if the gate fails)',
    )
    .argument('<ids...>', 'candidate ids (or unique prefixes of 8+ characters)')
    .option('--reviewer <name>', 'who approves (required; recorded in the rule file)')
    .option('--note <text>', 'a note for the review trail')
    .option('--override <reason>', 'approve even if the gate fails; the reason is recorded')
    .option('--no-docs', 'do not regenerate docs/')
    .action(async (ids: string[], opts: { reviewer?: string; note?: string; override?: string; docs: boolean }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const { value: r, engine } = await withEngines(() =>
          approve(ws, store, { ids, reviewer: opts.reviewer ?? '', note: opts.note, override: opts.override, docs: opts.docs, onStep: bar.step }),
        );
        bar.done();
        if (g.json) io.stdout(JSON.stringify({ approved: r.decisions, docs: r.docs, notes: r.notes, engine }, null, 2) + '\n');
        else {
          for (const d of r.decisions) {
            io.stdout(
              `approved ${d.id} ${d.title} -> ${d.file}${d.overridden ? ' (gate overridden)' : ''}${d.derivedFrom ? ` (derived from ${d.derivedFrom})` : ''}\n`,
            );
            if (d.incremental) io.stdout(`  ${incrementalText(d.incremental)}\n`);
            for (const reason of d.overridden ? d.verdict.reasons : []) io.stdout(`  overridden: ${reason}\n`);
            for (const n of d.verdict.notes) io.stdout(`  note: ${n}\n`);
          }
          if (r.docs) io.stdout(docsSummary(ws, r.docs));
        }
        if (!g.quiet) {
          for (const n of r.notes) io.stderr(`note: ${n}\n`);
          for (const p of r.docs?.problems ?? []) io.stderr(formatProblem(p) + '\n');
        }
      });
    });
};
