/** A model propose run: plan the calls, run them within the budget and deadline, refine, summarise. */
import type { Store } from '../../db/store.js';
import { InputError, RulegenError } from '../../errors.js';
import { priceOf } from '../../llm/cost.js';
import { Limiter } from '../../llm/limit.js';
import { sha256 } from '../../llm/prompts.js';
import { canonicalJson, RecordingProvider } from '../../llm/replay.js';
import { workspaceRules } from '../../rules/targets.js';
import type { Workspace } from '../../workspace.js';
import { modelCatalog } from '../context.js';
import { modelContext } from './families.js';
import { quote, QUOTE_LIMITS } from '../outgoing.js';
import { Budget, dryRunEstimate, roundUsd, zeroTokens } from './budget.js';
import { runCall } from './call.js';
import { Aborted, type RunEnv } from './env.js';
import { makeProvider } from './provider.js';
import { refineWithModel } from './refine.js';
import { buildPrompts, buildRequest, planCalls, problemText, userText } from './request.js';
import { callProblems, summarise } from './summary.js';
import { ProposeRunError, type CallReport, type ModelProposeOptions, type ModelProposeResult } from './types.js';
import { rankCached } from '../../rank/cache.js';

/**
 * Propose candidates with a model provider (bedrock or replay). The demo calls it as
 * `proposeWithProvider(ws, store, { provider: 'replay', count: 5, ranking })`.
 */
export async function proposeWithProvider(ws: Workspace, store: Store, opts: ModelProposeOptions): Promise<ModelProposeResult> {
  const t0 = performance.now();
  const note = opts.onNote ?? (() => undefined);
  const llm = ws.config.llm;
  const models = [...new Set(opts.models?.length ? opts.models : llm.models)];
  const maxCost = opts.maxCostUsd ?? llm.max_cost_usd;
  if (maxCost !== undefined) {
    const unpriced = models.filter((m) => !priceOf(m));
    if (unpriced.length)
      throw InputError.single({
        message: 'cannot enforce --max-cost: no price for a model',
        where: { field: '--max-cost' },
        expected: 'models listed in src/llm/prices.json',
        found: unpriced.join(', '),
      });
  }
  opts.onStep?.('ranking features on the train window');
  const ranking = opts.ranking ?? (await rankCached(store, ws.config, ws.catalog));
  const context = await modelContext(ws, store, ranking, opts.onStep ? { onStep: opts.onStep } : {});
  const input = sha256(canonicalJson(context));
  const prompts = buildPrompts(ws, context);
  const plans = planCalls(
    opts.count,
    llm.rules_per_call,
    context.features.map((f) => f.name),
  );
  const promptHash = sha256(`${prompts.system}\n\n${userText(prompts, plans[0]!)}`);
  const base: ModelProposeResult = {
    provider: opts.provider,
    prompt: `${prompts.ref} sha256:${promptHash}`,
    input,
    dryRun: Boolean(opts.dryRun),
    candidates: [],
    calls: [],
    models: [],
    cost_usd: 0,
    seconds: 0,
  };

  if (opts.dryRun) {
    const requests = models.flatMap((m) =>
      plans.map((p) => buildRequest(ws, m, prompts.system, [{ role: 'user', content: [{ text: userText(prompts, p) }] }])),
    );
    const est = dryRunEstimate(requests);
    return {
      ...base,
      requests,
      estimated_input_tokens: est.input,
      estimated_output_tokens: est.output,
      estimated_cost_usd: est.cost,
      cost_usd: null,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  const provider = opts.llm ?? (await makeProvider(ws, opts.provider, { record: opts.record }));
  const deadline = new AbortController();
  const existing = new Map<string, string>();
  for (const t of workspaceRules(ws, { statuses: ['candidate', 'approved', 'rejected', 'deprecated'] }).targets)
    existing.set(t.condition, `${t.status} rule ${t.id}`);
  const env: RunEnv = {
    ws,
    store,
    provider,
    limiter: new Limiter(llm.max_concurrency),
    storeLock: new Limiter(1),
    prompts,
    promptHash,
    input,
    catalog: modelCatalog(ws.catalog),
    existing,
    budget: new Budget(maxCost),
    failed: new Set(),
    candidates: [],
    note,
    deadline: deadline.signal,
    measured: new Map(),
    refineCalls: [],
    ...(opts.evaluator ? { evaluator: opts.evaluator } : {}),
  };
  const calls: CallReport[] = [];
  const fatal: unknown[] = [];
  const runTimer = setTimeout(() => deadline.abort(new Error(`propose stopped at llm.run_timeout_ms (${llm.run_timeout_ms} ms)`)), llm.run_timeout_ms);
  opts.onStep?.(`${models.length * plans.length} call(s) to ${models.join(', ')} (at most ${llm.max_concurrency} at a time)`);
  let finished = 0;
  const planned = models.length * plans.length;
  opts.onProgress?.(0, planned, 'calls');
  try {
    await Promise.all(
      models.flatMap((model) => {
        const chain = [model, ...llm.fallback.filter((f) => f !== model)];
        return plans.map(async (plan) => {
          const report: CallReport = {
            model,
            call: plan.call,
            answered_by: [],
            turns: 0,
            repair_rounds: 0,
            stop_reasons: [],
            tokens: zeroTokens(),
            cost_usd: 0,
            latency_ms: 0,
            accepted: 0,
            extra_rules: 0,
            invalid: [],
          };
          calls.push(report);
          try {
            await runCall(env, model, plan, chain, report);
          } catch (e) {
            if (e instanceof Aborted) {
              report.problem = `not run: ${e.message}`;
              return;
            }
            env.failed.add(model);
            report.error = e instanceof RulegenError ? e.headline || e.message : (e as Error).message;
            fatal.push(e);
          } finally {
            opts.onProgress?.(++finished, planned, 'calls');
          }
          if (report.problem) note(`${model}, call ${plan.call}: ${report.problem}`);
          for (const x of report.invalid)
            note(
              `${model}, call ${plan.call}: rule ${x.index}${x.title ? ` ${quote(x.title, QUOTE_LIMITS.title)}` : ''} stayed ` +
                `invalid: ${x.problems.map(problemText).join('; ')}`,
            );
        });
      }),
    );
    if (opts.refine && !fatal.length && !deadline.signal.aborted) await refineWithModel(env, models, opts.refine, opts.onStep);
  } finally {
    clearTimeout(runTimer);
  }
  calls.sort((a, b) => models.indexOf(a.model) - models.indexOf(b.model) || a.call - b.call);
  const summaries = summarise(models, calls, env.candidates);
  const result: ModelProposeResult = {
    ...base,
    candidates: env.candidates,
    calls,
    models: summaries,
    cost_usd: roundUsd(env.budget.spent),
    ...(env.budget.stopped ? { stopped: `--max-cost ${maxCost} USD reached after ${roundUsd(env.budget.spent)} USD; later calls were not made` } : {}),
    seconds: (performance.now() - t0) / 1000,
    ...(provider instanceof RecordingProvider ? { cassettes_written: provider.written } : {}),
    ...(opts.refine ? { refine_calls: env.refineCalls } : {}),
  };
  if (fatal.length) {
    // A bad input (a cassette miss) keeps its own exit code; the candidates are on disk either way.
    const input = fatal.find((e) => e instanceof InputError);
    if (input) throw input;
    const kept = env.candidates.length
      ? `; kept ${env.candidates.length} candidate(s) from the calls that succeeded: ${env.candidates.map((c) => c.file).join(', ')}`
      : '';
    const messages = [...new Set(calls.flatMap((c) => (c.error ? [`${c.model}, call ${c.call}: ${c.error}`] : [])))];
    throw new ProposeRunError(`propose failed: ${messages.join(' | ')}${kept}`, result);
  }
  if (deadline.signal.aborted)
    throw new ProposeRunError(
      `propose stopped at llm.run_timeout_ms (${llm.run_timeout_ms} ms)${env.candidates.length ? `; kept ${env.candidates.length} candidate(s)` : ''}`,
      result,
      callProblems(calls),
    );
  // A run in which every call ended in a guardrail, a filter, a cut or output that stayed
  // invalid produced nothing: that is a failure of the provider, not an empty success.
  if (!calls.some((c) => c.accepted > 0))
    throw new ProposeRunError(`propose: no model call produced a usable answer (${calls.length} call(s))`, result, callProblems(calls));
  return result;
}
