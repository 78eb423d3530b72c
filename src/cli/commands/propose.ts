import type { Register } from './index.js';
import { InputError } from '../../errors.js';
import { chooseProvider, proposeOffline } from '../../propose/propose.js';
import { comparisonTable, proposeWithProvider, ProposeRunError, type ModelProposeResult } from '../../propose/model.js';
import { fmtPct } from '../../format.js';
import { openWorkspace, openWorkspaceStore } from '../../workspace.js';
import { progress, type Io } from '../context.js';
import { Option } from 'commander';
import { PROVIDERS, type ContentBlock, type ConverseRequest, type ProviderName } from '../../llm/types.js';
import { withEngines } from '../../backtest/evaluate.js';
import { EVALUATORS, type EvaluatorName } from '../../backtest/engine-types.js';

const collect = (v: string, prev: string[]) => [...prev, v];

function showBlock(b: ContentBlock): string {
  if ('text' in b) return b.text;
  if ('cachePoint' in b) return '[cachePoint: everything above is cached between calls]';
  return JSON.stringify(b, null, 2);
}

/** --dry-run: every request as it would be sent, readable; --json gives the exact bodies. */
function printDryRun(io: Io, r: ModelProposeResult): void {
  const reqs: ConverseRequest[] = r.requests ?? [];
  const out: string[] = [];
  reqs.forEach((q, i) => {
    out.push(`=== request ${i + 1} of ${reqs.length}: ${q.modelId} ===`, '--- system ---', ...q.system.map(showBlock));
    for (const m of q.messages) out.push(`--- ${m.role} ---`, ...m.content.map(showBlock));
    out.push('--- toolConfig ---', JSON.stringify(q.toolConfig, null, 2), '--- inferenceConfig ---', JSON.stringify(q.inferenceConfig));
    if (q.guardrailConfig) out.push('--- guardrailConfig ---', JSON.stringify(q.guardrailConfig));
    out.push('');
  });
  const cost =
    r.estimated_cost_usd === undefined || r.estimated_cost_usd === null
      ? 'n/a (a model is not in the price table)'
      : `about $${r.estimated_cost_usd.toFixed(4)}`;
  out.push(
    `prompt: ${r.prompt}`,
    `input: sha256:${r.input}`,
    `estimated input tokens: ${(r.estimated_input_tokens ?? 0).toLocaleString('en-US')} over ${reqs.length} request(s) (about 4 characters a token)`,
    `estimated output tokens: at most ${(r.estimated_output_tokens ?? 0).toLocaleString('en-US')} (llm.max_tokens per request)`,
    `estimated cost: ${cost} at most, before repair rounds and without the prompt cache (prices: src/llm/prices.json); dry run, nothing sent, nothing written`,
  );
  io.stdout(out.join('\n') + '\n');
}

/** True when some model answered a turn: only then is there anything to compare. */
const answered = (r: ModelProposeResult): boolean => r.calls.some((c) => c.turns > 0);

function printModelResult(io: Io, r: ModelProposeResult): void {
  const lines = [
    `${r.candidates.length} candidate(s) from ${r.provider} (${r.calls.length} call(s), ${r.seconds.toFixed(1)} s, ` +
      `cost ${r.cost_usd === null ? 'n/a (model not in the price table)' : `$${r.cost_usd.toFixed(4)}`})`,
  ];
  for (const c of r.candidates) {
    const t = c.test;
    lines.push(
      `  ${c.id.slice(0, 8)}  ${c.condition}`,
      `            ${c.generator}; test: recall ${fmtPct(t.recall, 1)}, precision ${fmtPct(t.precision, 1)}, FPR upper ` +
        `95% ${fmtPct(t.fpr_upper95)}, gate ${c.gate.pass ? 'pass' : `fail (${c.gate.reasons.join('; ')})`}  -> ${c.file}`,
    );
    for (const x of c.refine ?? [])
      lines.push(
        `            refine round ${x.round} (${x.generator}): ${x.change} (was ${x.from}; gate ${x.result.gate}, FPR upper ` +
          `95% ${fmtPct(x.result.fpr_upper95)}, recall ${fmtPct(x.result.recall, 1)})`,
      );
  }
  const invalid = r.calls.flatMap((c) => c.invalid.map((x) => ({ c, x })));
  if (invalid.length) {
    lines.push(`${invalid.length} proposed rule(s) stayed invalid (not written):`);
    for (const { c, x } of invalid)
      lines.push(
        `  ${c.model}, call ${c.call}, rule ${x.index}${x.title ? ` ${JSON.stringify(x.title)}` : ''}: ${x.problems.map((p) => p.message).join('; ')}`,
      );
  }
  const failed = r.calls.filter((c) => c.error || c.problem);
  if (failed.length) {
    lines.push(`${failed.length} call(s) did not produce all of their rules:`);
    for (const c of failed) lines.push(`  ${c.model}, call ${c.call}: ${c.error ?? c.problem}`);
  }
  const extra = r.calls.reduce((s, c) => s + c.extra_rules, 0);
  if (extra) lines.push(`${extra} rule(s) beyond the count asked for were ignored (not written)`);
  for (const c of r.refine_calls ?? [])
    lines.push(
      `refine round ${c.round}, ${c.model}: ${c.revised} of ${c.rules} failing candidate(s) revised (${c.turns} turn(s), ${c.repair_rounds} ` +
        `repair(s), ${c.tokens.input_tokens}/${c.tokens.output_tokens} ` +
        `tokens${c.cost_usd === null ? '' : `, $${c.cost_usd.toFixed(4)}`})${c.problem ? `; ${c.problem}` : ''}`,
    );
  if (r.stopped) lines.push(r.stopped);
  // a table of zeros (no credentials, no endpoint) says nothing the error does not
  if (answered(r)) lines.push('', comparisonTable(r));
  io.stdout(lines.join('\n') + '\n');
}

export const register: Register = (program, { io, globals, note }) => {
  program
    .command('propose')
    .description('propose candidate rules (Claude on Bedrock, a recorded replay, or the offline inducer), backtest them, write candidates/')
    .addOption(
      new Option('--provider <p>', 'offline | bedrock | replay (default: llm.provider, else bedrock with AWS credentials, else offline)').choices(PROVIDERS),
    )
    .option('--model <id>', 'Bedrock model or inference-profile id; repeat to compare models side by side (default: llm.models)', collect, [] as string[])
    .option('--count <n>', 'how many candidates at most (per model)', '5')
    .option('--dry-run', 'show what would be proposed (offline) or sent (bedrock, replay) without calling or writing anything', false)
    .option('--record', 'write every model answer as a cassette for --provider replay', false)
    .option('--max-cost <usd>', 'stop making model calls once the run has cost this much')
    .option(
      '--refine <n>',
      'send candidates that fail the gate back with their evidence (gate reasons, FPR bound, FP scenarios, recall by day) for up to N rounds; ' +
        'offline: the measured modifications of `rulegen fp`',
      '0',
    )
    .addOption(
      new Option(
        '--engine <kind>',
        'how candidates are backtested on the workspace database: kernel (the columnar kernel) or sql (default: the kernel, SQL where it cannot run)',
      ).choices(EVALUATORS),
    )
    .action(
      async (opts: {
        provider?: ProviderName;
        model: string[];
        count: string;
        dryRun: boolean;
        record: boolean;
        maxCost?: string;
        refine: string;
        engine?: EvaluatorName;
      }) => {
        const g = globals();
        const refine = Number(opts.refine);
        if (!Number.isInteger(refine) || refine < 0 || refine > 5)
          throw InputError.single({ message: 'invalid --refine', where: { field: '--refine' }, expected: 'an integer from 0 to 5', found: opts.refine });
        const count = Number(opts.count);
        if (!Number.isInteger(count) || count < 1 || count > 100)
          throw InputError.single({ message: 'invalid --count', where: { field: '--count' }, expected: 'an integer from 1 to 100', found: opts.count });
        const maxCost = opts.maxCost === undefined ? undefined : Number(opts.maxCost);
        if (maxCost !== undefined && !(Number.isFinite(maxCost) && maxCost > 0))
          throw InputError.single({
            message: 'invalid --max-cost',
            where: { field: '--max-cost' },
            expected: 'a positive number of US dollars, e.g. 0.50',
            found: opts.maxCost!,
          });
        const ws = openWorkspace(g.workspace);
        const { provider, why } = chooseProvider(opts.provider, ws, io.env);
        if (!g.quiet) io.stderr(`provider: ${provider} (${why})\n`);
        if (provider === 'offline' && (opts.model.length || opts.record || maxCost !== undefined)) {
          throw InputError.single({
            message: '--model, --record and --max-cost apply to model providers',
            where: { field: opts.model.length ? '--model' : opts.record ? '--record' : '--max-cost' },
            expected: '--provider bedrock or replay',
            found: 'the offline inducer',
          });
        }
        if (opts.record && provider !== 'bedrock')
          throw InputError.single({ message: '--record needs a live provider', where: { field: '--record' }, expected: '--provider bedrock', found: provider });
        const store = await openWorkspaceStore(ws, { mode: 'read' }); // candidates are files, not tables
        const bar = progress(io, g.quiet);
        try {
          if (provider !== 'offline') {
            let r: ModelProposeResult;
            let engine: string | null = null;
            try {
              ({ value: r, engine } = await withEngines(() =>
                proposeWithProvider(ws, store, {
                  provider,
                  models: opts.model,
                  count,
                  dryRun: opts.dryRun,
                  record: opts.record,
                  refine,
                  ...(maxCost !== undefined ? { maxCostUsd: maxCost } : {}),
                  onStep: bar.step,
                  onProgress: bar.tick,
                  onNote: (m) => !g.quiet && io.stderr(`${m}\n`),
                  ...(opts.engine ? { evaluator: opts.engine } : {}),
                }),
              ));
            } catch (e) {
              // what the finished calls produced is on disk: say so before the error
              if (e instanceof ProposeRunError && (answered(e.result) || e.result.candidates.length)) {
                bar.done();
                if (g.json) io.stdout(JSON.stringify(e.result, null, 2) + '\n');
                else printModelResult(io, e.result);
              }
              throw e;
            }
            bar.done();
            note({
              provider,
              models: r.models.map((m) => m.model),
              prompt: r.prompt,
              cost_usd: r.cost_usd,
              tokens: {
                input: r.models.reduce((a, m) => a + m.tokens.input_tokens, 0),
                output: r.models.reduce((a, m) => a + m.tokens.output_tokens, 0),
                cache_read: r.models.reduce((a, m) => a + m.tokens.cache_read_tokens, 0),
                cache_write: r.models.reduce((a, m) => a + m.tokens.cache_write_tokens, 0),
              },
            });
            if (g.json) io.stdout(JSON.stringify({ ...r, engine }, null, 2) + '\n');
            else if (r.dryRun) printDryRun(io, r);
            else printModelResult(io, r);
            return;
          }
          const { value: r, engine } = await withEngines(() =>
            proposeOffline(ws, store, {
              count,
              dryRun: opts.dryRun,
              refine,
              onStep: bar.step,
              onProgress: bar.tick,
              ...(opts.engine ? { evaluator: opts.engine } : {}),
            }),
          );
          bar.done();
          note({ provider: 'offline' });
          if (g.json) {
            io.stdout(JSON.stringify({ ...r, engine }, null, 2) + '\n');
            return;
          }
          const lines = [
            `${r.candidates.length} candidate(s) from offline:${r.method} (${r.searched} rules scored on ${r.sampleRows.toLocaleString('en-US')} ` +
              `sampled train sessions, ${r.seconds.toFixed(1)} s)${r.dryRun ? ' — dry run, nothing written' : ''}`,
          ];
          for (const c of r.candidates) {
            const t = c.test;
            lines.push(
              `  ${c.id.slice(0, 8)}  ${c.condition}`,
              `            test: recall ${fmtPct(t.recall, 1)}, precision ${fmtPct(t.precision, 1)}, FPR upper ` +
                `95% ${fmtPct(t.fpr_upper95)}${r.dryRun ? '' : `  -> ${c.file}`}`,
            );
            // what each condition adds, measured where the search did not fit (the rationale says it too)
            for (const n of c.terms ?? []) lines.push(`            ${n}`);
            for (const x of c.refine ?? [])
              lines.push(
                `            refine round ${x.round}: ${x.change} (was ${x.from}; gate ${x.result.gate}, FPR upper ` +
                  `95% ${fmtPct(x.result.fpr_upper95)}, recall ${fmtPct(x.result.recall, 1)})`,
              );
          }
          if (r.power && r.candidates.length) lines.push(`  note: ${r.power}`);
          for (const n of r.notes ?? []) lines.push(`  ${n}`);
          if (r.candidates.length === 0 && !(r.notes ?? []).length)
            lines.push('  no rule passed the gate on the train window; loosen gate settings or add features');
          io.stdout(lines.join('\n') + '\n');
        } finally {
          bar.done();
          store.close();
        }
      },
    );
};
