/** The view of docs/rules/<id>.md: one rule, its evidence, findings, variations and review trail. */
import { applyGate } from '../backtest/gate.js';
import { fmtPct } from '../format.js';
import type { RuleResult } from '../backtest/engine.js';
import { english } from '../rule/english.js';
import type { Evidence } from '../rule/evidence.js';
import { reviewTrail } from '../review/trail.js';
import type { Rule } from '../rule/file.js';
import { measuredFpView } from './fp-view.js';
import { findingsView, validationOf } from './validation-view.js';
import { variationsView } from './variations-view.js';
import { cell, count, day, derivedOf, gateView, iso, recordedEvidence, type DocRule, type DocsInput } from './view-common.js';

const ACTION_TEXT: Record<string, string> = {
  log: 'matching sessions are only recorded; nobody is affected',
  challenge: 'matching sessions must pass a challenge (e.g. a CAPTCHA) to continue',
  block: 'matching sessions are refused',
};

/** A RuleResult's shape from recorded evidence, so the one gate (applyGate) judges both. */
function resultOf(id: string, e: Evidence): RuleResult | null {
  if (!e.counts) return null;
  return {
    id,
    counts: { tp: e.counts.tp, fp: e.counts.fp, tn: e.counts.tn, fn: e.counts.fn, unlabeled_hits: e.counts.unlabeled_hits ?? 0 },
    precision: e.precision ?? null,
    precision_lower95: e.precision_lower95 ?? null,
    recall: e.recall ?? null,
    fpr: e.fpr ?? null,
    fpr_upper95: e.fpr_upper95 ?? null,
    hit_rate: e.hit_rate ?? null,
  };
}

/** Evidence in the rule file's shape from the live test-window result, for a file that records none. */
function liveEvidence(r: RuleResult, run: NonNullable<DocsInput['run']>): Evidence {
  return {
    data: { rows: run.rows, from: run.window.from, to: run.window.to, window: run.window.name },
    counts: { ...r.counts },
    precision: r.precision,
    recall: r.recall,
    fpr: r.fpr,
    fpr_upper95: r.fpr_upper95,
    hit_rate: r.hit_rate,
    daily: r.daily ? { worst_fpr: r.daily.worst_fpr, worst_day: r.daily.worst_day, days: r.daily.days } : undefined,
    segments: r.segments
      ? Object.fromEntries(Object.entries(r.segments).map(([k, s]) => [k, { fpr: s.fpr, fpr_upper95: s.fpr_upper95, hits: s.hits }]))
      : undefined,
    incremental_recall: r.incremental_recall ?? null,
    overlap: (r.overlap ?? []).filter((o) => o.jaccard >= 0.05).slice(0, 5),
  };
}

/** Evidence for a rule: what its file records, else the live result (said so in the text). */
function evidenceView(d: DocRule, input: DocsInput, titles: ReadonlyMap<string, string>) {
  const recorded = recordedEvidence(d.rule);
  let e: Evidence | null = recorded;
  let source = recorded ? `recorded ${iso(recorded.as_of) || 'at an unknown time'}` : '';
  if (!e && d.result && input.run) {
    e = liveEvidence(d.result, input.run);
    source = `measured ${input.now.toISOString()} on current data (the rule file records no evidence)`;
  }
  if (!e) return null;
  const result = resultOf(d.rule.id, e);
  const verdict = result ? applyGate(result, input.config.gate) : null;
  return {
    source,
    window: e.data?.window ?? 'unknown',
    from: day(e.data?.from) || 'unknown',
    to: day(e.data?.to) || 'unknown',
    rows: count(e.data?.rows),
    tp: count(e.counts?.tp),
    fp: count(e.counts?.fp),
    unlabeled: count(e.counts?.unlabeled_hits),
    precision: fmtPct(e.precision, 1),
    recall: fmtPct(e.recall, 1),
    fpr: fmtPct(e.fpr),
    fprUpper: fmtPct(e.fpr_upper95),
    worstDay: e.daily?.worst_day ? `${fmtPct(e.daily.worst_fpr)} on ${day(e.daily.worst_day)}` : 'n/a',
    hitRate: fmtPct(e.hit_rate, 2),
    incremental: fmtPct(e.incremental_recall, 1),
    gate: verdict ? (verdict.pass ? 'passes' : 'fails') : 'n/a',
    gateReasons: verdict && !verdict.pass ? cell(verdict.reasons.join('; ')) : '',
    segments: Object.entries(e.segments ?? {})
      .filter(([, s]) => (s.hits ?? 0) > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, s]) => ({ name: cell(name), hits: count(s.hits), fpr: fmtPct(s.fpr), fprUpper: fmtPct(s.fpr_upper95) })),
    overlap: (e.overlap ?? []).map((o) => ({ id: o.id, title: titles.get(o.id) ?? '', jaccard: o.jaccard.toFixed(2) })),
  };
}

function provenanceView(rule: Rule): { name: string; value: string }[] {
  const p = rule.provenance;
  if (!p) return [{ name: 'generator', value: 'not recorded' }];
  const out = [{ name: 'generator', value: p.generator }];
  if (p.prompt) out.push({ name: 'prompt', value: p.prompt });
  if (p.input) out.push({ name: 'input', value: p.input });
  if (p.created) out.push({ name: 'created', value: iso(p.created) });
  if (p.usage)
    out.push({
      name: 'usage',
      value: `${p.usage.input_tokens ?? 0} input tokens, ${p.usage.output_tokens ?? 0} output tokens, $${(p.usage.cost_usd ?? 0).toFixed(4)}`,
    });
  return out;
}

/** The view of docs/rules/<id>.md. */
export function ruleView(d: DocRule, input: DocsInput) {
  const rule = d.rule;
  const titles = new Map(input.rules.map((x) => [x.rule.id, x.rule.title]));
  const trail = reviewTrail(rule);
  const last = trail[trail.length - 1];
  return {
    id: rule.id,
    title: rule.title,
    status: rule.status,
    action: rule.action,
    actionText: ACTION_TEXT[rule.action] ?? '',
    level: rule.level,
    tagsText: rule.tags.length ? rule.tags.map(cell).join(', ') : 'none',
    condition: rule.condition,
    english: english(rule.ast, input.catalog),
    description: rule.description.trim(),
    rationale: rule.rationale.trim(),
    falsepositives: rule.falsepositives.map((f) => f.trim()),
    measuredFp: measuredFpView(rule),
    deprecated:
      rule.status === 'deprecated' && last?.decision === 'deprecated'
        ? { at: iso(last.at), reviewer: last.reviewer, reason: last.note ?? 'no reason recorded' }
        : null,
    gate: gateView(input.config),
    evidence: evidenceView(d, input, titles),
    findings: findingsView(input.run, d.result, validationOf(input.run, d.result, input.config, derivedOf(d))),
    variations: variationsView(d),
    provenance: provenanceView(rule),
    related: rule.related.map((r) => ({ id: r.id, type: r.type, title: titles.get(r.id) ?? '' })),
    trail: trail.map((t) => ({
      at: iso(t.at),
      decision: t.decision,
      reviewer: cell(t.reviewer),
      note: cell(t.note ?? '') || '—',
      override: cell(t.override ?? '') || '—',
    })),
  };
}
