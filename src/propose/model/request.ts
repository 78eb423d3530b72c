/** What is sent: the prompts, the plan of calls, the Converse request, and the messages of a repair turn. */
import { formatProblem, type Problem } from '../../errors.js';
import { priceOf } from '../../llm/cost.js';
import { loadPrompt } from '../../llm/prompts.js';
import type { ContentBlock, ConverseRequest, Message, ToolSpec, ToolUseBlock } from '../../llm/types.js';
import type { Workspace } from '../../workspace.js';
import type { ProposeContext } from '../context.js';
import { clipEcho, ECHO_LIMITS, excerpt, quote, QUOTE_LIMITS } from '../outgoing.js';
import { MAX_RULES_PER_ANSWER, submitRulesTool, TOOL_NAME } from '../schema.js';
import type { InvalidRule } from '../validate.js';

/** The prompt pieces shared by every call of a run. */
export interface Prompts {
  system: string;
  ref: string;
  request: ReturnType<typeof loadPrompt>;
  repair: ReturnType<typeof loadPrompt>;
}

export function buildPrompts(ws: Workspace, context: ProposeContext): Prompts {
  const system = loadPrompt('propose-rules', ws.paths.prompts);
  return {
    system: system.render(context as unknown as Record<string, unknown>),
    ref: system.ref,
    request: loadPrompt('propose-request', ws.paths.prompts),
    repair: loadPrompt('propose-repair', ws.paths.prompts),
  };
}

export interface CallPlan {
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

export function userText(p: Prompts, plan: CallPlan): string {
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

export function toolUses(message: Message | undefined): ToolUseBlock['toolUse'][] {
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

export function repairMessages(assistant: Message | undefined, text: string): Message[] {
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
export function repairVars(v: { shape?: string[]; accepted?: number; invalid?: InvalidRule[]; remaining?: number }): Record<string, unknown> {
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
export const problemText = (p: Problem): string =>
  `${p.where?.field ? `${p.where.field}: ` : ''}${formatProblem({ ...p, where: undefined }).replace(/^error: /, '')}`;
