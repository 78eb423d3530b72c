/** The view of docs/report.html: the rules with a live result, their charts and the set-level sections. */
import type { Config } from '../config/schema.js';
import { applyGate } from '../backtest/gate.js';
import { fmtPct } from '../format.js';
import { english } from '../rule/english.js';
import { heatMap, pctTick, countTick, numberLabel, xyChart, type Chart } from './charts.js';
import { reportFpView } from './fp-view.js';
import { findingsView, impactView, segmentsView, setView, stabilityChart, validationOf } from './validation-view.js';
import { groupVariations } from './variations-view.js';
import { count, derivedOf, docOrder, gateView, iso, recordedEvidence, type DocRule, type DocsInput } from './view-common.js';

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

function variationCharts(label: string, d: DocRule, config: Config): Chart[] {
  const groups = groupVariations(d.variations ?? recordedEvidence(d.rule)?.variations ?? [], d.rule);
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
      refLines: [{ axis: 'left', value: config.gate.max_fpr, label: `gate ${pctTick(config.gate.max_fpr)}` }],
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
      const charts = [dailyChart(label, d, input.config), stabilityChart(label, d.rule.id, r, input.config), ...variationCharts(label, d, input.config)].filter(
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
