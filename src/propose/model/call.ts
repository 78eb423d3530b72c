/**
 * One propose call: a short conversation, each stop reason handled as model.ts describes, the
 * valid rules kept and the invalid ones sent back in a bounded repair turn.
 */
import type { Message } from '../../llm/types.js';
import { quote } from '../outgoing.js';
import { MAX_RULES_PER_ANSWER } from '../schema.js';
import { validateSubmission, type InvalidRule, type ValidRule } from '../validate.js';
import { addCost, addTokens, usageTokens } from './budget.js';
import type { RunEnv } from './env.js';
import { converseWithFallback } from './fallback.js';
import { maxAnswerChars, problemText, repairMessages, repairVars, toolUses, userText, type CallPlan } from './request.js';
import type { CallReport } from './types.js';
import { writeAccepted } from './write.js';

export async function runCall(env: RunEnv, model: string, plan: CallPlan, chain: string[], report: CallReport): Promise<void> {
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
    const tokens = usageTokens(r.usage);
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
          ? `blocked by guardrail${llm.guardrail ? ` ${llm.guardrail.id} version ${llm.guardrail.version}` : ''} (guardrail_intervened); no rules ` +
            `from this call`
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
            `${answered}, call ${plan.call}: the answer had ${v.extra} rule(s) more than the ${Math.min(remaining, MAX_RULES_PER_ANSWER)} asked ` +
              `for; they were not used`,
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
      `${answered}, call ${plan.call}: sending ${invalid.length ? `${invalid.length} invalid rule(s)` : 'the answer'} back ` +
        `(repair ${report.repair_rounds} of ${llm.repair_rounds})`,
    );
    const more = repairMessages(assistant, repair);
    messages.push(...more);
  }
  report.invalid = invalid;
  report.accepted = accepted.length;
  if (accepted.length) await writeAccepted(env, model, report, accepted);
}
