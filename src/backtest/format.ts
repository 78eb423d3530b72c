/** Terminal rendering of a backtest: one line per rule, n/a where a metric is undefined. */
import type { BacktestRun } from './run.js';

import { fmtPct } from '../format.js';

/** @deprecated import from src/format.ts (src/rank still imports it from here) */
export { fmtPct };

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

export function formatBacktest(run: BacktestRun, opts: { segments?: boolean } = {}): string {
  const out: string[] = [];
  out.push(
    `window ${run.window.name}: ${run.window.from} .. ${run.window.to}, ${run.rows.toLocaleString('en-US')} sessions ` +
      `(${run.bots.toLocaleString('en-US')} bots, ${run.humans.toLocaleString('en-US')} humans, ${run.unlabeled.toLocaleString('en-US')} ` +
      `unlabelled)`,
  );
  const rows = [['rule', 'title', 'tp', 'fp', 'precision', 'recall', 'fpr', 'fpr_up95', 'hit_rate', 'worst_day_fpr', 'incr_recall']];
  run.rules.forEach((r, i) => {
    const t = run.targets[i]!;
    rows.push([
      t.id.slice(0, 8),
      t.title.length > 40 ? t.title.slice(0, 39) + '…' : t.title,
      String(r.counts.tp),
      String(r.counts.fp),
      fmtPct(r.precision, 1),
      fmtPct(r.recall, 1),
      fmtPct(r.fpr),
      fmtPct(r.fpr_upper95),
      fmtPct(r.hit_rate, 2),
      r.daily ? `${fmtPct(r.daily.worst_fpr)} ${r.daily.worst_day ?? ''}`.trim() : '-',
      fmtPct(r.incremental_recall, 1),
    ]);
  });
  out.push(table(rows));
  const segs = opts.segments !== false && run.rules.some((r) => r.segments);
  if (segs) {
    out.push('', 'FPR by segment (upper 95% bound):');
    const keys = [...new Set(run.rules.flatMap((r) => Object.keys(r.segments ?? {})))].sort();
    const srows = [['rule', 'segment', 'humans', 'fp', 'fpr', 'fpr_up95']];
    run.rules.forEach((r, i) => {
      for (const k of keys) {
        const s = r.segments?.[k];
        if (s && s.hits > 0) srows.push([run.targets[i]!.id.slice(0, 8), k, String(s.humans), String(s.fp), fmtPct(s.fpr), fmtPct(s.fpr_upper95)]);
      }
    });
    if (srows.length > 1) out.push(table(srows));
  }
  const pops = Object.keys(run.populations ?? {});
  if (opts.segments !== false && pops.length) {
    const spec = new Map((run.population_specs ?? []).map((p) => [p.name, p]));
    out.push('', 'FPR by population (* protected; 95% bounds):');
    const prows = [['rule', 'population', 'humans', 'fp', 'fpr', 'fpr_lo95', 'fpr_up95']];
    run.rules.forEach((r, i) => {
      for (const k of pops) {
        const s = r.populations?.[k];
        if (s && s.hits > 0)
          prows.push([
            run.targets[i]!.id.slice(0, 8),
            `${k}${spec.get(k)?.protected ? ' *' : ''}`,
            String(s.humans),
            String(s.fp),
            fmtPct(s.fpr),
            fmtPct(s.fpr_lower95),
            fmtPct(s.fpr_upper95),
          ]);
      }
    });
    if (prows.length > 1) out.push(table(prows));
  }
  if (run.set && run.set_gate) {
    const d = run.set.deployed;
    out.push(
      '',
      `deployed set (approved block/challenge rules: ${d.ids.length}): ${d.counts.fp} of ${d.counts.fp + d.counts.tn} humans hit, ` +
        `FPR ${fmtPct(d.fpr)} (upper 95% ${fmtPct(d.fpr_upper95)}), recall ${fmtPct(d.recall, 1)}: ${run.set_gate.pass ? 'passes' : 'FAILS'} ` +
        `the set gate`,
    );
    for (const r of run.set_gate.reasons) out.push(`  ${r}`);
    if (run.set_gate.top.length && d.counts.fp > 0)
      out.push(
        `  most of its false ` +
          `positives: ${run.set_gate.top.map((t) => `${t.id.slice(0, 8)} ${t.fp_share.toFixed(1)} (${t.incremental_fp} only by it)`).join(', ')}`,
      );
  }
  if (run.findings) {
    const lines: string[] = [];
    run.targets.forEach((t) => {
      const f = run.findings![t.id];
      if (!f) return;
      for (const [kind, list] of [
        ['set', f.set],
        ['segment', f.segment],
        ['stability', f.stability],
        ['duplicate', f.duplicate],
        ['warning', f.warnings],
        ['undetermined', f.undetermined],
      ] as const) {
        for (const m of list) lines.push(`  ${t.id.slice(0, 8)} ${kind}: ${m}`);
      }
    });
    if (lines.length) out.push('', 'Findings (set, segment, stability and duplicate fail the gate):', ...lines);
  }
  if (run.variations) {
    out.push('', 'Threshold variations (* = current):');
    for (const [id, vs] of Object.entries(run.variations)) {
      const vrows = [['rule', 'threshold', 'recall', 'fpr', 'fpr_up95', 'precision']];
      for (const v of vs)
        vrows.push([
          `${id.slice(0, 8)}${v.current ? '*' : ''}`,
          `${v.feature} ${v.op} ${v.value}`,
          fmtPct(v.recall, 1),
          fmtPct(v.fpr),
          fmtPct(v.fpr_upper95),
          fmtPct(v.precision, 1),
        ]);
      out.push(table(vrows));
    }
  }
  for (const w of run.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}
