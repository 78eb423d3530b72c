import { ExternalError } from '../../errors.js';
import { costOf } from '../../llm/cost.js';
import { LlmCallError, type ConverseOutcome, type Message } from '../../llm/types.js';
import { Aborted, type RunEnv } from './env.js';
import { buildRequest } from './request.js';

/** Every model of the chain failed: one error naming each model and its failure. */
export function callFailed(errors: readonly LlmCallError[]): ExternalError {
  return new ExternalError(`model call failed: ${errors.map((e) => `${e.model}: ${e.code}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message}`).join('; ')}`);
}

/**
 * One turn, moving down the fallback chain on failures another model may not share. The turn
 * holds one concurrency slot throughout, and marks a failure or the spend before giving the slot
 * up, so that calls queued behind it see both.
 */
export async function converseWithFallback(
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
    throw callFailed(errors);
  });
}
