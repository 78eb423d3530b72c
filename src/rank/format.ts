/** Terminal rendering of a ranking: one line per feature for the top N, then notes and method. */
import { missingClassHint } from '../labels/hint.js';
import { fmtPct } from '../backtest/format.js';
import type { FeatureRank, Ranking } from './types.js';
import { describeLeak } from './leak.js';

const fixed = (x: number | null, d: number): string => (x === null ? 'n/a' : x.toFixed(d));

/** Four significant digits, no exponent for everyday magnitudes, no trailing zeros. */
export function fmtNum(x: number | null | undefined): string {
  if (x === null || x === undefined) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e9) return String(Number(x.toPrecision(4)));
  return x.toExponential(2);
}

function table(rows: string[][], left: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function topValue(r: FeatureRank): string {
  const c = r.categories?.[0];
  if (!c) return '-';
  const lift = c.lift === null ? 'bots only' : `x${fmtNum(c.lift)}`;
  return `${c.value.length > 18 ? c.value.slice(0, 17) + '…' : c.value} ${lift}`;
}

/** 1-based positions of features by imported importance, best first. */
function importedRanks(features: readonly FeatureRank[]): Map<string, number> {
  const withImp = features.filter((f) => f.imported).sort((a, b) => b.imported!.importance - a.imported!.importance);
  return new Map(withImp.map((f, i) => [f.feature, i + 1]));
}

/** Spearman correlation of two rankings given as positions (no ties in positions). */
export function spearman(pairs: readonly [number, number][]): number | null {
  const n = pairs.length;
  if (n < 3) return null;
  const rank = (xs: number[]) => {
    const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(n);
    order.forEach(([, i], k) => (r[i] = k + 1));
    return r;
  };
  const a = rank(pairs.map((p) => p[0]));
  const b = rank(pairs.map((p) => p[1]));
  const d2 = a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

export function formatRanking(ranking: Ranking, top: number): string {
  const out: string[] = [];
  const labelled = ranking.bots + ranking.humans;
  out.push(
    `train window ${ranking.window.from} .. ${ranking.window.to}: ${ranking.window.rows.toLocaleString('en-US')} ` +
      `sessions, ${labelled.toLocaleString('en-US')} labelled (${ranking.bots.toLocaleString('en-US')} ` +
      `bots, ${ranking.humans.toLocaleString('en-US')} humans, base rate ${fmtPct(ranking.base_rate, 1)})`,
  );
  const hint = missingClassHint(ranking.bots, ranking.humans);
  if (hint) out.push(`note: ${hint}`);
  const shown = ranking.features.slice(0, top);
  const hasImport = ranking.features.some((f) => f.imported);
  const impRank = importedRanks(ranking.features);
  const header = ['#', 'feature', 'type', 'score', 'AUC', 'dir', 'KS', 'IV', 'coverage', 'bot p50', 'human p50', 'top value by lift'];
  if (hasImport) header.push('imported', 'imp #');
  const rows = [header];
  shown.forEach((r, i) => {
    const row = [
      String(i + 1),
      `${r.feature}${r.sensitive ? ' *' : ''}${r.leak ? ' !' : ''}`,
      r.type,
      r.auc === null && r.ks === null && r.iv === null ? '-' : r.importance.toFixed(3),
      fixed(r.auc, 3),
      r.direction ?? '-',
      fixed(r.ks, 3),
      fixed(r.iv, 2),
      fmtPct(r.coverage, 1),
      r.quantiles ? fmtNum(r.quantiles.bot.p50) : '-',
      r.quantiles ? fmtNum(r.quantiles.human.p50) : '-',
      topValue(r),
    ];
    if (hasImport) {
      row.push(
        r.imported ? `${fmtNum(r.imported.importance)}${r.imported.std !== undefined ? ` ±${fmtNum(r.imported.std)}` : ''}` : '-',
        r.imported ? String(impRank.get(r.feature)) : '-',
      );
    }
    rows.push(row);
  });
  out.push('', table(rows, new Set([1, 2, 5, 11])));
  if (ranking.features.length > shown.length)
    out.push(`(${ranking.features.length - shown.length} more features: --top ${ranking.features.length} or --json shows all)`);
  if (shown.some((r) => r.sensitive)) out.push('* sensitive: ranked here, never shown to a model');
  const leaks = ranking.features.filter((r) => r.leak);
  if (leaks.length) {
    out.push('', `! possible label leak (separates almost perfectly; is it derived from what made the label?):`);
    for (const r of leaks) out.push(`  ${r.feature}: ${describeLeak(r.feature, r.leak!)}`);
  }
  const declared = (ranking.declared_leaks ?? []).filter((n) => !leaks.some((r) => r.feature === n));
  if (declared.length) {
    out.push('', `! derived from the label's source (leak: true in features.yaml; never proposed): ${declared.join(', ')}`);
  }
  if (hasImport) {
    const pairs = ranking.features.filter((f) => f.imported).map((f): [number, number] => [ranking.features.indexOf(f), -f.imported!.importance]);
    const rho = spearman(pairs);
    if (rho !== null) out.push(`rank agreement with the imported importance (Spearman, ${pairs.length} features): ${rho.toFixed(2)}`);
  }
  const notes = shown.flatMap((r) => r.notes.filter((n) => !n.startsWith('AUC and KS order the categories')).map((n) => `  ${r.feature}: ${n}`));
  if (notes.length) out.push('', 'notes:', ...notes);
  out.push(
    '',
    'score = mean of 2*(AUC-0.5), KS and min(IV,1). AUC (ties halved) and KS over non-null values; IV over 10 quantile bins + a null bin;',
    'p50 exact per label (quantile_cont). Categories: AUC/KS with values ordered by bot rate on the same rows (optimistic).',
  );
  return out.join('\n') + '\n';
}
