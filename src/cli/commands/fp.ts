/** `rulegen fp RULE|ID|EXPR [--window train|test|all] [--write]`: who a rule wrongly hits, and measured fixes. */
import { InputError, formatProblem } from '../../errors.js';
import type { WindowName } from '../../backtest/window.js';
import { analyseFalsePositives } from '../../fp/fp.js';
import { formatFp } from '../../fp/format.js';
import { writeModifications, type WrittenCandidate } from '../../fp/write.js';
import { resolveRuleArg } from '../../rule/resolve.js';
import { openWorkspace } from '../../workspace.js';
import { withWorkspaceStore } from './with-store.js';
import type { Register } from './index.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('fp')
    .description('false-positive scenarios of a rule from the data, and measured modifications')
    .argument('<rule>', 'a rule file, a rule id or a condition expression')
    .option('--window <w>', 'window analysed: train | test | all (train keeps the test window honest)', 'train')
    .option('--write', 'write the modifications that keep 95% of true positives as derived candidates', false)
    .action(async (arg: string, opts: { window: string; write: boolean }) => {
      const g = globals();
      if (!['train', 'test', 'all'].includes(opts.window)) throw InputError.single({ message: 'invalid --window', where: { field: '--window' }, expected: 'train, test or all', found: opts.window });
      const ws = openWorkspace(g.workspace);
      const r = resolveRuleArg(arg, ws, io.cwd);
      if (r.kind === 'error') throw new InputError('cannot analyse: the rule does not resolve', r.problems);
      if (!g.quiet) for (const p of r.warnings) io.stderr(formatProblem(p) + '\n');
      const ast = r.kind === 'rule' ? r.rule.ast : r.ast;
      await withWorkspaceStore(io, g, async (_ws, store, bar) => {
        const report = await analyseFalsePositives(store, ws.config, ws.catalog, ast, { window: opts.window as WindowName, onStep: bar.step });
        if (r.kind === 'rule') report.rule = { id: r.rule.id, title: r.rule.title };
        let written: WrittenCandidate[] = [];
        if (opts.write) {
          bar.step('backtesting and writing derived candidates');
          written = await writeModifications(ws, store, report, r.kind === 'rule' ? r.rule : undefined);
        }
        bar.done();
        io.stdout(g.json ? JSON.stringify({ ...report, written }, (k, v) => (k === 'ast' ? undefined : v), 2) + '\n' : formatFp(report, ws.catalog, written));
      }, { ws });
    });
};
