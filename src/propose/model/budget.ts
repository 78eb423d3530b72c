/** Tokens, cost and the run's budget (`--max-cost`), and the dry run's estimate. */
import { costOf } from '../../llm/cost.js';
import type { ConverseRequest, Usage } from '../../llm/types.js';

export interface Tokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

/** A response's usage as Tokens (a missing count is 0). */
export const usageTokens = (u: Usage | undefined): Tokens => ({
  input_tokens: u?.inputTokens ?? 0,
  output_tokens: u?.outputTokens ?? 0,
  cache_read_tokens: u?.cacheReadInputTokens ?? 0,
  cache_write_tokens: u?.cacheWriteInputTokens ?? 0,
});
export const zeroTokens = (): Tokens => ({ input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 });
export const addTokens = (a: Tokens, b: Tokens): Tokens => ({
  input_tokens: a.input_tokens + b.input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  cache_read_tokens: a.cache_read_tokens + b.cache_read_tokens,
  cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
});
export const addCost = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a + b);
export const roundUsd = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(6)));

/** Rough token count (4 characters a token): for --dry-run and budgets, not billing. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export class Budget {
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
