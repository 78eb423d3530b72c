/** `rulegen fp RULE|ID|EXPR [--window train|test|all] [--provider P] [--write]`: who a rule wrongly hits, and measured fixes. */
import { InputError, formatProblem } from '../../errors.js';
import { Option } from 'commander';
import { WINDOWS, type WindowName } from '../../db/window.js';
import { PROVIDERS, type ProviderName } from '../../llm/types.js';
import { analyseFalsePositives } from '../../fp/fp.js';
import { formatFp, formatFpModel } from '../../fp/format.js';
import { analyseWithModel, type FpModelResult } from '../../fp/model.js';
import { writeModelModifications, writeModifications, type WrittenCandidate } from '../../fp/write.js';
import { chooseProvider } from '../../propose/propose.js';
import { resolveRuleArg } from '../../rules/resolve.js';
import { openWorkspace } from '../../workspace.js';
import { withWorkspaceStore } from './with-store.js';
import type { Register } from './index.js';
import { trackEngines } from '../../backtest/evaluate.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('fp')
    .description('false-positive scenarios of a rule from the data, and measured modifications (optionally with a model)')
    .argument('<rule>', 'a rule file, a rule id or a condition expression')
    .addOption(new Option('--window <w>', 'window analysed: train | test | all (train keeps the test window honest)').choices(WINDOWS).default('train'))
    .addOption(
      new Option(
        '--provider <p>',
        'offline (the measured analysis only) | bedrock | replay (also ask the model to name the populations and propose modifications)',
      )
        .choices(PROVIDERS)
        .default('offline'),
    )
    .option('--model <id>', 'Bedrock model or inference-profile id (default: the first of llm.models)')
    .option('--record', 'write the model answer as a cassette for --provider replay', false)
    .option('--dry-run', 'with a model provider: print the request that would be sent; call nothing, write nothing', false)
    .option('--write', 'write the modifications (measured ones keeping 95% of true positives; every valid model one) as derived candidates', false)
    .action(async (arg: string, opts: { window: WindowName; provider: ProviderName; model?: string; record: boolean; dryRun: boolean; write: boolean }) => {
      const g = globals();
      const ws = openWorkspace(g.workspace);
      const { provider } = chooseProvider(opts.provider, ws, io.env);
      if (provider === 'offline' && (opts.model || opts.record || opts.dryRun))
        throw InputError.single({
          message: '--model, --record and --dry-run apply to model providers',
          where: { field: opts.model ? '--model' : opts.record ? '--record' : '--dry-run' },
          expected: '--provider bedrock or replay',
          found: 'offline',
        });
      if (opts.record && provider !== 'bedrock')
        throw InputError.single({ message: '--record needs a live provider', where: { field: '--record' }, expected: '--provider bedrock', found: provider });
      const r = resolveRuleArg(arg, ws, io.cwd);
      if (r.kind === 'error') throw new InputError('cannot analyse: the rule does not resolve', r.problems);
      if (!g.quiet) for (const p of r.warnings) io.stderr(formatProblem(p) + '\n');
      const ast = r.kind === 'rule' ? r.rule.ast : r.ast;
      const source = r.kind === 'rule' ? r.rule : undefined;
      await withWorkspaceStore(
        io,
        g,
        async (_ws, store, bar) => {
          const engines = trackEngines();
          try {
            const report = await analyseFalsePositives(store, ws.config, ws.catalog, ast, { window: opts.window, onStep: bar.step });
            if (source) report.rule = { id: source.id, title: source.title };
            let model: FpModelResult | undefined;
            if (provider !== 'offline' && report.fp > 0) {
              bar.step(`asking ${provider} about ${report.fp} false positives`);
              model = await analyseWithModel(
                ws,
                store,
                report,
                { title: source?.title ?? report.condition, ast },
                {
                  provider,
                  ...(opts.model ? { model: opts.model } : {}),
                  dryRun: opts.dryRun,
                  record: opts.record,
                  onNote: (m) => !g.quiet && io.stderr(`${m}\n`),
                },
              );
            }
            if (model?.request) {
              bar.done();
              io.stdout(
                g.json
                  ? JSON.stringify(model, null, 2) + '\n'
                  : `${JSON.stringify(model.request, null, 2)}\nprompt: ${model.prompt}\ninput: sha256:${model.input}\n` +
                      'dry run: nothing sent, nothing written\n',
              );
              return;
            }
            let written: WrittenCandidate[] = [];
            let modelWritten: WrittenCandidate[] = [];
            if (opts.write) {
              bar.step('backtesting and writing derived candidates');
              written = await writeModifications(ws, store, report, source);
              if (model) modelWritten = await writeModelModifications(ws, store, report, model, source);
            }
            bar.done();
            const strip = (k: string, v: unknown) => (k === 'ast' ? undefined : v);
            if (g.json)
              io.stdout(
                JSON.stringify({ ...report, engine: engines.engine(), written, ...(model ? { model: { ...model, written: modelWritten } } : {}) }, strip, 2) +
                  '\n',
              );
            else io.stdout(formatFp(report, ws.catalog, written) + (model ? formatFpModel(model, modelWritten) : ''));
          } finally {
            engines.stop();
          }
        },
        { ws },
      );
    });
};
