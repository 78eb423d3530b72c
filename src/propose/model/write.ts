import { randomUUID } from 'node:crypto';
import { applyGate } from '../../backtest/gate.js';
import { backtestTargets, dropDuplicates, evidenceBlock, type Target } from '../../backtest/run.js';
import { conditionTarget, workspaceContext } from '../../rules/targets.js';
import { candidateDocument, candidateFile, writeCandidate } from '../../rules/candidate.js';
import type { ValidRule } from '../validate.js';
import { roundUsd } from './budget.js';
import type { RunEnv } from './env.js';
import type { CallReport } from './types.js';

/** Backtest a call's valid rules on the test window and write each one that is not a duplicate. */
export async function writeAccepted(env: RunEnv, model: string, report: CallReport, accepted: { v: ValidRule; generator: string }[]): Promise<void> {
  const { ws } = env;
  const targets: Target[] = accepted.map(({ v }) => conditionTarget(randomUUID(), v.rule.title, 'candidate', v.condition, v.ast));
  // DuckDB has one connection: backtests of calls that end together take turns.
  await env.storeLock.run(async () => {
    // judged against the workspace's rules (approved, candidate, rejected) so that a rule that
    // behaves like one of them (hit-set Jaccard >= gate.max_jaccard) is dropped, not written
    const run = await backtestTargets(env.store, ws.config, ws.catalog, targets, {
      window: 'test',
      variations: true,
      context: workspaceContext(ws),
      ...(env.evaluator ? { evaluator: env.evaluator } : {}),
    });
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
      const doc = candidateDocument({
        id: t.id,
        title: v.rule.title,
        action: v.rule.action,
        level: v.rule.level,
        condition: v.condition,
        description: v.rule.description,
        rationale: v.rule.rationale,
        falsepositives: v.rule.falsepositives,
        tags: v.rule.tags,
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
            // null for a model not in the price table, which ProvenanceSchema (a number) does not
            // admit: written as before until the schema says which it wants
            cost_usd: roundUsd(report.cost_usd) as number,
            rules_in_call: accepted.length,
          },
          created: new Date().toISOString(),
        },
        backtest: evidence,
      });
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
