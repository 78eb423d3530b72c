/**
 * Presenting an eval result (terminal table, Markdown for a PR comment) and judging it against
 * a baseline: a metric regresses when it moves the wrong way by more than the suite's
 * tolerance. A baseline from another suite or suite version is refused with the reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { METRICS, type MetricName, type Metrics } from './metrics.js';
import type { EvalResult, EvalRow } from './run.js';
import { toleranceOf, type Suite } from './suite.js';

/** What a baseline file stores: the comparable part of a result (no timings of this machine). */
export interface Baseline {
  suite: string;
  version: number;
  rows: { case: string; provider: string; model: string | null; metrics: Partial<Metrics> }[];
}

export interface Regression {
  case: string;
  provider: string;
  model: string | null;
  metric: MetricName;
  baseline: number | null;
  current: number | null;
  tolerance: number;
}

export interface Comparison {
  regressions: Regression[];
  /** Rows in one side only (a new case, a provider not run): listed, not judged. */
  unmatched: string[];
}

const rowKey = (r: { case: string; provider: string; model: string | null }) => `${r.case} / ${r.provider}${r.model ? ` ${r.model}` : ''}`;

export function toBaseline(r: EvalResult): Baseline {
  return {
    suite: r.suite,
    version: r.version,
    rows: r.rows.map((x) => ({
      case: x.case,
      provider: x.provider,
      model: x.model,
      metrics: Object.fromEntries(
        Object.entries(x.metrics)
          .filter(([k]) => METRICS[k as MetricName].direction !== 'info')
          .map(([k, v]) => [k, v === null ? null : Number(v.toPrecision(6))]),
      ),
    })),
  };
}

export function writeBaseline(file: string, r: EvalResult): void {
  writeFileAtomic(file, JSON.stringify(toBaseline(r), null, 2) + '\n');
}

export function readBaseline(file: string, suite: Pick<Suite, 'suite' | 'version'>): Baseline {
  if (!existsSync(file))
    throw InputError.single({
      message: 'no such baseline file',
      where: { file },
      expected: 'a baseline written by `rulegen eval SUITE --baseline FILE --update-baseline`',
      found: 'nothing',
    });
  let b: Partial<Baseline>;
  try {
    b = JSON.parse(readFileSync(file, 'utf8')) as Partial<Baseline>;
  } catch (e) {
    throw InputError.single({ message: `baseline is not valid JSON: ${(e as Error).message}`, where: { file } });
  }
  if (!b || typeof b !== 'object' || typeof b.suite !== 'string' || typeof b.version !== 'number' || !Array.isArray(b.rows)) {
    throw InputError.single({
      message: 'not an eval baseline',
      where: { file },
      expected: '{suite, version, rows: [{case, provider, model, metrics}]}',
      found: b && typeof b === 'object' ? Object.keys(b).join(', ') : typeof b,
    });
  }
  if (b.suite !== suite.suite || b.version !== suite.version) {
    throw InputError.single({
      message:
        `baseline refused: it was made by suite "${b.suite}" version ${b.version}, this is suite "${suite.suite}" version ${suite.version}; its ` +
        `cases may differ, so its numbers do not compare`,
      where: { file },
      expected: `a baseline of suite "${suite.suite}" version ${suite.version}`,
      found: `suite "${b.suite}" version ${b.version}`,
    });
  }
  return b as Baseline;
}

/** Metric by metric, row by row: what moved the wrong way beyond its tolerance. */
export function compare(result: EvalResult, baseline: Baseline, suite: Pick<Suite, 'tolerance'>): Comparison {
  const regressions: Regression[] = [];
  const base = new Map(baseline.rows.map((r) => [rowKey(r), r]));
  const seen = new Set<string>();
  const unmatched: string[] = [];
  for (const row of result.rows) {
    const key = rowKey(row);
    const b = base.get(key);
    if (!b) {
      unmatched.push(`${key}: not in the baseline`);
      continue;
    }
    seen.add(key);
    for (const [name, def] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
      if (def.direction === 'info' || !(name in b.metrics)) continue;
      const was = b.metrics[name] ?? null;
      const now = row.error && !row.metrics[name] ? null : row.metrics[name];
      const tol = toleranceOf(suite, name);
      let worse: boolean;
      if (def.direction === 'higher') worse = (was ?? 0) - (now ?? 0) > tol + 1e-9;
      // a lower-is-better metric that has no value now (no passing set) is not judged
      else worse = was !== null && now !== null && now - was > tol + 1e-9;
      if (worse) regressions.push({ case: row.case, provider: row.provider, model: row.model, metric: name, baseline: was, current: now, tolerance: tol });
    }
  }
  for (const k of base.keys()) if (!seen.has(k) && !result.rows.some((r) => rowKey(r) === k)) unmatched.push(`${k}: in the baseline, not run`);
  return { regressions, unmatched };
}

// ---------------------------------------------------------------------------------- output

const pct = (x: number | null, d = 1) => (x === null ? '-' : `${(100 * x).toFixed(d)}%`);
const COLUMNS: { metric: MetricName; fmt: (x: number | null) => string }[] = [
  { metric: 'rules', fmt: (x) => (x === null ? '-' : String(x)) },
  { metric: 'valid_rate', fmt: (x) => pct(x, 0) },
  { metric: 'repair_rounds', fmt: (x) => (x === null ? '-' : String(x)) },
  { metric: 'passing', fmt: (x) => (x === null ? '-' : String(x)) },
  { metric: 'best_recall', fmt: (x) => pct(x) },
  { metric: 'set_recall', fmt: (x) => pct(x) },
  { metric: 'set_fpr', fmt: (x) => pct(x, 3) },
  { metric: 'set_fpr_upper95', fmt: (x) => pct(x, 3) },
  { metric: 'drift_survival', fmt: (x) => (x === null ? '-' : x.toFixed(2)) },
  { metric: 'duplicates', fmt: (x) => (x === null ? '-' : String(x)) },
  { metric: 'input_tokens', fmt: (x) => (x === null ? '-' : x.toLocaleString('en-US')) },
  { metric: 'output_tokens', fmt: (x) => (x === null ? '-' : x.toLocaleString('en-US')) },
  { metric: 'cost_usd', fmt: (x) => (x === null ? 'n/a' : `$${x.toFixed(4)}`) },
  { metric: 'latency_ms', fmt: (x) => (x === null ? '-' : `${(x / 1000).toFixed(1)} s`) },
];

function cells(rows: readonly EvalRow[]): { head: string[]; body: string[][] } {
  const head = ['case', 'provider', ...COLUMNS.map((c) => METRICS[c.metric].label)];
  const body = rows.map((r) => [
    r.case,
    `${r.provider}${r.model ? ` ${r.model.replace(/^(us|eu|apac|global)\.anthropic\./, '')}` : ''}${r.error ? ' (FAILED)' : ''}`,
    ...COLUMNS.map((c) => c.fmt(r.metrics[c.metric])),
  ]);
  return { head, body };
}

/** Per-population figures of a row: recall per bot population, FPR per human one. */
function populationLine(r: EvalRow): string {
  const bots = r.populations.filter((p) => p.truth === 'bot').map((p) => `${p.population} ${pct(p.rate, 0)}`);
  const humans = r.populations.filter((p) => p.truth === 'human' && (p.rate ?? 0) > 0).map((p) => `${p.population} ${pct(p.rate, 2)}`);
  return (
    `recall by ${r.judged_on === 'truth' ? 'ground-truth population' : 'label'}: ${bots.join(', ') || '-'}; FPR where not ` +
    `0: ${humans.join(', ') || 'none'}`
  );
}

export function textReport(r: EvalResult, cmp?: Comparison): string {
  const { head, body } = cells(r.rows);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cs: string[]) =>
    cs
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    `suite ${r.suite} v${r.version}: ${r.rows.length} run(s) over ${r.cases.length} case(s) in ${r.seconds.toFixed(1)} s`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
  ];
  for (const row of r.rows) {
    out.push(`${row.case} / ${row.provider}${row.model ? ` ${row.model}` : ''}: ${populationLine(row)}`);
    if (row.error) out.push(`  FAILED: ${row.error.split('\n').join('\n  ')}`);
  }
  for (const f of r.failed) out.push(`case ${f.case} FAILED: ${f.message.split('\n').join('\n  ')}`);
  if (cmp) out.push('', ...comparisonLines(cmp));
  return out.join('\n') + '\n';
}

function comparisonLines(cmp: Comparison): string[] {
  const out = cmp.regressions.length ? [`${cmp.regressions.length} regression(s) against the baseline:`] : ['no regression against the baseline'];
  for (const g of cmp.regressions)
    out.push(`  ${rowKey(g)}: ${g.metric} ${fmtValue(g.metric, g.baseline)} -> ${fmtValue(g.metric, g.current)} (tolerance ${g.tolerance})`);
  for (const u of cmp.unmatched) out.push(`  note: ${u}`);
  return out;
}

function fmtValue(m: MetricName, x: number | null): string {
  return COLUMNS.find((c) => c.metric === m)!.fmt(x);
}

/** The Markdown table for a PR comment, with the command that made it. */
export function markdownReport(r: EvalResult, command: string, cmp?: Comparison): string {
  const { head, body } = cells(r.rows);
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const out = [
    `### rulegen eval: suite \`${r.suite}\` v${r.version}`,
    '',
    `\`${command}\` — ${r.rows.length} run(s), ${r.cases.length} case(s), ${r.seconds.toFixed(1)} s. Set recall and FPR are judged on ground ` +
      `truth; best recall and the gate on labels (test window).`,
    '',
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...body.map((b) => `| ${b.map(esc).join(' | ')} |`),
    '',
  ];
  if (r.failed.length) out.push(...r.failed.map((f) => `- **case ${f.case} failed**: ${esc(f.message.split('\n')[0]!)}`), '');
  if (cmp) out.push(...comparisonLines(cmp).map((l) => (l.startsWith('  ') ? `- ${l.trim()}` : `**${l}**`)), '');
  return out.join('\n');
}
