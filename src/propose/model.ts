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
 *
 * The parts, in src/propose/model/: request.ts (prompts, the plan of calls, the Converse request,
 * repair messages), call.ts (the stop-reason and repair loop of one call), fallback.ts (one turn
 * down the fallback chain), budget.ts (tokens, cost, --max-cost, the dry run's estimate),
 * write.ts (backtest and write a call's rules), refine.ts (--refine), tool.ts (a one-tool
 * conversation, shared with `fp --provider`), summary.ts (summaries and the comparison table),
 * run.ts (the run). This module is their public face.
 */
export type { ModelProviderName } from '../llm/types.js';
export { dryRunEstimate, estimateTokens, type Tokens } from './model/budget.js';
export { makeProvider } from './model/provider.js';
export { buildRequest, echoOf, maxAnswerChars, planCalls } from './model/request.js';
export { proposeWithProvider } from './model/run.js';
export { comparisonTable } from './model/summary.js';
export { converseTool, toolRepairText, type ToolCallReport, type ToolConversation } from './model/tool.js';
export { ProposeRunError, type CallReport, type ModelCandidate, type ModelProposeOptions, type ModelProposeResult, type ModelSummary } from './model/types.js';
