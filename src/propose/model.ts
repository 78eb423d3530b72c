/**
 * `rulegen propose` with a model: the ranking becomes a context of aggregates, the context a
 * Converse request per call, and each answer is validated, repaired, backtested on the test
 * window and written to candidates/ as soon as its call ends, so a run that fails halfway keeps
 * what the finished calls produced.
 *
 * One run makes ceil(count / llm.rules_per_call) calls per model, at most llm.max_concurrency
 * at a time over all models. Each call is a short conversation. How each stop reason ends:
 *   tool_use (or end_turn / stop_sequence with a submit_rules call)
 *       -> every rule validated; invalid ones go back with their exact errors in a repair turn
 *          (at most llm.repair_rounds), the valid ones are kept.
 *   end_turn / stop_sequence without a submit_rules call, malformed_tool_use,
 *   malformed_model_output
 *       -> a repair turn (same bound).
 *   max_tokens, model_context_window_exceeded
 *       -> a complete submit_rules call is still used; otherwise the call ends, reported with
 *          the advice to raise llm.max_tokens or lower llm.rules_per_call (a retry would be cut
 *          the same way).
 *   guardrail_intervened, content_filtered
 *       -> the call ends, reported; no retry and no fallback (the policy applies to any model).
 * Transport failures are retried by the SDK; what survives the retries moves on to the next
 * fallback model when another model may succeed (throttling, unavailable, timeout, 5xx) and ends
 * the model's run otherwise. The run then ends in an ExternalError (exit 3) naming every model
 * and error, after the other calls have finished and their candidates are written. A run in
 * which no call produced a usable rule (all blocked, filtered, cut, empty or invalid) also ends
 * in exit 3; one where some did returns, with the others' reasons in `calls[].problem`.
 *
 * Bounds: everything sent passes outgoing.ts (the privacy filter, quoting of outside text); an
 * answer is looked at only up to the count asked for (and the tool's maxItems), and not at all
 * beyond maxAnswerChars; a repair turn echoes capped excerpts. llm.timeout_ms bounds each call,
 * llm.run_timeout_ms all the calls of a run.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { applyGate } from '../backtest/gate.js';
import { backtestTargets, dropDuplicates, evidenceBlock, workspaceContext, workspaceRules, type Target } from '../backtest/run.js';
import type { Store } from '../db/store.js';
import { ExternalError, formatProblem, InputError, RulegenError, type Problem } from '../errors.js';
import { costOf, priceOf } from '../llm/cost.js';
import { Limiter } from '../llm/limit.js';
import { loadPrompt, sha256 } from '../llm/prompts.js';
import { canonicalJson, RecordingProvider, ReplayProvider, shippedCassettes } from '../llm/replay.js';
import {
  LlmCallError,
  type ContentBlock,
  type ConverseOutcome,
  type ConverseRequest,
  type LlmProvider,
  type Message,
  type ToolSpec,
  type ToolUseBlock,
} from '../llm/types.js';
import { rankFeatures } from '../rank/rank.js';
import type { Ranking } from '../rank/types.js';
import type { Workspace } from '../workspace.js';
import { buildContext, modelCatalog, type ProposeContext } from './context.js';
import { clipEcho, ECHO_LIMITS, excerpt, quote, QUOTE_LIMITS } from './outgoing.js';
import { candidateFile, writeCandidate } from './propose.js';
import { MAX_RULES_PER_ANSWER, submitRulesTool, TOOL_NAME } from './schema.js';
import { validateSubmission, type InvalidRule, type ValidRule } from './validate.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RuleResult } from '../backtest/engine.js';
import type { Expr } from '../rule/ast.js';
import { analyseFalsePositives } from '../fp/fp.js';
import { fpForModel } from '../fp/outgoing.js';
import { refineEvidence, refineResult, type RefineRound } from '../fp/refine.js';
import { REVISE_TOOL, revisionsTool } from '../fp/schema.js';
import { round4 } from './context.js';

export type ModelProviderName = 'bedrock' | 'replay';

export interface ModelProposeOptions {
  provider: ModelProviderName;
  /** Models to run on the same context (more than one: a comparison); default llm.models. */
  models?: string[];
  /** Rules wanted per model. */
  count: number;
  /** Build and return the requests; call nothing, write nothing. */
  dryRun?: boolean;
  /** Write each answer as a cassette (bedrock only). */
  record?: boolean;
  /** Stop making calls once the run has cost this much; default llm.max_cost_usd. */
  maxCostUsd?: number;
  ranking?: Ranking;
  /** `--refine N`: send the candidates that fail the gate back with their evidence, up to N rounds. */
  refine?: number;
  /** A ready provider (tests); default: built from the workspace config. */
  llm?: LlmProvider;
  onStep?: (m: string) => void;
  /** Diagnostics for stderr (fallbacks, repairs, stopped calls). */
  onNote?: (m: string) => void;
}

export interface Tokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

export interface ModelCandidate {
  id: string;
  file: string;
  title: string;
  condition: string;
  model: string;
  generator: string;
  gate: { pass: boolean; reasons: string[] };
  test: Record<string, unknown>;
  /** `--refine`: every round this candidate went through (also in its provenance). */
  refine?: RefineRound[];
}

export interface CallReport {
  model: string;
  call: number;
  /** Valid rules not written because they behave like an existing rule (hit-set Jaccard). */
  duplicates?: number;
  /** Models that answered a turn of this call (a fallback shows here). */
  answered_by: string[];
  turns: number;
  repair_rounds: number;
  stop_reasons: string[];
  tokens: Tokens;
  cost_usd: number | null;
  latency_ms: number;
  accepted: number;
  /** Rules beyond the count asked for (or the tool's maxItems), summed over turns: reported, not written. */
  extra_rules: number;
  /** Rules still invalid when the call ended, with every reason. */
  invalid: InvalidRule[];
  /** Why the call ended without (all of) its rules, when it did. */
  problem?: string;
  /** A failure that survived retries and fallbacks. */
  error?: string;
}

export interface ModelSummary {
  model: string;
  calls: number;
  valid_rules: number;
  invalid_rules: number;
  repair_rounds: number;
  /** Best recall on the test window among this model's candidates that pass the gate. */
  best_recall_at_gate: number | null;
  passing_gate: number;
  tokens: Tokens;
  cost_usd: number | null;
  latency_ms: number;
  fallbacks: string[];
  errors: string[];
}

export interface ModelProposeResult {
  provider: ModelProviderName;
  prompt: string;
  /** sha256 of the canonical JSON of the context sent. */
  input: string;
  dryRun: boolean;
  candidates: ModelCandidate[];
  calls: CallReport[];
  models: ModelSummary[];
  cost_usd: number | null;
  /** Set when --max-cost stopped calls. */
  stopped?: string;
  seconds: number;
  /** Dry run: the first request of every call, exactly as it would be sent. */
  requests?: ConverseRequest[];
  estimated_input_tokens?: number;
  /** Dry run: llm.max_tokens per request, the most the first turns can produce. */
  estimated_output_tokens?: number;
  /** Dry run: the price table applied to the estimates (first turns, no cache, no repairs); null when a model is not priced. */
  estimated_cost_usd?: number | null;
  cassettes_written?: string[];
  /** `--refine`: the conversation of every refine round, per model (their cost is in `cost_usd`). */
  refine_calls?: (ToolCallReport & { round: number; rules: number; revised: number })[];
}

/** A run that failed after some calls succeeded; `result` lists what was kept. Exit 3. */
export class ProposeRunError extends ExternalError {
  constructor(
    headline: string,
    readonly result: ModelProposeResult,
    problems: Problem[] = [],
  ) {
    super(headline, problems);
  }
}

const zeroTokens = (): Tokens => ({ input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 });
const addTokens = (a: Tokens, b: Tokens): Tokens => ({
  input_tokens: a.input_tokens + b.input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  cache_read_tokens: a.cache_read_tokens + b.cache_read_tokens,
  cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
});
const addCost = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a + b);
const roundUsd = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(6)));

/** Rough token count (4 characters a token): for --dry-run and budgets, not billing. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The provider for a run, from the config: bedrock (optionally recording) or replay. */
export async function makeProvider(ws: Workspace, name: ModelProviderName, opts: { record?: boolean } = {}): Promise<LlmProvider> {
  const configured = ws.config.llm.cassettes ? resolve(ws.dir, ws.config.llm.cassettes) : undefined;
  const dirs = [...(configured ? [configured] : []), shippedCassettes()];
  if (name === 'replay') {
    if (opts.record)
      throw InputError.single({ message: '--record needs a live provider', where: { field: '--record' }, expected: '--provider bedrock', found: 'replay' });
    return new ReplayProvider(dirs);
  }
  // Loaded on demand: the AWS SDK costs every other command ~0.2 s of start-up otherwise.
  const { BedrockProvider, bedrockOptions } = await import('../llm/bedrock.js');
  const live = new BedrockProvider(bedrockOptions(ws.config.llm));
  return opts.record ? new RecordingProvider(live, dirs[0]!) : live;
}

/** The prompt pieces shared by every call of a run. */
interface Prompts {
  system: string;
  ref: string;
  request: ReturnType<typeof loadPrompt>;
  repair: ReturnType<typeof loadPrompt>;
}

function buildPrompts(ws: Workspace, context: ProposeContext): Prompts {
  const system = loadPrompt('propose-rules', ws.paths.prompts);
  return {
    system: system.render(context as unknown as Record<string, unknown>),
    ref: system.ref,
    request: loadPrompt('propose-request', ws.paths.prompts),
    repair: loadPrompt('propose-repair', ws.paths.prompts),
  };
}

interface CallPlan {
  call: number;
  calls: number;
  count: number;
  focus: string[];
}

/** Split `count` rules over calls of at most `perCall`; with several calls, each leads with different features. */
export function planCalls(count: number, perCall: number, features: readonly string[]): CallPlan[] {
  const calls = Math.max(1, Math.ceil(count / perCall));
  return Array.from({ length: calls }, (_, i) => ({
    call: i + 1,
    calls,
    count: Math.min(perCall, count - i * perCall),
    focus: calls > 1 ? features.filter((_, j) => j % calls === i) : [],
  }));
}

function userText(p: Prompts, plan: CallPlan): string {
  return p.request.render({ count: plan.count, one: plan.count === 1, call: plan.call, calls: plan.calls, focus: plan.focus });
}

/** The Converse request for one model: cache point and tool choice where the model supports them. */
export function buildRequest(ws: Workspace, model: string, system: string, messages: Message[], tool: ToolSpec = submitRulesTool()): ConverseRequest {
  const llm = ws.config.llm;
  const price = priceOf(model);
  const anthropic = /(^|\.)anthropic\./.test(model);
  const caching = price?.prompt_caching ?? anthropic;
  const choice = price?.tool_choice ?? (anthropic ? 'tool' : 'auto');
  return {
    modelId: model,
    system: [{ text: system }, ...(caching ? [{ cachePoint: { type: 'default' as const } }] : [])],
    messages,
    toolConfig: {
      tools: [tool],
      toolChoice: choice === 'tool' ? { tool: { name: tool.toolSpec.name } } : choice === 'any' ? { any: {} } : { auto: {} },
    },
    inferenceConfig: { temperature: llm.temperature, maxTokens: llm.max_tokens },
    ...(llm.guardrail ? { guardrailConfig: { guardrailIdentifier: llm.guardrail.id, guardrailVersion: llm.guardrail.version } } : {}),
  };
}

class Budget {
  spent: number | null = 0;
  stopped = false;
  constructor(readonly max: number | undefined) {}
  add(usd: number | null): void {
    this.spent = addCost(this.spent, usd);
  }
  /** True when no further call may start. */
  exhausted(): boolean {
    if (this.max === undefined) return false;
    if (this.spent !== null && this.spent >= this.max) this.stopped = true;
    return this.stopped;
  }
}

class Aborted extends Error {}

interface RunEnv {
  ws: Workspace;
  store: Store;
  provider: LlmProvider;
  limiter: Limiter;
  storeLock: Limiter;
  prompts: Prompts;
  promptHash: string;
  input: string;
  catalog: ReturnType<typeof modelCatalog>;
  /** Printed conditions in use -> who holds them; grows as calls accept rules. */
  existing: Map<string, string>;
  budget: Budget;
  /** Models whose run ended in a failure: their remaining calls do not start. */
  failed: Set<string>;
  candidates: ModelCandidate[];
  note: (m: string) => void;
  /** Aborted at llm.run_timeout_ms: calls in flight stop, later ones do not start. */
  deadline: AbortSignal;
  /** Each candidate's AST and test-window result (what a refine round starts from). */
  measured: Map<string, { ast: Expr; result: RuleResult }>;
  refineCalls: NonNullable<ModelProposeResult['refine_calls']>;
}

/**
 * One turn, moving down the fallback chain on failures another model may not share. The turn
 * holds one concurrency slot throughout, and marks a failure or the spend before giving the slot
 * up, so that calls queued behind it see both.
 */
async function converseWithFallback(
  env: RunEnv,
  primary: string,
  chain: string[],
  messages: Message[],
  fallbacks: string[],
): Promise<{ outcome: ConverseOutcome; model: string; cost: number | null }> {
  return env.limiter.run(async () => {
    if (env.failed.has(primary)) throw new Aborted(`an earlier call of ${primary} failed`);
    if (env.budget.exhausted()) throw new Aborted('--max-cost reached');
    if (env.deadline.aborted) throw new Aborted(`llm.run_timeout_ms (${env.ws.config.llm.run_timeout_ms} ms) reached`);
    const errors: LlmCallError[] = [];
    for (const model of chain) {
      try {
        const outcome = await env.provider.converse(buildRequest(env.ws, model, env.prompts.system, messages), { signal: env.deadline });
        if (model !== primary) fallbacks.push(model);
        const cost = costOf(model, outcome.response.usage ?? { inputTokens: 0, outputTokens: 0 });
        env.budget.add(cost);
        return { outcome, model, cost };
      } catch (e) {
        if (!(e instanceof LlmCallError)) {
          env.failed.add(primary);
          throw e;
        }
        errors.push(e);
        if (!e.fallback) break;
        const next = chain[chain.indexOf(model) + 1];
        if (next) env.note(`${model}: ${e.code}: ${e.message}; falling back to ${next}`);
      }
    }
    env.failed.add(primary);
    throw new ExternalError(
      `model call failed: ${errors.map((e) => `${e.model}: ${e.code}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message}`).join('; ')}`,
    );
  });
}

function toolUses(message: Message | undefined): ToolUseBlock['toolUse'][] {
  return (message?.content ?? []).flatMap((b: ContentBlock) => ('toolUse' in b && b.toolUse.name === TOOL_NAME ? [b.toolUse] : []));
}

/**
 * The assistant turn as it is sent back: text and tool calls only, every string and array cut
 * (clipEcho), and a tool input that is still too large replaced by a note. Converse needs the
 * tool call's id to pair it with the tool result, not its full input; echoing whole fields made
 * each repair round double the request (a 10 MB field: 20 MB, then 40 MB).
 */
export function echoOf(assistant: Message): Message {
  const content: ContentBlock[] = [];
  for (const b of assistant.content.slice(0, 8)) {
    if ('text' in b) content.push({ text: excerpt(b.text, ECHO_LIMITS.textBlock) });
    else if ('toolUse' in b) {
      const clipped = clipEcho(b.toolUse.input);
      const fits = (JSON.stringify(clipped) ?? '').length <= ECHO_LIMITS.total;
      content.push({
        toolUse: {
          toolUseId: b.toolUse.toolUseId,
          name: excerpt(b.toolUse.name, 64),
          input: fits ? clipped : { note: 'input too large to repeat; see the validator errors' },
        },
      });
    }
  }
  return { role: 'assistant', content };
}

function repairMessages(assistant: Message | undefined, text: string): Message[] {
  const echo = assistant ? echoOf(assistant) : undefined;
  if (!echo || echo.content.length === 0) return [];
  const uses = (echo.content as ContentBlock[]).flatMap((b) => ('toolUse' in b ? [b.toolUse] : []));
  if (uses.length === 0) return [echo, { role: 'user', content: [{ text }] }];
  return [
    echo,
    {
      role: 'user',
      content: uses.map((u, i) => ({
        toolResult: { toolUseId: u.toolUseId, status: 'error' as const, content: [{ text: i === 0 ? text : 'See the first tool result.' }] },
      })),
    },
  ];
}

/** The largest answer (JSON characters of the output message) a call accepts: generous for llm.max_tokens, bounded whatever the model does. */
export function maxAnswerChars(maxTokens: number): number {
  return Math.max(64_000, maxTokens * 16);
}

/** Variables of the repair template: all outside text quoted and capped, at most 20 rules of at most 5 problems. */
function repairVars(v: { shape?: string[]; accepted?: number; invalid?: InvalidRule[]; remaining?: number }): Record<string, unknown> {
  const invalid = v.invalid ?? [];
  return {
    shape: v.shape ? v.shape.map((t) => quote(t, QUOTE_LIMITS.problem)) : null,
    accepted: v.accepted ?? 0,
    invalid: invalid.slice(0, MAX_RULES_PER_ANSWER).map((x) => ({
      index: x.index,
      title: x.title === null ? null : quote(x.title, QUOTE_LIMITS.title),
      condition: x.condition === null ? null : quote(x.condition, QUOTE_LIMITS.condition),
      problems: x.problems.slice(0, 5).map((p) => quote(problemText(p), QUOTE_LIMITS.problem)),
    })),
    more: Math.max(0, invalid.length - MAX_RULES_PER_ANSWER),
    remaining: v.remaining ?? 0,
  };
}

/** A problem as the model reads it: the field it concerns, then what was expected and found. */
const problemText = (p: Problem): string => `${p.where?.field ? `${p.where.field}: ` : ''}${formatProblem({ ...p, where: undefined }).replace(/^error: /, '')}`;

async function runCall(env: RunEnv, model: string, plan: CallPlan, chain: string[], report: CallReport): Promise<void> {
  const llm = env.ws.config.llm;
  const messages: Message[] = [{ role: 'user', content: [{ text: userText(env.prompts, plan) }] }];
  let invalid: InvalidRule[] = [];
  const accepted: { v: ValidRule; generator: string }[] = [];
  let chainNow = chain;
  const fallbacks: string[] = [];
  for (;;) {
    const { outcome, model: answered, cost } = await converseWithFallback(env, model, chainNow, messages, fallbacks);
    // a repair turn continues with the model that answered
    chainNow = chain.slice(chain.indexOf(answered));
    const r = outcome.response;
    const tokens: Tokens = {
      input_tokens: r.usage?.inputTokens ?? 0,
      output_tokens: r.usage?.outputTokens ?? 0,
      cache_read_tokens: r.usage?.cacheReadInputTokens ?? 0,
      cache_write_tokens: r.usage?.cacheWriteInputTokens ?? 0,
    };
    report.turns++;
    report.tokens = addTokens(report.tokens, tokens);
    report.cost_usd = addCost(report.cost_usd, cost);
    report.latency_ms += outcome.latencyMs;
    report.stop_reasons.push(r.stopReason);
    if (!report.answered_by.includes(answered)) report.answered_by.push(answered);

    const stop = r.stopReason;
    const assistant = r.output?.message;
    const uses = toolUses(assistant);
    const canRepair = report.repair_rounds < llm.repair_rounds;
    let repair: string | undefined;
    const answerChars = (JSON.stringify(r.output ?? null) ?? '').length;
    const remaining = plan.count - accepted.length;
    let issue: string | undefined;
    if (stop === 'guardrail_intervened' || stop === 'content_filtered') {
      report.problem =
        stop === 'guardrail_intervened'
          ? `blocked by guardrail${llm.guardrail ? ` ${llm.guardrail.id} version ${llm.guardrail.version}` : ''} (guardrail_intervened); no rules from this call`
          : 'the answer was withheld by the content filter (content_filtered); no rules from this call';
      break;
    }
    if (answerChars > maxAnswerChars(llm.max_tokens)) {
      // not parsed at all: none of its rules is looked at, and the echo is cut (echoOf)
      issue = `the answer was ${answerChars} characters of JSON, more than the ${maxAnswerChars(llm.max_tokens)} a call accepts`;
      repair = env.prompts.repair.render(
        repairVars({ shape: [`${issue}; submit at most ${remaining} rule(s), each field within the schema's length limits`] }),
      );
    } else {
      if ((stop === 'max_tokens' || stop === 'model_context_window_exceeded') && uses.length === 0) {
        report.problem =
          stop === 'max_tokens'
            ? `the answer was cut at llm.max_tokens (${llm.max_tokens}) before submit_rules was complete; raise llm.max_tokens or lower llm.rules_per_call`
            : 'the conversation exceeded the model context window (model_context_window_exceeded); lower rank.top or llm.rules_per_call';
        break;
      }
      if (stop === 'malformed_tool_use' || stop === 'malformed_model_output') {
        repair = env.prompts.repair.render(
          repairVars({ shape: [`the model output could not be read (${stop}); the submit_rules input must be JSON that matches its schema.`] }),
        );
      } else if (uses.length === 0) {
        if (stop !== 'end_turn' && stop !== 'stop_sequence' && stop !== 'tool_use') {
          report.problem =
            typeof stop === 'string' && stop
              ? `unexpected stop reason ${quote(stop, 60)}; no rules from this call`
              : 'an empty answer (no stop reason); no rules from this call';
          break;
        }
        repair = env.prompts.repair.render(repairVars({ shape: ['you answered without calling the submit_rules tool.'] }));
      } else {
        const input = uses.length === 1 ? uses[0]!.input : { rules: uses.flatMap((u) => (u.input as { rules?: unknown[] })?.rules ?? []) };
        const v = validateSubmission(input, env.catalog, env.existing, { max: remaining });
        if (v.extra) {
          report.extra_rules += v.extra;
          env.note(
            `${answered}, call ${plan.call}: the answer had ${v.extra} rule(s) more than the ${Math.min(remaining, MAX_RULES_PER_ANSWER)} asked for; they were not used`,
          );
        }
        for (const ok of v.valid) {
          env.existing.set(ok.condition, `"${ok.rule.title}", proposed earlier in this run`);
          accepted.push({ v: ok, generator: outcome.generator });
        }
        invalid = v.invalid;
        if (v.shape) repair = env.prompts.repair.render(repairVars({ shape: v.shape.map(problemText), remaining }));
        else if (invalid.length)
          repair = env.prompts.repair.render(repairVars({ accepted: accepted.length, invalid, remaining: plan.count - accepted.length }));
        if (stop === 'max_tokens' && repair) {
          report.problem = `the answer reached llm.max_tokens (${llm.max_tokens}); invalid rules were not sent back`;
          break;
        }
      }
    }
    if (repair === undefined) break;
    if (!canRepair) {
      if (!invalid.length)
        report.problem = `no usable submit_rules call after ${report.repair_rounds} repair round(s) (last stop reason ${stop}${issue ? `; ${issue}` : ''})`;
      break;
    }
    report.repair_rounds++;
    env.note(
      `${answered}, call ${plan.call}: sending ${invalid.length ? `${invalid.length} invalid rule(s)` : 'the answer'} back (repair ${report.repair_rounds} of ${llm.repair_rounds})`,
    );
    const more = repairMessages(assistant, repair);
    messages.push(...more);
  }
  report.invalid = invalid;
  report.accepted = accepted.length;
  if (accepted.length) await writeAccepted(env, model, report, accepted);
}

async function writeAccepted(env: RunEnv, model: string, report: CallReport, accepted: { v: ValidRule; generator: string }[]): Promise<void> {
  const { ws } = env;
  const targets: Target[] = accepted.map(({ v }) => ({ id: randomUUID(), title: v.rule.title, status: 'candidate', condition: v.condition, ast: v.ast }));
  // DuckDB has one connection: backtests of calls that end together take turns.
  await env.storeLock.run(async () => {
    // judged against the workspace's rules (approved, candidate, rejected) so that a rule that
    // behaves like one of them (hit-set Jaccard >= gate.max_jaccard) is dropped, not written
    const run = await backtestTargets(env.store, ws.config, ws.catalog, targets, { window: 'test', variations: true, context: workspaceContext(ws) });
    const dropped = new Map(dropDuplicates(run).dropped.map((d) => [d.target.id, d.reasons]));
    targets.forEach((t, i) => {
      const { v, generator } = accepted[i]!;
      const dup = dropped.get(t.id);
      if (dup) {
        env.note(`${model}: not written: ${v.condition} — ${dup.join('; ')}`);
        report.duplicates = (report.duplicates ?? 0) + 1;
        return;
      }
      const result = run.rules[i]!;
      const evidence = evidenceBlock(run, result);
      const doc = {
        id: t.id,
        title: v.rule.title,
        status: 'candidate',
        action: v.rule.action,
        level: v.rule.level,
        condition: v.condition,
        description: v.rule.description,
        rationale: v.rule.rationale,
        falsepositives: v.rule.falsepositives,
        tags: v.rule.tags,
        related: [],
        provenance: {
          generator,
          prompt: `${env.prompts.ref} sha256:${env.promptHash}`,
          input: `sha256:${env.input}`,
          // the call's usage, shared by the rules it produced
          usage: {
            input_tokens: report.tokens.input_tokens,
            output_tokens: report.tokens.output_tokens,
            cache_read_tokens: report.tokens.cache_read_tokens,
            cache_write_tokens: report.tokens.cache_write_tokens,
            cost_usd: roundUsd(report.cost_usd),
            rules_in_call: accepted.length,
          },
          created: new Date().toISOString(),
        },
        backtest: evidence,
      };
      const file = candidateFile(ws, t.id);
      writeCandidate(file, doc, `Proposed by ${generator}; the model proposes, the backtest and a reviewer decide (rulegen review, approve, reject).`);
      env.candidates.push({
        id: t.id,
        file,
        title: v.rule.title,
        condition: v.condition,
        model,
        generator,
        gate: applyGate(result, ws.config.gate),
        test: evidence,
      });
      env.measured.set(t.id, { ast: v.ast, result });
    });
  });
}

function summarise(models: string[], calls: CallReport[], candidates: ModelCandidate[]): ModelSummary[] {
  return models.map((model) => {
    const mine = calls.filter((c) => c.model === model);
    const cands = candidates.filter((c) => c.model === model);
    const passing = cands.filter((c) => c.gate.pass);
    const recalls = passing.map((c) => c.test['recall']).filter((x): x is number => typeof x === 'number');
    return {
      model,
      calls: mine.length,
      valid_rules: cands.length,
      invalid_rules: mine.reduce((s, c) => s + c.invalid.length, 0),
      repair_rounds: mine.reduce((s, c) => s + c.repair_rounds, 0),
      best_recall_at_gate: recalls.length ? Math.max(...recalls) : null,
      passing_gate: passing.length,
      tokens: mine.reduce((t, c) => addTokens(t, c.tokens), zeroTokens()),
      cost_usd: roundUsd(mine.reduce<number | null>((s, c) => addCost(s, c.cost_usd), 0)),
      latency_ms: Math.round(mine.reduce((s, c) => s + c.latency_ms, 0)),
      fallbacks: [...new Set(mine.flatMap((c) => c.answered_by.filter((m) => m !== model)))],
      errors: mine.flatMap((c) => (c.error ? [c.error] : [])),
    };
  });
}

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
  const ranking = opts.ranking ?? (await rankFeatures(store, ws.config, ws.catalog));
  const context = buildContext(ws, ranking);
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
  };
  const calls: CallReport[] = [];
  const fatal: unknown[] = [];
  const runTimer = setTimeout(() => deadline.abort(new Error(`propose stopped at llm.run_timeout_ms (${llm.run_timeout_ms} ms)`)), llm.run_timeout_ms);
  opts.onStep?.(`${models.length * plans.length} call(s) to ${models.join(', ')} (at most ${llm.max_concurrency} at a time)`);
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
          }
          if (report.problem) note(`${model}, call ${plan.call}: ${report.problem}`);
          for (const x of report.invalid)
            note(
              `${model}, call ${plan.call}: rule ${x.index}${x.title ? ` ${quote(x.title, QUOTE_LIMITS.title)}` : ''} stayed invalid: ${x.problems.map(problemText).join('; ')}`,
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

/** Why each call produced no (or not all of its) rules, one problem per call. */
function callProblems(calls: CallReport[]): Problem[] {
  return calls.flatMap((c): Problem[] => {
    const why =
      c.error ??
      c.problem ??
      (c.accepted === 0 && c.invalid.length
        ? `${c.invalid.length} rule(s) stayed invalid: ${c.invalid.flatMap((x) => x.problems.slice(0, 1).map((p) => p.message)).join('; ')}`
        : undefined);
    return why ? [{ severity: 'error', message: `${c.model}, call ${c.call}: ${excerpt(why, 500)}` }] : [];
  });
}

/**
 * --dry-run's estimate of the first turn of every call: input tokens from the request's size,
 * output tokens at llm.max_tokens (the most a turn can cost), priced without the cache and
 * before any repair round; null cost when a model is not in the price table.
 */
export function dryRunEstimate(requests: ConverseRequest[]): { input: number; output: number; cost: number | null } {
  let input = 0;
  let output = 0;
  let cost: number | null = 0;
  for (const r of requests) {
    const inTokens = estimateTokens(JSON.stringify({ system: r.system, messages: r.messages, toolConfig: r.toolConfig }));
    input += inTokens;
    output += r.inferenceConfig.maxTokens;
    cost = addCost(cost, costOf(r.modelId, { inputTokens: inTokens, outputTokens: r.inferenceConfig.maxTokens }));
  }
  return { input, output, cost: roundUsd(cost) };
}

const fmtInt = (n: number) => n.toLocaleString('en-US');
const fmtUsd = (x: number | null) => (x === null ? 'n/a' : `$${x.toFixed(4)}`);
const fmtRecall = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

/** The side-by-side table of `propose --model A --model B` (also printed for a single model). */
export function comparisonTable(result: ModelProposeResult): string {
  const head = ['model', 'valid', 'invalid', 'repairs', 'pass gate', 'best recall@gate', 'tokens in/out', 'cache r/w', 'cost', 'latency'];
  const rows = result.models.map((m) => [
    m.model + (m.fallbacks.length ? ` (fell back to ${m.fallbacks.join(', ')})` : ''),
    String(m.valid_rules),
    String(m.invalid_rules),
    String(m.repair_rounds),
    String(m.passing_gate),
    fmtRecall(m.best_recall_at_gate),
    `${fmtInt(m.tokens.input_tokens)}/${fmtInt(m.tokens.output_tokens)}`,
    `${fmtInt(m.tokens.cache_read_tokens)}/${fmtInt(m.tokens.cache_write_tokens)}`,
    fmtUsd(m.cost_usd),
    `${(m.latency_ms / 1000).toFixed(1)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

// ---- one tool-use conversation: `fp --provider` and the rounds of `propose --refine` ----

/** What one such conversation cost and how it ended. */
export interface ToolCallReport {
  model: string;
  /** Models that answered a turn (a fallback shows here). */
  answered_by: string[];
  /** Provenance of the last answer: `bedrock:<model>` or `replay:<cassette>`. */
  generator: string | null;
  turns: number;
  repair_rounds: number;
  stop_reasons: string[];
  tokens: Tokens;
  cost_usd: number | null;
  latency_ms: number;
  /** Why the conversation ended without a (fully) usable answer. */
  problem?: string;
}

export interface ToolConversation {
  ws: Workspace;
  provider: LlmProvider;
  model: string;
  system: string;
  user: string;
  tool: ToolSpec;
  /**
   * Look at one tool input (untrusted) and keep what is valid; the problems returned go back to
   * the model in a repair turn, at most llm.repair_rounds of them, each quoted and capped.
   */
  accept: (input: unknown) => { problems: string[] };
  note?: (m: string) => void;
  signal?: AbortSignal;
}

/** The repair turn of a tool conversation: the validator's words, quoted. */
export function toolRepairText(tool: string, problems: readonly string[]): string {
  const listed = problems.slice(0, 20).map((p) => `- ${quote(p, QUOTE_LIMITS.problem)}`);
  const more = problems.length > 20 ? [`(${problems.length - 20} more problem(s) not listed.)`] : [];
  return [
    `Part of your answer could not be used. The validator said (each problem quoted as a JSON string, long ones cut):`,
    ...listed,
    ...more,
    `Call ${tool} again with corrected versions of the rejected items only. Drop an item rather than guess a feature or a value that is not in the catalog.`,
  ].join('\n');
}

/**
 * A conversation that ends in one tool call: the same stop-reason handling, fallback chain,
 * answer bound and repair loop as a propose call, for any tool. Throws ExternalError when every
 * model of the chain failed, InputError on a cassette miss.
 */
export async function converseTool(c: ToolConversation): Promise<ToolCallReport> {
  const llm = c.ws.config.llm;
  const name = c.tool.toolSpec.name;
  const chain = [c.model, ...llm.fallback.filter((f) => f !== c.model)];
  const report: ToolCallReport = {
    model: c.model,
    answered_by: [],
    generator: null,
    turns: 0,
    repair_rounds: 0,
    stop_reasons: [],
    tokens: zeroTokens(),
    cost_usd: 0,
    latency_ms: 0,
  };
  const messages: Message[] = [{ role: 'user', content: [{ text: c.user }] }];
  let at = 0;
  for (;;) {
    let outcome: ConverseOutcome | undefined;
    const errors: LlmCallError[] = [];
    for (let i = at; i < chain.length && !outcome; i++) {
      try {
        outcome = await c.provider.converse(buildRequest(c.ws, chain[i]!, c.system, messages, c.tool), { signal: c.signal });
        at = i;
      } catch (e) {
        if (!(e instanceof LlmCallError)) throw e;
        errors.push(e);
        if (!e.fallback) break;
        if (chain[i + 1]) c.note?.(`${chain[i]}: ${e.code}: ${e.message}; falling back to ${chain[i + 1]}`);
      }
    }
    if (!outcome)
      throw new ExternalError(
        `model call failed: ${errors.map((e) => `${e.model}: ${e.code}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message}`).join('; ')}`,
      );
    const answered = chain[at]!;
    const r = outcome.response;
    report.turns++;
    report.generator = outcome.generator;
    report.tokens = addTokens(report.tokens, {
      input_tokens: r.usage?.inputTokens ?? 0,
      output_tokens: r.usage?.outputTokens ?? 0,
      cache_read_tokens: r.usage?.cacheReadInputTokens ?? 0,
      cache_write_tokens: r.usage?.cacheWriteInputTokens ?? 0,
    });
    report.cost_usd = roundUsd(addCost(report.cost_usd, costOf(answered, r.usage ?? { inputTokens: 0, outputTokens: 0 })));
    report.latency_ms += outcome.latencyMs;
    report.stop_reasons.push(r.stopReason);
    if (!report.answered_by.includes(answered)) report.answered_by.push(answered);
    const stop = r.stopReason;
    const assistant = r.output?.message;
    const uses = (assistant?.content ?? []).flatMap((b: ContentBlock) => ('toolUse' in b && b.toolUse.name === name ? [b.toolUse] : []));
    const answerChars = (JSON.stringify(r.output ?? null) ?? '').length;
    let problems: string[];
    if (stop === 'guardrail_intervened' || stop === 'content_filtered') {
      report.problem =
        stop === 'guardrail_intervened'
          ? `blocked by guardrail${llm.guardrail ? ` ${llm.guardrail.id} version ${llm.guardrail.version}` : ''} (guardrail_intervened)`
          : 'the answer was withheld by the content filter (content_filtered)';
      break;
    } else if (answerChars > maxAnswerChars(llm.max_tokens)) {
      problems = [
        `the answer was ${answerChars} characters of JSON, more than the ${maxAnswerChars(llm.max_tokens)} a call accepts; keep each field within the schema's limits`,
      ];
    } else if ((stop === 'max_tokens' || stop === 'model_context_window_exceeded') && uses.length === 0) {
      report.problem =
        stop === 'max_tokens'
          ? `the answer was cut at llm.max_tokens (${llm.max_tokens}) before ${name} was complete; raise llm.max_tokens`
          : 'the conversation exceeded the model context window (model_context_window_exceeded)';
      break;
    } else if (stop === 'malformed_tool_use' || stop === 'malformed_model_output') {
      problems = [`the model output could not be read (${stop}); the ${name} input must be JSON that matches its schema.`];
    } else if (uses.length === 0) {
      if (stop !== 'end_turn' && stop !== 'stop_sequence' && stop !== 'tool_use') {
        report.problem = typeof stop === 'string' && stop ? `unexpected stop reason ${quote(stop, 60)}` : 'an empty answer (no stop reason)';
        break;
      }
      problems = [`you answered without calling the ${name} tool.`];
    } else {
      problems = uses.flatMap((u) => c.accept(u.input).problems);
    }
    if (!problems.length) break;
    if (report.repair_rounds >= llm.repair_rounds) {
      report.problem = `still not usable after ${report.repair_rounds} repair round(s): ${problems
        .slice(0, 3)
        .map((p) => excerpt(p, 200))
        .join('; ')}`;
      break;
    }
    const more = repairMessages(assistant, toolRepairText(name, problems));
    if (!more.length) {
      report.problem = `an empty answer (stop reason ${quote(String(stop), 60)})`;
      break;
    }
    report.repair_rounds++;
    c.note?.(`${answered}: sending the answer back (repair ${report.repair_rounds} of ${llm.repair_rounds}): ${problems.length} problem(s)`);
    messages.push(...more);
  }
  return report;
}

// ---- propose --refine N with a model ----

const r4n = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : round4(x));

/**
 * Up to `rounds` refine rounds: each round, per model, the candidates of that model that fail
 * the gate go back in one conversation (the propose system prompt, so the cache still serves
 * it) with their evidence (gate reasons, FPR and its bound, recall by day, and the FP scenarios
 * of `rulegen fp` on the train window, through the FP privacy filter). Each revision is
 * validated like a proposed rule, backtested, and rewrites the candidate file in place (same
 * id), the round appended to `provenance.refine`. A rule the model leaves out is not sent again.
 */
async function refineWithModel(env: RunEnv, models: string[], rounds: number, onStep?: (m: string) => void): Promise<void> {
  const { ws } = env;
  const template = loadPrompt('propose-refine', ws.paths.prompts);
  const dropped = new Set<string>();
  for (let round = 1; round <= rounds; round++) {
    for (const model of models) {
      if (env.failed.has(model) || env.budget.exhausted() || env.deadline.aborted) continue;
      const failing = env.candidates
        .filter((c) => c.model === model && !c.gate.pass && !dropped.has(c.id) && env.measured.has(c.id))
        .slice(0, MAX_RULES_PER_ANSWER);
      if (!failing.length) continue;
      onStep?.(`refine round ${round} of ${rounds}: ${failing.length} candidate(s) of ${model} failed the gate; measuring their false positives`);
      const items = await env.storeLock.run(async () => {
        const out = [];
        for (const c of failing) {
          const m = env.measured.get(c.id)!;
          const report = await analyseFalsePositives(env.store, ws.config, ws.catalog, m.ast);
          const ctx = fpForModel(report, ws.catalog, ws.config, { title: c.title, ast: m.ast });
          out.push({ c, m, ctx, evidence: refineEvidence(m.result, c.gate.reasons, report.scenarios) });
        }
        return out;
      });
      const user = template.render({
        round,
        rounds,
        count: items.length,
        rules: items.map((x, i) => ({
          number: i + 1,
          title: quote(x.c.title, QUOTE_LIMITS.title),
          condition: quote(x.c.condition, QUOTE_LIMITS.condition),
          reasons: x.evidence.gate_reasons.map((r) => quote(r, QUOTE_LIMITS.reason)),
          fp: x.evidence.fp,
          tp: x.evidence.tp,
          fpr: r4n(x.evidence.fpr),
          fpr_upper95: r4n(x.evidence.fpr_upper95),
          precision: r4n(x.evidence.precision),
          recall: r4n(x.evidence.recall),
          recall_by_day: x.evidence.recall_by_day.map((d) => ({ day: d.day, recall: r4n(d.recall) })),
          scenarios: x.ctx.scenarios.map((s) => ({ description: s.description, condition: s.condition, fp: s.fp_all, tp: s.tp })),
          withheld: x.ctx.withheld.scenarios,
        })),
      });
      const revised = new Map<number, { v: ValidRule; change: string }>();
      let call: ToolCallReport;
      try {
        call = await converseTool({
          ws,
          provider: env.provider,
          model,
          system: env.prompts.system,
          user,
          tool: revisionsTool(),
          note: env.note,
          signal: env.deadline,
          accept: (raw) => {
            const list = (raw as { revisions?: unknown } | null)?.revisions;
            if (!Array.isArray(list) || !list.length) return { problems: [`the ${REVISE_TOOL} input must be an object with a non-empty "revisions" array`] };
            const problems: string[] = [];
            list.slice(0, MAX_RULES_PER_ANSWER).forEach((rv, i) => {
              const { rule: num, change, ...fields } = (rv ?? {}) as Record<string, unknown>;
              if (typeof num !== 'number' || !Number.isInteger(num) || num < 1 || num > items.length) {
                problems.push(`revisions.${i}.rule: must be the number of a failing rule, 1 to ${items.length}`);
                return;
              }
              if (revised.has(num)) return;
              if (typeof change !== 'string' || !change.trim()) problems.push(`revisions.${i}.change: say what changed, in a few words`);
              const existing = new Map(env.existing);
              existing.delete(items[num - 1]!.c.condition);
              const v = validateSubmission({ rules: [fields] }, env.catalog, existing, { max: 1 });
              const bad = [...(v.shape ?? []), ...v.invalid.flatMap((x) => x.problems)].map(
                (p) => `revisions.${i}: ${problemText(p).replace(/rules\.0\./g, '')}`,
              );
              if (bad.length) problems.push(...bad);
              else if (typeof change === 'string' && change.trim()) {
                if (v.valid[0]!.condition === items[num - 1]!.c.condition)
                  problems.push(`revisions.${i}.condition: unchanged; a revision must change the condition`);
                else revised.set(num, { v: v.valid[0]!, change: excerpt(change.trim(), 300) });
              }
            });
            return { problems };
          },
        });
      } catch (e) {
        if (e instanceof InputError) throw e;
        env.note(`${model}: refine round ${round} failed: ${(e as Error).message}`);
        env.failed.add(model);
        continue;
      }
      env.budget.add(call.cost_usd);
      env.refineCalls.push({ ...call, round, rules: items.length, revised: revised.size });
      if (call.problem) env.note(`${model}: refine round ${round}: ${call.problem}`);
      items.forEach((x, i) => {
        if (!revised.has(i + 1)) dropped.add(x.c.id);
      });
      if (!revised.size) continue;
      await env.storeLock.run(async () => {
        const entries = [...revised].sort((a, b) => a[0] - b[0]);
        const targets: Target[] = entries.map(([num, r]) => ({
          id: items[num - 1]!.c.id,
          title: r.v.rule.title,
          status: 'candidate',
          condition: r.v.condition,
          ast: r.v.ast,
        }));
        const run = await backtestTargets(env.store, ws.config, ws.catalog, targets, { window: 'test', variations: true });
        entries.forEach(([num, r], k) => {
          const x = items[num - 1]!;
          const result = run.rules[k]!;
          const gate = applyGate(result, ws.config.gate);
          const record: RefineRound = {
            round,
            generator: call.generator ?? `${env.provider.name}:${model}`,
            from: x.c.condition,
            to: r.v.condition,
            change: r.change,
            evidence: x.evidence,
            result: refineResult(result, gate),
          };
          const doc = parseYaml(readFileSync(x.c.file, 'utf8')) as Record<string, unknown>;
          const prov = (doc['provenance'] ?? {}) as Record<string, unknown>;
          const usage = {
            input_tokens: call.tokens.input_tokens,
            output_tokens: call.tokens.output_tokens,
            cost_usd: roundUsd(call.cost_usd),
            rules_in_call: items.length,
          };
          Object.assign(doc, {
            title: r.v.rule.title,
            action: r.v.rule.action,
            level: r.v.rule.level,
            condition: r.v.condition,
            description: r.v.rule.description,
            rationale: r.v.rule.rationale,
            falsepositives: r.v.rule.falsepositives,
            tags: [...new Set([...r.v.rule.tags, 'refined'])],
            provenance: { ...prov, refine: [...((prov['refine'] as unknown[] | undefined) ?? []), { ...record, usage }] },
            backtest: evidenceBlock(run, result),
          });
          writeCandidate(
            x.c.file,
            doc,
            `Proposed by ${x.c.generator} and refined by ${record.generator} (round ${round}); the model proposes, the backtest and a reviewer decide (rulegen review, approve, reject).`,
          );
          env.existing.delete(x.c.condition);
          env.existing.set(r.v.condition, `"${r.v.rule.title}", refined in this run`);
          env.measured.set(x.c.id, { ast: r.v.ast, result });
          Object.assign(x.c, {
            title: r.v.rule.title,
            condition: r.v.condition,
            gate,
            test: evidenceBlock(run, result),
            refine: [...(x.c.refine ?? []), record],
          });
        });
      });
    }
  }
}
