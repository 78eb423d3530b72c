import { Option } from 'commander';
import type { Register } from './index.js';
import { InputError, formatProblem } from '../../errors.js';
import { backtestTargets } from '../../backtest/run.js';
import { writeEvidence } from '../../rules/evidence.js';
import { loadWorkspaceRules } from '../../rules/load.js';
import { resolveTargets, workspaceContext, workspaceRules } from '../../rules/targets.js';
import { formatBacktest } from '../../backtest/format.js';
import { WINDOWS, type WindowName } from '../../db/window.js';
import { openWorkspace, openWorkspaceStore } from '../../workspace.js';
import { progress } from '../context.js';
import { ENGINE_OPTION, MAX_SCAN_OPTION, withEngine, type EngineFlags } from '../engine-option.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('backtest')
    .description('measure rules on labelled history: counts, precision, recall, FPR with 95% bounds, per day and segment, overlap')
    .argument('[rules...]', 'rule files, rule ids or condition expressions (default: every candidate and approved rule)')
    .addOption(new Option('--window <w>', 'train | test | all').choices(WINDOWS).default('test'))
    .option('--by <segment>', 'break FPR down by this segment column only')
    .option('--variations', 'move each numeric threshold along its feature quantiles', false)
    .option('--update', 'also rewrite the backtest block of approved rules', false)
    .option('--no-write', 'do not write evidence into rule files')
    .option('--core-only', 'core counts only (no per-day, segment or overlap breakdowns)', false)
    .option(...ENGINE_OPTION)
    .option(...MAX_SCAN_OPTION)
    .action(
      async (
        args: string[],
        opts: { window: WindowName; by?: string; variations: boolean; update: boolean; write: boolean; coreOnly: boolean } & EngineFlags,
      ) => {
        const g = globals();
        const ws = openWorkspace(g.workspace);
        const loads = loadWorkspaceRules(ws).all;
        const { targets, problems } = args.length ? resolveTargets(ws, args, io.cwd, loads) : workspaceRules(ws, { loads });
        const errors = problems.filter((p) => p.severity === 'error');
        if (errors.length) throw new InputError(`cannot backtest: ${errors.length} problem${errors.length > 1 ? 's' : ''}`, problems);
        if (!g.quiet) for (const p of problems) io.stderr(formatProblem(p) + '\n');
        if (targets.length === 0)
          throw InputError.single({
            message: 'no rules to backtest',
            expected: `rule files in ${ws.paths.candidates} or ${ws.paths.rules}, or rules named on the command line`,
            found: 'none',
          });
        const store = await openWorkspaceStore(ws, { mode: 'read' }); // evidence goes into rule files
        const bar = progress(io, g.quiet);
        try {
          const run = await withEngine(io, g.quiet, ws.config, store, opts, (engine, evaluator) =>
            backtestTargets(store, ws.config, ws.catalog, targets, {
              window: opts.window,
              by: opts.by,
              variations: opts.variations,
              coreOnly: opts.coreOnly,
              onStep: bar.step,
              onProgress: bar.tick,
              context: workspaceContext(ws, loads),
              configFile: ws.paths.config,
              evaluator,
              ...(engine ? { engine } : {}),
            }),
          );
          bar.done();
          const written = opts.write ? writeEvidence(run, opts.update) : { written: [], skipped: [] };
          if (g.json) io.stdout(JSON.stringify({ ...run, evidence: written }, null, 2) + '\n');
          else {
            io.stdout(formatBacktest(run));
            if (!g.quiet && written.written.length) io.stderr(`evidence written to ${written.written.length} rule file(s)\n`);
            if (!g.quiet && written.skipped.length)
              io.stderr(`${written.skipped.length} approved rule file(s) left as they are (use --update to rewrite their evidence)\n`);
          }
          if (!g.json && !g.quiet) for (const w of run.warnings) io.stderr(`warning: ${w}\n`);
        } finally {
          bar.done();
          store.close();
        }
      },
    );
};
