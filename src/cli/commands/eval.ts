import { resolve } from 'node:path';
import type { Register } from './index.js';
import { withEngines } from '../../backtest/evaluate.js';
import { InputError, ReportedFailure } from '../../errors.js';
import { writeFileAtomic } from '../../fsutil.js';
import { compare, markdownReport, readBaseline, textReport, writeBaseline, type Comparison } from '../../eval/compare.js';
import { runSuite } from '../../eval/run.js';
import { loadSuite, PROVIDERS, type EvalProvider } from '../../eval/suite.js';
import { progress } from '../context.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export const register: Register = (program, { io, globals, note }) => {
  program
    .command('eval')
    .description('ground-truth evaluation: run a suite of cases in scratch workspaces, compare providers/models, gate on a baseline (exit 1 on a regression)')
    .argument('<suite>', 'suite file, e.g. eval/suites/default.yaml')
    .option('--provider <p>', 'run only this provider (offline | replay | bedrock); repeat for several', collect, [] as string[])
    .option('--model <id>', 'model for replay/bedrock; repeat to compare models side by side', collect, [] as string[])
    .option('--case <name>', 'run only this case; repeat for several', collect, [] as string[])
    .option('--count <n>', "rules asked of each provider, instead of each case's count")
    .option('--baseline <file>', 'compare with this baseline; exit 1 when a metric regresses beyond the tolerance')
    .option('--update-baseline', 'write the result to --baseline instead of comparing', false)
    .option('--markdown <file>', 'also write the table as Markdown (a PR comment)')
    .option('--record', "with --provider bedrock: store every model exchange as a cassette in the suite's cassette folder", false)
    .action(
      async (
        suiteFile: string,
        opts: {
          provider: string[];
          model: string[];
          case: string[];
          count?: string;
          baseline?: string;
          updateBaseline: boolean;
          markdown?: string;
          record: boolean;
        },
      ) => {
        const g = globals();
        for (const p of opts.provider)
          if (!(PROVIDERS as readonly string[]).includes(p))
            throw InputError.single({ message: 'unknown provider', where: { field: '--provider' }, expected: PROVIDERS.join(', '), found: p });
        if (opts.record && (opts.provider.length !== 1 || opts.provider[0] !== 'bedrock'))
          throw InputError.single({
            message: '--record needs a live provider',
            where: { field: '--record' },
            expected: '--provider bedrock (alone)',
            found: opts.provider.join(', ') || "each case's providers",
          });
        if (opts.updateBaseline && !opts.baseline)
          throw InputError.single({
            message: '--update-baseline needs --baseline FILE',
            where: { field: '--update-baseline' },
            expected: '--baseline eval/baselines/<suite>.json',
            found: 'no --baseline',
          });
        const count = opts.count === undefined ? undefined : Number(opts.count);
        if (count !== undefined && !(Number.isInteger(count) && count >= 1 && count <= 50))
          throw InputError.single({ message: 'invalid --count', where: { field: '--count' }, expected: 'an integer from 1 to 50', found: opts.count! });
        const suite = loadSuite(resolve(io.cwd, suiteFile));
        const unknown = opts.case.filter((c) => !suite.cases.some((x) => x.name === c));
        if (unknown.length)
          throw InputError.single({
            message: 'unknown case',
            where: { file: suite.file, field: '--case' },
            expected: suite.cases.map((c) => c.name).join(', '),
            found: unknown.join(', '),
          });
        const baselineFile = opts.baseline ? resolve(io.cwd, opts.baseline) : undefined;
        // refuse a wrong baseline before spending minutes on the suite
        const baseline = baselineFile && !opts.updateBaseline ? readBaseline(baselineFile, suite) : undefined;
        const bar = progress(io, g.quiet);
        let result;
        let engine: string | null = null;
        try {
          ({ value: result, engine } = await withEngines(() =>
            runSuite(suite, {
              ...(opts.provider.length ? { providers: opts.provider as EvalProvider[] } : {}),
              models: opts.model,
              cases: opts.case,
              record: opts.record,
              ...(count !== undefined ? { count } : {}),
              onStep: bar.step,
              onProgress: bar.tick,
            }),
          ));
        } finally {
          bar.done();
        }
        const cmp: Comparison | undefined = baseline ? compare(result, baseline, suite) : undefined;
        const command = [
          'rulegen eval',
          suiteFile,
          ...opts.provider.map((p) => `--provider ${p}`),
          ...opts.model.map((m) => `--model ${m}`),
          ...opts.case.map((c) => `--case ${c}`),
          ...(opts.count ? [`--count ${opts.count}`] : []),
          ...(opts.baseline ? [`--baseline ${opts.baseline}`] : []),
        ].join(' ');
        if (opts.markdown) writeFileAtomic(resolve(io.cwd, opts.markdown), markdownReport(result, command, cmp));
        if (g.json) io.stdout(JSON.stringify({ ...result, engine, ...(cmp ? { comparison: cmp } : {}) }, null, 2) + '\n');
        else io.stdout(textReport(result, cmp));
        const sum = (k: 'input_tokens' | 'output_tokens' | 'cost_usd') =>
          result.rows.reduce<number | null>((s, r) => (s === null || r.metrics[k] === null ? null : s + r.metrics[k]!), 0);
        note({
          provider: [...new Set(result.rows.map((r) => r.provider))].join(','),
          models: [...new Set(result.rows.flatMap((r) => (r.model ? [r.model] : [])))],
          tokens: { input: sum('input_tokens'), output: sum('output_tokens') },
          cost_usd: sum('cost_usd'),
          details: {
            suite: suite.suite,
            version: suite.version,
            cases: result.cases.length,
            failed: result.failed.map((f) => f.case),
            regressions: cmp?.regressions.length ?? null,
          },
        });
        if (opts.updateBaseline && baselineFile) {
          writeBaseline(baselineFile, result);
          if (!g.quiet) io.stderr(`baseline written to ${baselineFile}\n`);
        }
        const failedRows = result.rows.filter((r) => r.error);
        const failed = [...result.failed.map((f) => `case ${f.case}`), ...failedRows.map((r) => `${r.case} / ${r.provider}${r.model ? ` ${r.model}` : ''}`)];
        const regressions = (cmp?.regressions ?? []).map((x) => `${x.case} / ${x.provider}${x.model ? ` ${x.model}` : ''}: ${x.metric}`);
        if (!g.quiet && failed.length) io.stderr(`failed: ${failed.join(', ')}\n`);
        if (!g.quiet && regressions.length) io.stderr(`regression: ${regressions.join('; ')}\n`);
        // the report is printed: a failed case or a regression is the suite's verdict, exit 1
        if (failed.length || regressions.length) throw new ReportedFailure(1);
      },
    );
};
