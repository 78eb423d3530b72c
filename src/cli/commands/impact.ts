/** `rulegen impact [ID|EXPR]...`: what changes for customers if these rules ship. */
import { resolveTargets, workspaceRules } from '../../rules/targets.js';
import { Option } from 'commander';
import { WINDOWS, type WindowName } from '../../db/window.js';
import { InputError, formatProblem } from '../../errors.js';
import { formatImpact } from '../../impact/format.js';
import { impactSets, simulateImpact, type RuleAction } from '../../impact/impact.js';
import { RULE_ACTIONS } from '../../rule/file.js';
import { openWorkspace } from '../../workspace.js';
import type { Register } from './index.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('impact')
    .description('what changes if these rules ship: sessions blocked, challenged and logged, humans affected, bots stopped, per day and segment')
    .argument('[rules...]', 'rule ids, rule files or condition expressions to add to the approved set (default: every candidate)')
    .addOption(new Option('--window <w>', 'train | test | all').choices(WINDOWS).default('test'))
    .option('--action <a>', 'the action of condition expressions: log | challenge | block', 'block')
    .action(async (args: string[], opts: { window: WindowName; action: string }) => {
      const g = globals();
      if (!(RULE_ACTIONS as readonly string[]).includes(opts.action))
        throw InputError.single({ message: 'invalid --action', where: { field: '--action' }, expected: RULE_ACTIONS.join(', '), found: opts.action });
      const ws = openWorkspace(g.workspace);
      const approved = workspaceRules(ws, { statuses: ['approved'] });
      const chosen = args.length ? resolveTargets(ws, args, io.cwd, approved.loads) : workspaceRules(ws, { statuses: ['candidate'], loads: approved.loads });
      // without arguments both sets come from the same loads: their problems once, not twice
      const problems = args.length ? [...approved.problems, ...chosen.problems] : approved.problems;
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length) throw new InputError(`cannot simulate: ${errors.length} problem${errors.length > 1 ? 's' : ''}`, problems);
      if (!g.quiet) for (const p of problems) io.stderr(formatProblem(p) + '\n');
      if (chosen.targets.length === 0)
        throw InputError.single({
          message: 'no rules to simulate',
          expected: `candidate rules in ${ws.paths.candidates}, or rules named on the command line`,
          found: 'none',
        });
      const sets = impactSets(approved.targets, chosen.targets, ws.catalog, opts.action as RuleAction);
      await withWorkspaceStore(
        io,
        g,
        async (_ws, store, bar) => {
          bar.step(`simulating ${sets.added.length} rule(s) on top of ${sets.baseline.length} approved`);
          const report = await simulateImpact(store, ws.config, ws.catalog, sets.baseline, sets.added, {
            window: opts.window,
            configFile: ws.paths.config,
          });
          report.warnings.unshift(...sets.warnings);
          bar.done();
          io.stdout(g.json ? JSON.stringify(report, null, 2) + '\n' : formatImpact(report));
        },
        { ws },
      );
    });
};
