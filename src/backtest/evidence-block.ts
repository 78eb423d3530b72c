/** The evidence block (DESIGN.md's `backtest:`) of one rule's backtest result. */
import type { Evidence } from '../rule/evidence.js';
import type { RuleResult } from './engine.js';
import { powerMessage } from './gate.js';
import type { BacktestRun } from './run.js';

const round = (x: number | null | undefined, digits = 6): number | null => (x === null || x === undefined ? null : Number(x.toPrecision(digits)));

/** The `backtest:` block of DESIGN.md for one rule's result. */
export function evidenceBlock(run: BacktestRun, r: RuleResult): Evidence {
  const block: Evidence = {
    as_of: new Date().toISOString(),
    data: { rows: run.rows, from: run.window.from, to: run.window.to, window: run.window.name },
    ...(run.engine ? { engine: run.engine } : {}),
    counts: { ...r.counts },
    precision: round(r.precision),
    precision_lower95: round(r.precision_lower95),
    recall: round(r.recall),
    fpr: round(r.fpr),
    fpr_upper95: round(r.fpr_upper95),
    hit_rate: round(r.hit_rate),
  };
  if (r.train) block.train = { counts: { ...r.train.counts }, recall: round(r.train.recall), fpr: round(r.train.fpr) };
  if (r.daily) {
    // `days` and `worst_*` are the judged window's; the series runs across the split, marked per point
    const series = r.daily.series.map((p) => ({
      day: p.day,
      window: p.window,
      hits: p.hits,
      tp: p.tp,
      fp: p.fp,
      recall: round(p.recall, 4),
      fpr: round(p.fpr, 4),
    }));
    block.daily = {
      worst_fpr: round(r.daily.worst_fpr),
      worst_day: r.daily.worst_day,
      days: r.daily.days,
      ...(run.window.name === 'test' ? { split: run.window.cutoff } : {}),
      series,
    };
  }
  if (r.segments)
    block.segments = Object.fromEntries(
      Object.entries(r.segments).map(([k, s]) => [
        k,
        { fpr: round(s.fpr), fpr_upper95: round(s.fpr_upper95), fpr_lower95: round(s.fpr_lower95), humans: s.humans, hits: s.hits },
      ]),
    );
  if (r.populations) {
    const spec = new Map((run.population_specs ?? []).map((p) => [p.name, p]));
    block.populations = Object.fromEntries(
      Object.entries(r.populations).map(([k, s]) => [
        k,
        {
          protected: spec.get(k)?.protected ?? false,
          fpr: round(s.fpr),
          fpr_upper95: round(s.fpr_upper95),
          fpr_lower95: round(s.fpr_lower95),
          humans: s.humans,
          fp: s.fp,
          hits: s.hits,
        },
      ]),
    );
  }
  if (r.incremental_recall !== undefined) block.incremental_recall = round(r.incremental_recall);
  if (r.set && run.set) {
    block.set = {
      deployed_rules: run.set.deployed.ids.length,
      incremental_fp: r.set.incremental_fp,
      incremental_fpr: round(r.set.incremental_fpr),
      incremental_tp: r.set.incremental_tp,
      incremental_recall: round(r.set.incremental_recall),
      fp_share: round(r.set.fp_share, 4),
      with_rule: { fp: r.set.with.counts.fp, fpr: round(r.set.with.fpr), fpr_upper95: round(r.set.with.fpr_upper95), recall: round(r.set.with.recall) },
    };
  }
  const f = run.findings?.[r.id];
  if (f) {
    const gate: NonNullable<Evidence['gate']> = {};
    for (const k of ['set', 'segment', 'stability', 'duplicate', 'warnings', 'undetermined'] as const) if (f[k].length) gate[k] = f[k];
    if (run.power && !run.power.reachable) gate['power'] = powerMessage(run.power, run.power_max_fpr ?? 0);
    if (Object.keys(gate).length) block.gate = gate;
  }
  if (r.overlap)
    block.overlap = r.overlap
      .filter((o) => o.jaccard >= 0.05)
      .slice(0, 5)
      .map((o) => ({ id: o.id, jaccard: Number(o.jaccard.toPrecision(4)) }));
  const v = run.variations?.[r.id];
  if (v)
    block.variations = v.map((x) => ({
      feature: x.feature,
      op: x.op,
      value: x.value,
      recall: round(x.recall),
      fpr: round(x.fpr),
      fpr_upper95: round(x.fpr_upper95),
      precision: round(x.precision),
    }));
  return block;
}
