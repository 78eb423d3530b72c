/** Per-model summaries, the problems of a failed run, and the comparison table. */
import type { Problem } from '../../errors.js';
import { excerpt } from '../outgoing.js';
import { addCost, addTokens, roundUsd, zeroTokens } from './budget.js';
import type { CallReport, ModelCandidate, ModelProposeResult, ModelSummary } from './types.js';

export function summarise(models: string[], calls: CallReport[], candidates: ModelCandidate[]): ModelSummary[] {
  return models.map((model) => {
    const mine = calls.filter((c) => c.model === model);
    const cands = candidates.filter((c) => c.model === model);
    const passing = cands.filter((c) => c.gate.pass);
    const recalls = passing.map((c) => c.test.recall).filter((x): x is number => typeof x === 'number');
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

/** Why each call produced no (or not all of its) rules, one problem per call. */
export function callProblems(calls: CallReport[]): Problem[] {
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
