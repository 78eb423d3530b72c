/**
 * CHANGELOG.md of a release against the previous one: rules added, removed and changed
 * (condition or action), each with the evidence before and after; rollout stage moves; the
 * rules that did not change. A pure function of the two bundles, so it is reproducible.
 */
import type { Bundle, BundleRule, Evidence } from './schema.js';

const pct = (x: number | null, digits = 3): string => (x === null ? 'n/a' : `${(100 * x).toFixed(digits)}%`);
const md = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
const short = (sha: string): string => sha.slice(0, 12);

function evidenceRows(before: Evidence | null, after: Evidence | null, labels: [string, string]): string[] {
  const rows: [string, (e: Evidence) => string][] = [
    ['window', (e) => `${e.window.from.slice(0, 10)} .. ${e.window.to.slice(0, 10)} (${e.window.rows.toLocaleString('en-US')} sessions)`],
    ['precision', (e) => pct(e.precision, 1)],
    ['recall', (e) => pct(e.recall, 1)],
    ['FPR', (e) => pct(e.fpr)],
    ['FPR upper 95%', (e) => pct(e.fpr_upper95)],
    ['bots caught (tp)', (e) => String(e.counts.tp)],
    ['humans hit (fp)', (e) => String(e.counts.fp)],
    ['hit rate', (e) => pct(e.hit_rate, 2)],
  ];
  const cell = (e: Evidence | null, f: (e: Evidence) => string) => (e ? f(e) : '—');
  return [`| | ${labels[0]} | ${labels[1]} |`, '|---|---:|---:|', ...rows.map(([name, f]) => `| ${name} | ${cell(before, f)} | ${cell(after, f)} |`)];
}

function heading(r: BundleRule): string {
  return `### ${md(r.title)}\n\n\`${r.id}\``;
}

function stageText(r: BundleRule): string {
  return r.stage === 'block'
    ? `${r.action} (in full)`
    : r.stage === 'shadow'
      ? `${r.action}, in shadow (logged, not acted on)`
      : `${r.action}, capped at challenge`;
}

/** The Markdown changelog of `next` against `prev` (null: the first release). */
export function changelog(prev: Bundle | null, next: Bundle): string {
  const before = new Map((prev?.rules ?? []).map((r) => [r.id, r]));
  const after = new Map(next.rules.map((r) => [r.id, r]));
  const added = next.rules.filter((r) => !before.has(r.id));
  const removed = (prev?.rules ?? []).filter((r) => !after.has(r.id));
  const changed = next.rules.filter((r) => {
    const p = before.get(r.id);
    return p && (p.condition !== r.condition || p.action !== r.action);
  });
  const changedIds = new Set(changed.map((r) => r.id));
  const moved = next.rules.filter((r) => before.has(r.id) && !changedIds.has(r.id) && before.get(r.id)!.stage !== r.stage);
  const movedIds = new Set(moved.map((r) => r.id));
  const unchanged = next.rules.filter((r) => before.has(r.id) && !changedIds.has(r.id) && !movedIds.has(r.id));
  const pv = prev ? prev.version : 'none';
  const lines = [`# Ruleset ${next.version}`, ''];
  lines.push(`Built ${next.created} by ${next.generator}; sha256 \`${next.sha256}\`.`);
  lines.push(prev ? `Against the previous release ${prev.version} (sha256 \`${short(prev.sha256)}\`…).` : 'The first release: every rule is new.');
  const acting = next.rules.filter((r) => r.stage !== 'shadow');
  lines.push(
    `${next.rules.length} rule${next.rules.length === 1 ? '' : 's'}: ${acting.length} acting, ${next.rules.length - acting.length} in ` +
      `shadow. ${added.length} added, ${removed.length} removed, ${changed.length} changed, ${moved.length} moved stage, ${unchanged.length} ` +
      `unchanged.`,
    '',
  );

  // added and removed rules read alike: the rule, then its evidence on one side only
  const section = (title: string, rules: typeof added, side: 'before' | 'after') => {
    lines.push(`## ${title} (${rules.length})`, '');
    if (!rules.length) lines.push('None.', '');
    for (const r of rules) {
      const [before, after] = side === 'after' ? [null, r.evidence] : [r.evidence, null];
      lines.push(
        heading(r),
        '',
        `- condition: ${code(r.condition)}`,
        `- action: ${stageText(r)}`,
        '',
        ...evidenceRows(before, after, [`before (${pv})`, `after (${next.version})`]),
        '',
      );
    }
  };
  section('Added', added, 'after');
  section('Removed', removed, 'before');
  lines.push(`## Changed (${changed.length})`, '');
  if (!changed.length) lines.push('None.', '');
  for (const r of changed) {
    const p = before.get(r.id)!;
    lines.push(heading(r), '', `Version ${p.version} → ${r.version}.`, '');
    if (p.condition !== r.condition) lines.push(`- condition before: ${code(p.condition)}`, `- condition after: ${code(r.condition)}`);
    if (p.action !== r.action) lines.push(`- action: ${p.action} → ${r.action}`);
    if (p.stage !== r.stage) lines.push(`- stage: ${p.stage} → ${r.stage}`);
    lines.push('', ...evidenceRows(p.evidence, r.evidence, [`before (${pv})`, `after (${next.version})`]), '');
  }
  lines.push(`## Rollout (${moved.length})`, '');
  if (!moved.length) lines.push('No rule moved stage.', '');
  for (const r of moved) {
    const p = before.get(r.id)!;
    const last = r.history.at(-1);
    const who =
      last && last.to === r.stage ? ` by ${last.reviewer} on ${last.at.slice(0, 10)}${last.override ? ` (gate overridden: ${last.override})` : ''}` : '';
    lines.push(`- ${md(r.title)} (\`${r.id.slice(0, 8)}\`): ${p.stage} → ${r.stage}${who}`);
  }
  if (moved.length) lines.push('');
  lines.push(`## Unchanged (${unchanged.length})`, '');
  if (!unchanged.length) lines.push('None.');
  for (const r of unchanged)
    lines.push(
      `- ${md(r.title)} (\`${r.id.slice(0, 8)}\`): ${stageText(r)}; precision ${pct(r.evidence?.precision ?? null, 1)}, FPR upper ` +
        `95% ${pct(r.evidence?.fpr_upper95 ?? null)}`,
    );
  return lines.join('\n').replace(/\n+$/, '') + '\n';
}
