/**
 * The report's issue-12 sections, as view models: the deployed set, segments and populations
 * (protected ones marked, "too few humans to judge" never shown as a pass), recall across the
 * train/test split, duplicates, power, and the impact simulation. Formatting only: every
 * decision comes from backtest/gate.ts through review/findings.ts.
 */
import { judgeCell } from '../backtest/gate.js';
import type { RuleResult } from '../backtest/engine.js';
import { fmtPct } from '../format.js';
import type { BacktestRun } from '../backtest/run.js';
import { resolveGate, type Config } from '../config/schema.js';
import type { ImpactReport, ImpactRow } from '../impact/impact.js';
import { findingsOf, incrementalOf, incrementalText, powerNote, validate, type Validation } from '../review/findings.js';
import { countTick, pctTick, xyChart, type Chart } from './charts.js';

/** The full verdict of a rule in the docs' backtest (null without one). */
export function validationOf(run: BacktestRun | null, r: RuleResult | undefined, config: Config, derivedFrom?: string): Validation | null {
  if (!run || !r) return null;
  return validate(r, config.gate, findingsOf(run, r.id, { derivedFrom }));
}

/** Per-rule lines for the report: the findings that fail it, and the notes that do not. */
export function findingsView(run: BacktestRun | null, r: RuleResult | undefined, v: Validation | null) {
  const inc = r ? incrementalOf(r) : null;
  return {
    duplicate: v?.findings.duplicate ?? [],
    stability: v?.findings.stability ?? [],
    segment: v?.findings.segment ?? [],
    set: v?.findings.set ?? [],
    notes: v?.notes ?? [],
    incremental: inc ? incrementalText(inc) : '',
    power: powerNote(run) ?? '',
  };
}

/**
 * Recall per day across the split: train days, then test days, with the split marked and the
 * floor (min_recall_ratio x train recall) as a reference line. Null without a train series.
 */
export function stabilityChart(label: string, id: string, r: RuleResult | undefined, config: Config): Chart | null {
  const series = r?.daily?.series ?? [];
  if (!series.some((p) => p.window === 'train') || !series.some((p) => p.window === 'test')) return null;
  const train = r?.train?.recall ?? null;
  const ratio = resolveGate(config.gate).min_recall_ratio;
  const split = series.findIndex((p) => p.window === 'test');
  return xyChart({
    id: `stability-${id}`,
    title: `${label}: share of bots caught per day, train and test`,
    xLabel: 'day (UTC); the test window starts at the dashed line',
    yLabel: 'bots caught per day',
    y2Label: 'recall',
    categories: series.map((p) => `${p.day.slice(5)}${p.window === 'test' ? '' : ' (train)'}`),
    tableHeader: 'day',
    splitIndex: split,
    series: [
      { name: 'bots caught', values: series.map((p) => p.tp), kind: 'bar', axis: 'left', cls: 'bar-hits', format: countTick },
      { name: 'recall', values: series.map((p) => p.recall), kind: 'line', axis: 'right', cls: 'line-recall', format: pctTick },
    ],
    refLines: train !== null && train > 0 ? [{ axis: 'right', value: ratio * train, label: `floor ${pctTick(ratio * train)} (${ratio} x train recall)` }] : [],
  });
}

/** The deployed set of approved block/challenge rules: its union FPR and the rules that add most false positives. */
export function setView(run: BacktestRun | null, labels: ReadonlyMap<string, string>) {
  if (!run?.set || !run.set_gate) return null;
  const d = run.set.deployed;
  return {
    rules: String(d.ids.length),
    humans: (d.counts.fp + d.counts.tn).toLocaleString('en-US'),
    fp: d.counts.fp.toLocaleString('en-US'),
    fpr: fmtPct(d.fpr),
    fprUpper: fmtPct(d.fpr_upper95),
    recall: fmtPct(d.recall, 1),
    gate: run.set_gate.pass ? 'pass' : 'fail',
    reasons: run.set_gate.reasons,
    top:
      d.counts.fp > 0
        ? run.set_gate.top.map((t) => ({ label: labels.get(t.id) ?? t.id.slice(0, 8), id: t.id, share: t.fp_share.toFixed(1), only: String(t.incremental_fp) }))
        : [],
  };
}

/**
 * One row per rule and population, and per rule and segment value where the rule hits humans
 * or the segment is protected: humans, false positives, FPR with its 95% bounds, the judgement.
 */
export function segmentsView(run: BacktestRun | null, rules: readonly { id: string; label: string; result: RuleResult }[], config: Config) {
  if (!run) return null;
  const specs = new Map((run.population_specs ?? []).map((p) => [p.name, p]));
  const protectedColumns = new Set(config.segments.flatMap((s) => ('column' in s && s.protected ? [s.column] : [])));
  const rows: {
    key: string;
    kind: string;
    protected: boolean;
    rule: string;
    humans: string;
    fp: string;
    fpr: string;
    lower: string;
    upper: string;
    judgement: string;
    cls: string;
  }[] = [];
  const push = (key: string, kind: 'segment' | 'population', prot: boolean, label: string, humans: number, fp: number) => {
    const j = judgeCell(key, kind, prot, humans, fp, config.gate);
    const judgement =
      j.outcome === 'fail'
        ? prot
          ? 'fails the gate'
          : 'over the limit (not protected)'
        : j.outcome === 'undetermined'
          ? 'too few humans to judge'
          : 'within the limit';
    const cls = j.outcome === 'fail' ? (prot ? 'fail' : 'warn') : j.outcome === 'undetermined' ? 'undetermined' : 'pass';
    rows.push({
      key,
      kind,
      protected: prot,
      rule: label,
      humans: humans.toLocaleString('en-US'),
      fp: String(fp),
      fpr: fmtPct(humans ? fp / humans : null),
      lower: fmtPct(j.fpr_lower95),
      upper: fmtPct(j.fpr_upper95),
      judgement,
      cls,
    });
  };
  for (const name of Object.keys(run.populations ?? {})) {
    for (const r of rules) {
      const s = r.result.populations?.[name];
      if (s) push(name, 'population', specs.get(name)?.protected ?? false, r.label, s.humans, s.fp);
    }
  }
  for (const r of rules) {
    for (const [key, s] of Object.entries(r.result.segments ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const prot = protectedColumns.has(key.slice(0, key.indexOf('=')));
      if (s.fp > 0 || prot) push(key, 'segment', prot, r.label, s.humans, s.fp);
    }
  }
  return {
    populations: (run.population_specs ?? []).map((p) => ({
      name: p.name,
      where: p.where,
      protected: p.protected,
      humans: (run.populations?.[p.name]?.humans ?? 0).toLocaleString('en-US'),
    })),
    limit: fmtPct(resolveGate(config.gate).segment_max_fpr),
    rows,
  };
}

function impactRowView(r: ImpactRow & { protected?: boolean }) {
  const affected = (c: ImpactRow['with']) =>
    `${c.humans_affected.toLocaleString('en-US')} (${fmtPct(c.humans_affected_rate)}; ` +
    `95% ${fmtPct(c.humans_affected_lower95)}–${fmtPct(c.humans_affected_upper95)})`;
  const signed = (x: number) => (x > 0 ? `+${x.toLocaleString('en-US')}` : x.toLocaleString('en-US'));
  return {
    key: r.key,
    protected: r.protected ?? false,
    sessions: r.rows.toLocaleString('en-US'),
    humansBefore: affected(r.without),
    humansAfter: affected(r.with),
    diffHumans: signed(r.diff.humans_affected),
    botsWithout: r.without.bots_stopped.toLocaleString('en-US'),
    botsWith: r.with.bots_stopped.toLocaleString('en-US'),
    diffBots: signed(r.diff.bots_stopped),
    actions: `${r.with.blocked.toLocaleString('en-US')} / ${r.with.challenged.toLocaleString('en-US')} / ${r.with.logged.toLocaleString('en-US')}`,
  };
}

/** The impact simulation of shipping every candidate on top of the approved set. */
export function impactView(impact: ImpactReport | null | undefined) {
  if (!impact) return null;
  return {
    baseline: String(impact.baseline.length),
    added: impact.added.map((a) => `${a.title} (${a.action})`),
    total: impactRowView(impact.total),
    daily: impact.daily.map(impactRowView),
    groups: [...impact.populations, ...impact.segments].filter((g) => g.protected || g.diff.humans_affected !== 0).map(impactRowView),
    warnings: impact.warnings,
  };
}
