/** `rulegen fp` as text: the FP scenarios, the measured modifications, then the profile. */
import { OUTSIDE_FEATURES } from './automation.js';
import type { Catalog } from '../catalog/schema.js';
import { featureLabel, formatNumber } from '../rule/english.js';
import type { FeatureContrast } from './profile.js';
import type { Effect, FpReport } from './fp.js';
import type { WrittenCandidate } from './write.js';
import type { FpModelResult } from './model.js';

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(d)}%`);
const q = (x: number | null) => (x === null ? '-' : formatNumber(x));

function contrastLine(c: FeatureContrast, catalog: Catalog): string {
  const f = catalog.get(c.feature);
  const name = `${c.feature}${f ? ` (${featureLabel(f)})` : ''}`;
  const auc = c.auc === null ? 'AUC n/a' : `AUC ${c.auc.toFixed(3)}${c.direction ? `, FPs ${c.direction}` : ''}`;
  const parts = [auc];
  if (c.quantiles)
    parts.push(
      `median ${q(c.quantiles.fp.p50)} vs ${q(c.quantiles.tp.p50)} (p5..p95 ${q(c.quantiles.fp.p5)}..${q(c.quantiles.fp.p95)} ` +
        `vs ${q(c.quantiles.tp.p5)}..${q(c.quantiles.tp.p95)})`,
    );
  if (c.categories?.length)
    parts.push(
      c.categories
        .slice(0, 3)
        .map((v) => `${v.value} ${pct(v.fp_share, 0)} vs ${pct(v.tp_share, 0)}`)
        .join(', '),
    );
  if (Math.abs(c.nulls.fp - c.nulls.tp) >= 0.01) parts.push(`null ${pct(c.nulls.fp, 0)} vs ${pct(c.nulls.tp, 0)}`);
  return `    ${name}: ${parts.join('; ')}`;
}

function effectText(e: Effect): string {
  return (
    `${e.window}: false positives ${e.before.fp} -> ${e.after.fp} (cut ${pct(e.fp_cut)}), true positives ${e.before.tp} -> ${e.after.tp} ` +
    `(kept ${pct(e.tp_kept)}), FPR ${pct(e.before.fpr, 3)} -> ${pct(e.after.fpr, 3)} (upper 95% ${pct(e.after.fpr_upper95, 3)})`
  );
}

export function formatFp(r: FpReport, catalog: Catalog, written: readonly WrittenCandidate[] = []): string {
  const out: string[] = [];
  out.push(`${r.rule ? `rule ${r.rule.id}: ${r.rule.title}` : `condition: ${r.condition}`}`);
  out.push(
    `${r.window.name} window (${r.window.from.slice(0, 10)} .. ${r.window.to.slice(0, 10)}): ${r.fp} false positives (labelled humans ` +
      `hit), ${r.tp} true positives`,
  );
  if (r.fp === 0) {
    out.push('', 'no false positives on this window: nothing to analyse.');
    return out.join('\n') + '\n';
  }
  out.push('', 'False-positive scenarios (measured; each share is of all false positives, none counted twice):');
  if (!r.scenarios.length) out.push('  none found: no condition covers enough false positives while keeping 95% of true positives');
  r.scenarios.forEach((s, i) => {
    out.push(`  ${i + 1}. ${s.description}`);
    out.push(`     condition: ${s.condition}  (${s.fp_all} false positives, ${s.tp} true positives)`);
    if (s.automation?.flagged) {
      out.push(
        `     looks like automation labelled human: ${Math.round(100 * s.automation.share)}% of these false positives (${s.automation.outside} ` +
          `of ${s.automation.sessions}) lie beyond the labelled humans' 1st/99th percentile on ${OUTSIDE_FEATURES} or more features`,
        `     if a reviewer agrees: rulegen relabel --where "${s.condition.replaceAll('"', '\\"')}" --as bot --reviewer NAME --reason "..."`,
      );
    }
    for (const c of s.features) out.push(contrastLine(c, catalog).replace(/^ {4}/, '     '));
  });
  if (r.modifications.length) {
    out.push('', 'Modifications (backtested):');
    r.modifications.forEach((m, i) => {
      const tag = i === r.best ? ' [best]' : m.keeps_tp ? '' : ' [loses more than 5% of true positives]';
      out.push(`  ${String.fromCharCode(65 + i)}. ${m.change}${tag}`);
      out.push(`     ${m.condition}`);
      out.push(`     ${effectText(m.window)}`);
      if (m.test && m.test.window !== m.window.window) out.push(`     ${effectText(m.test)}`);
    });
  }
  out.push('', 'How false positives differ from true positives (top features by AUC):');
  for (const c of r.profile.features.filter((x) => x.auc !== null).slice(0, 8)) out.push(contrastLine(c, catalog));
  const segs = r.profile.segments.filter((s) => s.fp > 0).slice(0, 6);
  if (segs.length)
    out.push('', 'By segment (share of false positives):', ...segs.map((s) => `    ${s.column}=${s.value}: ${s.fp} FP (${pct(s.fp_share)}), ${s.tp} TP`));
  if (r.profile.days.length) {
    const worst = [...r.profile.days].sort((a, b) => b.fp - a.fp || (a.day < b.day ? -1 : 1))[0]!;
    out.push(
      '',
      `By day: ${r.profile.days.length} days, false ` +
        `positives ${Math.min(...r.profile.days.map((d) => d.fp))}..${Math.max(...r.profile.days.map((d) => d.fp))} a day (most on ${worst.day})`,
    );
  }
  if (written.length) out.push('', `written ${written.length} derived candidate(s):`, ...written.map((w) => `    ${w.file}`));
  else if (r.modifications.some((m) => m.keeps_tp)) out.push('', 'not written: `rulegen fp --write` writes the modifications as derived candidates');
  return out.join('\n') + '\n';
}

/** The model's part of `fp --provider`: populations, modifications with their measured effect, what stayed invalid. */
export function formatFpModel(m: FpModelResult, written: readonly WrittenCandidate[] = []): string {
  const out: string[] = [];
  const c = m.call;
  out.push(
    '',
    `Model analysis (${m.generator ?? `${m.provider}:${m.model}`}; ${m.prompt}` +
      (c
        ? `; ${c.turns} turn(s), ${c.repair_rounds} repair(s), ${c.tokens.input_tokens}/${c.tokens.output_tokens} ` +
          `tokens${c.cost_usd === null ? '' : `, $${c.cost_usd.toFixed(4)}`}`
        : '') +
      '):',
  );
  if (m.populations.length) {
    out.push('  Populations named by the model:');
    m.populations.forEach((p, i) =>
      out.push(
        `  ${i + 1}. ${p.name}` +
          (p.automation ? ' [looks like mislabelled automation: a relabelling candidate, not people]' : '') +
          (p.scenarios.length ? ` (scenario ${p.scenarios.join(', ')})` : ''),
        `     ${p.description}`,
      ),
    );
  }
  if (m.modifications.length) {
    out.push('  Modifications proposed by the model (validated and backtested):');
    m.modifications.forEach((x, i) => {
      out.push(
        `  M${i + 1}. ${x.title}${x.keeps_tp ? '' : ' [loses more than 5% of true positives]'}`,
        `     ${x.condition}`,
        `     change: ${x.change}`,
        `     reasoning: ${x.reasoning}`,
        `     ${effectText(x.window)}`,
      );
      if (x.test.window !== x.window.window) out.push(`     ${effectText(x.test)}`);
    });
  } else out.push('  The model proposed no usable modification.');
  for (const x of m.invalid) out.push(`  invalid modification ${x.index}${x.condition ? ` ${JSON.stringify(x.condition)}` : ''}: ${x.problems.join('; ')}`);
  if (c?.problem) out.push(`  ${c.problem}`);
  if (written.length) out.push(`  written ${written.length} derived candidate(s) from the model's modifications:`, ...written.map((w) => `    ${w.file}`));
  return out.join('\n') + '\n';
}
