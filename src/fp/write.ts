/**
 * `fp --write`: each measured modification becomes a derived candidate in candidates/, with
 * `related: [{id, type: derived}]` to the rule it came from, the usual test-window evidence
 * (the same backtest and evidence block as every candidate) and the before/after figures of
 * the analysis in its provenance.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../db/store.js';
import type { Rule } from '../rule/file.js';
import { english } from '../rule/english.js';
import { backtestTargets, evidenceBlock, type Target } from '../backtest/run.js';
import { conditionTarget, workspaceContext } from '../rules/targets.js';
import { candidateDocument, candidateFile, writeCandidate } from '../rules/candidate.js';
import type { Workspace } from '../workspace.js';
import type { FpReport, Modification } from './fp.js';
import type { FpModelResult } from './model.js';

export interface WrittenCandidate {
  id: string;
  file: string;
  condition: string;
  modification: number;
}

const round = (x: number | null) => (x === null ? null : Number(x.toPrecision(6)));

function effectBlock(e: Modification['window']) {
  return {
    window: e.window,
    before: { tp: e.before.tp, fp: e.before.fp, fpr: round(e.before.fpr), recall: round(e.before.recall) },
    after: { tp: e.after.tp, fp: e.after.fp, fpr: round(e.after.fpr), recall: round(e.after.recall) },
    fp_cut: round(e.fp_cut),
    tp_kept: round(e.tp_kept),
  };
}

/** Write the modifications that keep >= 95% of true positives; returns what was written. */
export async function writeModifications(
  ws: Workspace,
  store: Store,
  report: FpReport,
  source: Rule | undefined,
  now = new Date(),
): Promise<WrittenCandidate[]> {
  const chosen = report.modifications.map((m, i) => ({ m, i })).filter((x) => x.m.keeps_tp);
  if (!chosen.length) return [];
  const title = source?.title ?? report.condition;
  const targets: Target[] = chosen.map(({ m }) => conditionTarget(randomUUID(), `${title} (fewer false positives)`, 'candidate', m.condition, m.ast));
  const run = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', context: workspaceContext(ws), configFile: ws.paths.config });
  const out: WrittenCandidate[] = [];
  chosen.forEach(({ m, i }, k) => {
    const t = targets[k]!;
    const excluded = m.scenarios.map((s) => report.scenarios[s]!);
    const remaining = report.scenarios.filter((_, s) => !m.scenarios.includes(s));
    const doc = candidateDocument({
      id: t.id,
      title: t.title,
      action: source?.action ?? 'challenge',
      level: source?.level ?? 'medium',
      condition: m.condition,
      description:
        `Sessions with ${english(m.ast, ws.catalog)}. Derived from ${source ? `rule ${source.id}` : `the condition ${report.condition}`} by ` +
        `\`rulegen fp\`: ${m.change}, which removed ${pct(m.window.fp_cut)} of its false positives and kept ${pct(m.window.tp_kept)} of its true ` +
        `positives on the ${m.window.window} window.`,
      rationale:
        `${source?.rationale?.trim() ?? 'The original condition separates automation from people.'} The exclusion removes measured false-positive ` +
        `scenarios: ${excluded.map((s) => s.description).join('; ')}.`,
      falsepositives: remaining.length
        ? remaining.map((s) => `Measured on the ${report.window.name} window: ${s.description}`)
        : ['Unknown: no further false-positive scenario was measured'],
      tags: [...new Set([...(source?.tags ?? []), 'fp-derived'])],
      related: source ? [{ id: source.id, type: 'derived' as const }] : [],
      provenance: {
        generator: `offline:fp-${m.kind}`,
        created: now.toISOString(),
        derived_from: { ...(source ? { id: source.id } : {}), condition: report.condition },
        fp_analysis: {
          window: report.window,
          false_positives: report.fp,
          true_positives: report.tp,
          scenarios: excluded.map((s) => ({ description: s.description, condition: s.condition, fp: s.fp, share: round(s.share), tp: s.tp })),
          remaining: remaining.map((s) => ({ description: s.description, condition: s.condition, fp: s.fp, share: round(s.share), tp: s.tp })),
          change: m.change,
          effect: effectBlock(m.window),
          ...(m.test ? { test: effectBlock(m.test) } : {}),
        },
      },
      backtest: evidenceBlock(run, run.rules[k]!),
    });
    const file = candidateFile(ws, t.id);
    writeCandidate(file, doc, "Derived by `rulegen fp` from a rule's measured false positives; review with `rulegen review`, then approve or reject.");
    out.push({ id: t.id, file, condition: m.condition, modification: i });
  });
  return out;
}

/**
 * Write a model's validated modifications (`fp --provider ... --write`) as derived candidates:
 * its title, change and reasoning, the populations it named, and the measured effect; the
 * backtest evidence on the test window as for every candidate. All valid ones are written (the
 * reviewer decides); `keeps_tp` is recorded with the effect.
 */
export async function writeModelModifications(
  ws: Workspace,
  store: Store,
  report: FpReport,
  result: FpModelResult,
  source: Rule | undefined,
  now = new Date(),
): Promise<WrittenCandidate[]> {
  const mods = result.modifications;
  if (!mods.length) return [];
  const targets: Target[] = mods.map((m) => conditionTarget(randomUUID(), m.title, 'candidate', m.condition, m.ast));
  const run = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', context: workspaceContext(ws), configFile: ws.paths.config });
  const generator = result.generator ?? `${result.provider}:${result.model}`;
  const named = result.populations.filter((p) => !p.automation);
  return mods.map((m, k) => {
    const t = targets[k]!;
    const excluded = result.populations.filter((p) => m.populations.includes(p.name));
    const doc = candidateDocument({
      id: t.id,
      title: m.title,
      action: source?.action ?? 'challenge',
      level: source?.level ?? 'medium',
      condition: m.condition,
      description:
        `Sessions with ${english(m.ast, ws.catalog)}. Derived from ${source ? `rule ${source.id}` : `the condition ${report.condition}`} by ` +
        `\`rulegen fp --provider ${result.provider}\` (${m.change}); measured on the ${m.window.window} window it removed ${pct(m.window.fp_cut)} ` +
        `of the false positives and kept ${pct(m.window.tp_kept)} of the true positives.`,
      rationale:
        `${source?.rationale?.trim() ?? 'The original condition separates automation from people.'} The model's reasoning for the ` + `change: ${m.reasoning}`,
      falsepositives: fpList(named.filter((p) => !excluded.includes(p)).map((p) => `${p.name}: ${p.description}`)),
      tags: [...new Set([...(source?.tags ?? []), 'fp-derived', 'model'])],
      related: source ? [{ id: source.id, type: 'derived' as const }] : [],
      provenance: {
        generator,
        prompt: result.prompt,
        input: `sha256:${result.input}`,
        ...(result.call
          ? {
              usage: {
                input_tokens: result.call.tokens.input_tokens,
                output_tokens: result.call.tokens.output_tokens,
                cost_usd: result.call.cost_usd ?? 0,
                modifications_in_call: mods.length,
              },
            }
          : {}),
        created: now.toISOString(),
        derived_from: { ...(source ? { id: source.id } : {}), condition: report.condition },
        fp_analysis: {
          window: report.window,
          false_positives: report.fp,
          true_positives: report.tp,
          scenarios: report.scenarios.map((s) => ({ description: s.description, condition: s.condition, fp: s.fp, share: round(s.share), tp: s.tp })),
          populations: result.populations.map((p) => ({ name: p.name, description: p.description, scenarios: p.scenarios, automation: p.automation })),
          change: m.change,
          reasoning: m.reasoning,
          effect: effectBlock(m.window),
          test: effectBlock(m.test),
          keeps_tp: m.keeps_tp,
        },
      },
      backtest: evidenceBlock(run, run.rules[k]!),
    });
    const file = candidateFile(ws, t.id);
    writeCandidate(
      file,
      doc,
      `Derived by \`rulegen fp --provider ${result.provider}\` (${generator}) from a rule's measured false positives; the model proposes, the ` +
        `backtest and a reviewer decide.`,
    );
    return { id: t.id, file, condition: m.condition, modification: k };
  });
}

const fpList = (xs: string[]): string[] => (xs.length ? xs.slice(0, 8) : ['Unknown: the model named no other human population']);

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}
