/** `propose --refine N` with a model. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { applyGate } from '../../backtest/gate.js';
import { backtestTargets, evidenceBlock, type Target } from '../../backtest/run.js';
import { InputError } from '../../errors.js';
import { analyseFalsePositives } from '../../fp/fp.js';
import { fpForModel } from '../../fp/outgoing.js';
import { refineEvidence, refineResult, type RefineRound } from '../../fp/refine.js';
import { REVISE_TOOL, revisionsTool } from '../../fp/schema.js';
import { loadPrompt } from '../../llm/prompts.js';
import { round4 } from '../context.js';
import { excerpt, quote, QUOTE_LIMITS } from '../outgoing.js';
import { conditionTarget } from '../../rules/targets.js';
import { writeCandidate, type CandidateDocument } from '../../rules/candidate.js';
import { MAX_RULES_PER_ANSWER } from '../schema.js';
import { validateSubmission, type ValidRule } from '../validate.js';
import { roundUsd } from './budget.js';
import type { RunEnv } from './env.js';
import { problemText } from './request.js';
import { converseTool, type ToolCallReport } from './tool.js';

const r4n = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : round4(x));

/**
 * Up to `rounds` refine rounds: each round, per model, the candidates of that model that fail
 * the gate go back in one conversation (the propose system prompt, so the cache still serves
 * it) with their evidence (gate reasons, FPR and its bound, recall by day, and the FP scenarios
 * of `rulegen fp` on the train window, through the FP privacy filter). Each revision is
 * validated like a proposed rule, backtested, and rewrites the candidate file in place (same
 * id), the round appended to `provenance.refine`. A rule the model leaves out is not sent again.
 */
export async function refineWithModel(env: RunEnv, models: string[], rounds: number, onStep?: (m: string) => void): Promise<void> {
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
        const targets: Target[] = entries.map(([num, r]) => conditionTarget(items[num - 1]!.c.id, r.v.rule.title, 'candidate', r.v.condition, r.v.ast));
        const run = await backtestTargets(env.store, ws.config, ws.catalog, targets, {
          window: 'test',
          variations: true,
          ...(env.evaluator ? { evaluator: env.evaluator } : {}),
        });
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
          // the file writeAccepted wrote in this run, read back so that the keys it holds beyond
          // the builder's (a reviewer's edits in between) survive the rewrite
          const doc = parseYaml(readFileSync(x.c.file, 'utf8')) as CandidateDocument & Record<string, unknown>;
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
            `Proposed by ${x.c.generator} and refined by ${record.generator} (round ${round}); the model proposes, the backtest and a reviewer ` +
              `decide (rulegen review, approve, reject).`,
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
