/** One tool-use conversation: `fp --provider` and the rounds of `propose --refine`. */
import { costOf } from '../../llm/cost.js';
import { LlmCallError, type ContentBlock, type ConverseOutcome, type LlmProvider, type Message, type ToolSpec } from '../../llm/types.js';
import type { Workspace } from '../../workspace.js';
import { excerpt, quote, QUOTE_LIMITS } from '../outgoing.js';
import { addCost, addTokens, roundUsd, usageTokens, zeroTokens, type Tokens } from './budget.js';
import { callFailed } from './fallback.js';
import { buildRequest, maxAnswerChars, repairMessages } from './request.js';

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
    if (!outcome) throw callFailed(errors);
    const answered = chain[at]!;
    const r = outcome.response;
    report.turns++;
    report.generator = outcome.generator;
    report.tokens = addTokens(report.tokens, usageTokens(r.usage));
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
        `the answer was ${answerChars} characters of JSON, more than the ${maxAnswerChars(llm.max_tokens)} a call accepts; keep each field ` +
          `within the schema's limits`,
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
