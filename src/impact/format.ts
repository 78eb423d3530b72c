/** Terminal rendering of an impact simulation: totals, then per day, per segment, per population. */
import { fmtPct } from '../format.js';
import type { ImpactReport, ImpactRow } from './impact.js';

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
const signedPct = (x: number | null) => (x === null ? 'n/a' : `${x > 0 ? '+' : ''}${(100 * x).toFixed(3)}%`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

const HEAD = [
  '',
  'sessions',
  'humans',
  'humans hit',
  '→ with',
  'diff',
  'rate with',
  'up95 with',
  'bots',
  'bots stopped',
  '→ with',
  'diff',
  'blocked',
  '→ with',
  'challenged',
  '→ with',
  'logged',
  '→ with',
];

function line(label: string, r: ImpactRow): string[] {
  return [
    label,
    String(r.rows),
    String(r.humans),
    String(r.without.humans_affected),
    String(r.with.humans_affected),
    signed(r.diff.humans_affected),
    fmtPct(r.with.humans_affected_rate),
    fmtPct(r.with.humans_affected_upper95),
    String(r.bots),
    String(r.without.bots_stopped),
    String(r.with.bots_stopped),
    signed(r.diff.bots_stopped),
    String(r.without.blocked),
    String(r.with.blocked),
    String(r.without.challenged),
    String(r.with.challenged),
    String(r.without.logged),
    String(r.with.logged),
  ];
}

export function formatImpact(r: ImpactReport): string {
  const out: string[] = [];
  out.push(`impact on the ${r.window.name} window: ${r.window.from} .. ${r.window.to}, ${r.window.rows.toLocaleString('en-US')} sessions`);
  out.push(
    `without: the approved set (${r.baseline.length} rule${r.baseline.length === 1 ? '' : 's'}); with: ` +
      `plus ${r.added.map((a) => `${a.id.slice(0, 8)} (${a.action})`).join(', ') || 'nothing'}`,
  );
  const t = r.total;
  out.push(
    `humans affected (blocked or challenged): ${t.without.humans_affected} -> ${t.with.humans_affected} (${signed(t.diff.humans_affected)}; ` +
      `rate ${fmtPct(t.without.humans_affected_rate)} -> ${fmtPct(t.with.humans_affected_rate)}, ${signedPct(t.diff.humans_affected_rate)}; upper ` +
      `95% ${fmtPct(t.with.humans_affected_upper95)})`,
    `bots stopped: ${t.without.bots_stopped} -> ${t.with.bots_stopped} ` +
      `(${signed(t.diff.bots_stopped)}; ${fmtPct(t.without.bots_stopped_rate, 1)} -> ${fmtPct(t.with.bots_stopped_rate, 1)})`,
    '',
  );
  out.push(table([HEAD, line('total', t), ...r.daily.map((d) => line(d.key, d))]));
  if (r.segments.length) out.push('', 'by segment (* protected):', table([HEAD, ...r.segments.map((s) => line(`${s.key}${s.protected ? ' *' : ''}`, s))]));
  if (r.populations.length)
    out.push('', 'by population (* protected):', table([HEAD, ...r.populations.map((p) => line(`${p.key}${p.protected ? ' *' : ''}`, p))]));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}
