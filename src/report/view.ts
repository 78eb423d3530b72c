/**
 * View models: everything the docs templates show, already formatted as text. Keeping the
 * formatting here (not in template helpers) makes a template override a matter of layout only,
 * and keeps the output deterministic: no locale, no clock except the `now` passed in.
 */
import { z } from 'zod';
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { applyGate } from '../backtest/gate.js';
import { fmtPct } from '../format.js';
import type { RuleResult } from '../backtest/engine.js';
import type { BacktestRun, Variation } from '../backtest/run.js';
import { english } from '../rule/english.js';
import { readEvidence, type Evidence } from '../rule/evidence.js';
import { reviewTrail } from '../review/trail.js';
import type { Rule } from '../rule/file.js';
import { heatMap, pctTick, countTick, numberLabel, xyChart, type Chart } from './charts.js';
import type { ImpactReport } from '../impact/impact.js';
import { findingsView, impactView, segmentsView, setView, stabilityChart, validationOf } from './validation-view.js';

/** One rule file the docs know about, with its live test-window result when there is data. */
export interface DocRule {
  readonly rule: Rule;
  readonly file: string;
  readonly result?: RuleResult;
  readonly variations?: readonly Variation[];
}

/** Everything the docs are rendered from; the same input gives the same bytes. */
export interface DocsInput {
  readonly workspace: string;
  readonly config: Config;
  readonly catalog: Catalog;
  /** Every valid rule file of rules/ and candidates/, any status. */
  readonly rules: readonly DocRule[];
  /** The test-window backtest of approved and candidate rules; null without session data. */
  readonly run: BacktestRun | null;
  /** What shipping every candidate on top of the approved set changes (report only); absent without data. */
  readonly impact?: ImpactReport | null;
  readonly now: Date;
}

const num = z.number().nullable().optional();

const iso = (t: string | Date | null | undefined): string => (t === null || t === undefined ? '' : t instanceof Date ? t.toISOString() : String(t));
const day = (t: string | Date | null | undefined): string => iso(t).slice(0, 10);
const count = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x.toLocaleString('en-US'));
/** A Markdown table cell: one line, no column breaks. */
export const cell = (s: string): string =>
  s
    .replace(/\r?\n+/g, ' ')
    .replaceAll('|', '\\|')
    .trim();

const ACTION_TEXT: Record<string, string> = {
  log: 'matching sessions are only recorded; nobody is affected',
  challenge: 'matching sessions must pass a challenge (e.g. a CAPTCHA) to continue',
  block: 'matching sessions are refused',
};

export function recordedEvidence(rule: Rule): Evidence | null {
  return readEvidence(rule.backtest);
}

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

function gateView(config: Config) {
  return { maxFpr: fmtPct(config.gate.max_fpr), minPrecision: fmtPct(config.gate.min_precision, 1), minSupport: String(config.gate.min_support) };
}

/** Evidence for a rule: what its file records, else the live result (said so in the text). */
function evidenceView(d: DocRule, input: DocsInput, titles: ReadonlyMap<string, string>) {
  const recorded = recordedEvidence(d.rule);
  let e: Evidence | null = recorded;
  let source = recorded ? `recorded ${iso(recorded.as_of) || 'at an unknown time'}` : '';
  if (!e && d.result && input.run) {
    const r = d.result;
    e = {
      data: { rows: input.run.rows, from: input.run.window.from, to: input.run.window.to, window: input.run.window.name },
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

interface VariationRow {
  feature: string;
  op: string;
  value: number;
  recall?: number | null;
  fpr?: number | null;
  fpr_upper95?: number | null;
  precision?: number | null;
}

/** Group variations per threshold (feature and operator), sorted by value; the current value marked. */
function groupVariations(
  rows: readonly VariationRow[],
  rule: Rule,
  catalog: Catalog,
): { key: string; feature: string; op: string; current: number | undefined; rows: VariationRow[] }[] {
  const groups = new Map<string, VariationRow[]>();
  for (const v of rows) groups.set(`${v.feature} ${v.op}`, [...(groups.get(`${v.feature} ${v.op}`) ?? []), v]);
  const currents = currentThresholds(rule, catalog);
  return [...groups.entries()].map(([key, vs]) => {
    const uniq = [...new Map(vs.map((v) => [v.value, v])).values()].sort((a, b) => a.value - b.value);
    return { key, feature: vs[0]!.feature, op: vs[0]!.op, current: currents.get(key), rows: uniq };
  });
}

function currentThresholds(rule: Rule, _catalog: Catalog): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (e: Rule['ast']): void => {
    if (e.kind === 'comparison' && e.value.kind === 'number') out.set(`${e.feature} ${e.op}`, e.value.value);
    else if (e.kind === 'between') {
      if (e.low.kind === 'number') out.set(`${e.feature} >=`, e.low.value);
      if (e.high.kind === 'number') out.set(`${e.feature} <=`, e.high.value);
    } else if (e.kind === 'and' || e.kind === 'or') e.operands.forEach(walk);
    else if (e.kind === 'not') walk(e.operand);
  };
  walk(rule.ast);
  return out;
}

function variationsView(d: DocRule, catalog: Catalog) {
  const rows: readonly VariationRow[] = recordedEvidence(d.rule)?.variations ?? d.variations ?? [];
  return groupVariations(rows, d.rule, catalog).map((g) => ({
    feature: `${g.feature} ${g.op}`,
    current: g.current === undefined ? 'n/a' : `${g.feature} ${g.op} ${numberLabel(g.current)}`,
    rows: g.rows.map((v) => ({
      threshold: `${g.op} ${numberLabel(v.value)}`,
      current: v.value === g.current,
      recall: fmtPct(v.recall, 1),
      fpr: fmtPct(v.fpr),
      fprUpper: fmtPct(v.fpr_upper95),
      precision: fmtPct(v.precision, 1),
    })),
  }));
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

// ---- measured false-positive scenarios (issue 16): from `rulegen fp` and `propose --refine` in provenance ----

const ScenarioRecordSchema = z.looseObject({ description: z.string(), condition: z.string(), share: num, fp: num, tp: num });
const FpAnalysisSchema = z.looseObject({
  window: z
    .looseObject({ name: z.string().optional(), from: z.union([z.string(), z.date()]).optional(), to: z.union([z.string(), z.date()]).optional() })
    .optional(),
  false_positives: num,
  true_positives: num,
  scenarios: z.array(ScenarioRecordSchema).optional(),
  remaining: z.array(ScenarioRecordSchema).optional(),
  populations: z.array(z.looseObject({ name: z.string(), description: z.string(), automation: z.boolean().optional() })).optional(),
  change: z.string().optional(),
});
const RefineRecordSchema = z.looseObject({
  round: z.number(),
  generator: z.string().optional(),
  from: z.string(),
  to: z.string(),
  change: z.string(),
  evidence: z.looseObject({ scenarios: z.array(ScenarioRecordSchema).optional(), gate_reasons: z.array(z.string()).optional() }).optional(),
});
const MeasuredSchema = z.looseObject({
  fp_analysis: FpAnalysisSchema.optional(),
  derived_from: z.looseObject({ id: z.string().optional(), condition: z.string().optional() }).optional(),
  refine: z.array(RefineRecordSchema).optional(),
});

/** A scenario's share as "62%" (the description may already start with it). */
const shareText = (s: z.infer<typeof ScenarioRecordSchema>): string =>
  typeof s.share === 'number' ? `${Math.round(100 * s.share)}%` : (/^(\d+%)/.exec(s.description)?.[1] ?? 'n/a');
const scenarioText = (s: z.infer<typeof ScenarioRecordSchema>): string => s.description.replace(/^\d+% of false positives: /, '');

/**
 * The measured side of "who could be matched by mistake": the FP scenarios that `rulegen fp`
 * or a `propose --refine` round measured for this rule (or the rule it was derived from), with
 * their shares and conditions, and the populations a model named. Null when none was recorded.
 */
export function measuredFpView(rule: Rule) {
  const m = MeasuredSchema.safeParse(rule.provenance ?? {});
  if (!m.success) return null;
  const fa = m.data.fp_analysis;
  const refine = m.data.refine ?? [];
  const row = (s: z.infer<typeof ScenarioRecordSchema>, status: string) => ({
    share: shareText(s),
    description: cell(scenarioText(s)),
    condition: cell(s.condition),
    status,
  });
  if (fa && (fa.scenarios?.length || fa.remaining?.length)) {
    const w = fa.window;
    const of = m.data.derived_from?.id
      ? `rule ${m.data.derived_from.id}`
      : m.data.derived_from?.condition
        ? `the condition "${m.data.derived_from.condition}"`
        : 'this rule';
    return {
      source: `Measured by rulegen fp on the ${w?.name ?? 'train'} window${w?.from ? ` (${day(w.from)} to ${day(w.to)})` : ''} for ${of}: ${fa.false_positives ?? 'n/a'} false positives, ${fa.true_positives ?? 'n/a'} true positives.${fa.change ? ` This rule's change: ${fa.change}.` : ''}`,
      // offline derivations list the scenarios they exclude and those that remain; a model's, all of the source rule's
      scenarios: [
        ...(fa.scenarios ?? []).map((s) => row(s, fa.populations ? 'measured on the source rule' : m.data.derived_from ? 'excluded' : 'matched')),
        ...(fa.remaining ?? []).map((s) => row(s, 'still matched')),
      ],
      populations: (fa.populations ?? []).map((p) => ({ name: p.name, description: p.description, automation: Boolean(p.automation) })),
    };
  }
  const last = [...refine].reverse().find((r) => r.evidence?.scenarios?.length);
  if (last) {
    return {
      source: `Measured by rulegen fp on the train window for the version before refine round ${last.round} ("${last.from}"), which failed the gate${last.evidence?.gate_reasons?.length ? ` (${last.evidence.gate_reasons.join('; ')})` : ''}; round ${last.round}${last.generator ? ` (${last.generator})` : ''}: ${last.change}.`,
      scenarios: last.evidence!.scenarios!.map((s) => row(s, 'measured before the change')),
      populations: [],
    };
  }
  return null;
}

/**
 * The report's per-rule FP section: the measured scenarios (shares, conditions) and the
 * populations a model named when recorded, else the live test-window false positives by segment.
 */
function reportFpView(d: DocRule) {
  const measured = measuredFpView(d.rule);
  const r = d.result;
  const segments = Object.entries(r?.segments ?? {})
    .filter(([, s]) => s.fp > 0)
    .sort(([ka, a], [kb, b]) => b.fp - a.fp || (ka < kb ? -1 : 1))
    .slice(0, 5)
    .map(([k, s]) => ({ name: k, fp: count(s.fp), fpr: fmtPct(s.fpr) }));
  return {
    fp: r ? count(r.counts.fp) : 'n/a',
    measured,
    segments,
    authored: d.rule.falsepositives.map((f) => f.trim()),
    command: `rulegen fp ${d.rule.id}`,
  };
}

function titlesOf(input: DocsInput): Map<string, string> {
  return new Map(input.rules.map((d) => [d.rule.id, d.rule.title]));
}

/** The view of docs/rules/<id>.md. */
export function ruleView(d: DocRule, input: DocsInput) {
  const rule = d.rule;
  const titles = titlesOf(input);
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
    variations: variationsView(d, input.catalog),
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

/** The approved rule a candidate changes: duplicates of it are expected, not findings. */
function derivedOf(d: DocRule): string | undefined {
  return d.rule.status === 'candidate' ? d.rule.related.find((r) => r.type === 'derived')?.id : undefined;
}

const STATUS_ORDER: Record<string, number> = { approved: 0, candidate: 1, deprecated: 2, rejected: 3 };

/** Rules in documentation order: by status, then title, then id. */
export function docOrder(a: DocRule, b: DocRule): number {
  return (
    (STATUS_ORDER[a.rule.status] ?? 9) - (STATUS_ORDER[b.rule.status] ?? 9) ||
    a.rule.title.localeCompare(b.rule.title, 'en') ||
    (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0)
  );
}

/** Which rules get a page of their own under docs/rules/. */
export const documented = (d: DocRule): boolean => d.rule.status === 'approved' || d.rule.status === 'deprecated';

/** The view of docs/rules/README.md. */
export function readmeView(input: DocsInput) {
  const rules = input.rules.filter((d) => d.rule.status !== 'rejected').sort(docOrder);
  return {
    gate: gateView(input.config),
    rules: rules.map((d) => {
      const e = recordedEvidence(d.rule);
      const fprUpper = e?.fpr_upper95 !== undefined ? fmtPct(e.fpr_upper95) : d.result ? `${fmtPct(d.result.fpr_upper95)} (current data)` : 'n/a';
      return {
        title: cell(d.rule.title),
        link: documented(d) ? `${d.rule.id}.md` : null,
        status: d.rule.status,
        action: d.rule.action,
        fprUpper,
        lastBacktest: e?.as_of ? iso(e.as_of) : 'not recorded',
      };
    }),
    // what fails a rule beyond its own numbers (duplicates, recall collapsed, protected harm, the set), on current data
    findings: rules.flatMap((d) => {
      const v = validationOf(input.run, d.result, input.config, derivedOf(d));
      const f = v ? [...v.findings.duplicate, ...v.findings.stability, ...v.findings.segment, ...v.findings.set] : [];
      return f.length ? [{ title: cell(d.rule.title), status: d.rule.status, items: f.map(cell) }] : [];
    }),
    rejected: input.rules
      .filter((d) => d.rule.status === 'rejected')
      .sort(docOrder)
      .map((d) => {
        const last = reviewTrail(d.rule).at(-1);
        return {
          title: cell(d.rule.title),
          condition: cell(d.rule.condition),
          reviewer: cell(last?.reviewer ?? 'unknown'),
          reason: cell(last?.note ?? 'no reason recorded'),
        };
      }),
  };
}

/** The rules the report charts: approved and candidate rules with a live result. */
export function reportRules(input: DocsInput): DocRule[] {
  return input.rules.filter((d) => (d.rule.status === 'approved' || d.rule.status === 'candidate') && d.result).sort(docOrder);
}

function dailyChart(label: string, d: DocRule, config: Config): Chart | null {
  const series = d.result?.daily?.series;
  if (!series || series.length === 0) return null;
  return xyChart({
    id: `daily-${d.rule.id}`,
    title: `${label}: sessions matched and false-positive rate per day`,
    xLabel: 'day (UTC)',
    yLabel: 'sessions matched',
    y2Label: 'false-positive rate',
    categories: series.map((p) => p.day.slice(5)),
    tableHeader: 'day',
    series: [
      { name: 'sessions matched', values: series.map((p) => p.hits), kind: 'bar', axis: 'left', cls: 'bar-hits', format: countTick },
      { name: 'false-positive rate', values: series.map((p) => p.fpr), kind: 'line', axis: 'right', cls: 'line-fpr', format: pctTick },
    ],
    refLines: [{ axis: 'right', value: config.gate.max_fpr, label: `gate max FPR ${pctTick(config.gate.max_fpr)}` }],
  });
}

function variationCharts(label: string, d: DocRule, input: DocsInput): Chart[] {
  const groups = groupVariations(d.variations ?? recordedEvidence(d.rule)?.variations ?? [], d.rule, input.catalog);
  return groups.map((g, gi) => {
    const idx = g.rows.findIndex((v) => v.value === g.current);
    return xyChart({
      id: `tradeoff-${d.rule.id}-${gi}`,
      title: `${label}: threshold trade-off for ${g.feature} ${g.op}`,
      xLabel: `threshold: ${g.feature} ${g.op} …`,
      yLabel: 'FPR, upper 95% bound',
      y2Label: 'recall',
      categories: g.rows.map((v) => numberLabel(v.value)),
      xValues: g.rows.map((v) => v.value),
      tableHeader: 'threshold',
      markIndex: idx >= 0 ? idx : undefined,
      series: [
        { name: 'FPR upper 95%', values: g.rows.map((v) => v.fpr_upper95 ?? null), kind: 'line', axis: 'left', cls: 'line-fpr', format: pctTick },
        { name: 'recall', values: g.rows.map((v) => v.recall ?? null), kind: 'line', axis: 'right', cls: 'line-recall', format: pctTick },
      ],
      refLines: [{ axis: 'left', value: input.config.gate.max_fpr, label: `gate ${pctTick(input.config.gate.max_fpr)}` }],
    });
  });
}

/** The view of docs/report.html. */
export function reportView(input: DocsInput) {
  const rules = reportRules(input);
  const labels = rules.map((_, i) => `R${i + 1}`);
  const w = input.run?.window;
  let overlap: Chart | null = null;
  if (rules.length >= 2 && rules.some((d) => d.result?.overlap)) {
    const values = rules.map((a) => rules.map((b) => (a === b ? 1 : (a.result?.overlap?.find((o) => o.id === b.rule.id)?.jaccard ?? 0))));
    overlap = heatMap({
      id: 'overlap',
      title: 'Overlap between rules (Jaccard similarity of matched sessions)',
      labels,
      names: rules.map((d) => d.rule.title),
      values,
      axisLabel: 'rule',
    });
  }
  const labelOf = new Map(rules.map((d, i) => [d.rule.id, labels[i]!]));
  return {
    generated: input.now.toISOString(),
    workspace: input.workspace,
    gate: gateView(input.config),
    power: findingsView(input.run, undefined, null).power,
    set: setView(input.run, labelOf),
    segments: segmentsView(
      input.run,
      rules.map((d, i) => ({ id: d.rule.id, label: labels[i]!, result: d.result! })),
      input.config,
    ),
    impact: impactView(input.impact),
    window:
      w && input.run
        ? {
            from: w.from.slice(0, 10),
            to: w.to.slice(0, 10),
            rows: count(input.run.rows),
            bots: count(input.run.bots),
            humans: count(input.run.humans),
            unlabeled: count(input.run.unlabeled),
          }
        : null,
    overlap,
    rules: rules.map((d, i) => {
      const r = d.result!;
      // the full verdict (set, protected segments, stability, duplicates) when the run carries findings
      const verdict = validationOf(input.run, r, input.config, derivedOf(d)) ?? applyGate(r, input.config.gate);
      const label = labels[i]!;
      const charts = [dailyChart(label, d, input.config), stabilityChart(label, d.rule.id, r, input.config), ...variationCharts(label, d, input)].filter(
        (c): c is Chart => c !== null,
      );
      const override = d.rule.review?.override ?? null;
      const rollout = d.rule.rollout;
      return {
        id: d.rule.id,
        label,
        // staged rollout (rulegen promote): the stage caps the action; shadow is logged, never acted on
        stage: rollout ? { name: rollout.stage, since: iso(rollout.since) } : null,
        stageHistory: (rollout?.history ?? []).map((h) => ({ from: h.from, to: h.to, at: iso(h.at), reviewer: h.reviewer, override: h.override ?? null })),
        title: d.rule.title,
        status: d.rule.status,
        action: d.rule.action,
        condition: d.rule.condition,
        english: english(d.rule.ast, input.catalog),
        precision: fmtPct(r.precision, 1),
        recall: fmtPct(r.recall, 1),
        fpr: fmtPct(r.fpr),
        fprUpper: fmtPct(r.fpr_upper95),
        worstDay: r.daily?.worst_day ? `${fmtPct(r.daily.worst_fpr)} on ${r.daily.worst_day}` : 'n/a',
        gate: verdict.pass ? 'pass' : 'fail',
        gateClass: verdict.pass ? 'pass' : 'fail',
        reasons: verdict.reasons,
        notes: 'notes' in verdict ? verdict.notes : [],
        incremental: findingsView(input.run, r, null).incremental,
        override,
        charts,
        fp: reportFpView(d),
      };
    }),
  };
}
