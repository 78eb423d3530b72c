/**
 * `rulegen check`: the CI gate. Lint every rule file; backtest approved rules (and candidates
 * on request) on the test window; apply the gate. Results as text, JUnit XML and Markdown.
 */
import type { OnProgress } from '../progress.js';
import { basename } from 'node:path';
import type { Store } from '../db/store.js';
import type { Engine } from '../engine/types.js';
import { formatProblem, type Problem } from '../errors.js';
import type { GateVerdict } from '../backtest/gate.js';
import type { Evaluator } from '../backtest/engine-types.js';
import { backtestTargets, type BacktestRun, type Target } from '../backtest/run.js';
import { targetsOf, workspaceRules } from '../rules/targets.js';
import { findingsOf, powerNote, setLines, validate, type Validation } from '../review/findings.js';
import { fmtPct } from '../format.js';
import type { RuleResult } from '../backtest/engine.js';
import type { Workspace } from '../workspace.js';

export interface CheckedRule {
  target: Target;
  result: RuleResult;
  /** The per-rule gate with every finding: set (candidates), protected segments, stability, duplicates. */
  verdict: Validation;
}

/** A rule file that failed to load: a failure of the check, listed with its reasons. */
export interface InvalidFile {
  file: string;
  id?: string;
  problems: Problem[];
}

export interface CheckResult {
  run: BacktestRun | null;
  rules: CheckedRule[];
  /** The deployed set (approved block/challenge rules) against set_max_fpr; null when nothing was backtested. */
  set: (GateVerdict & { lines: string[] }) | null;
  /** Said once: too few labelled humans in the test window for any rule to pass. */
  power: string | null;
  /** Rule files with errors; the valid ones are still backtested and gated. */
  invalid: InvalidFile[];
  /** What stopped the check itself (unreadable workspace, data errors): reported, then rethrown. */
  errors: Problem[];
  warnings: Problem[];
  passed: boolean;
  seconds: number;
}

export async function runCheck(
  ws: Workspace,
  store: Store,
  opts: { candidates: boolean; onStep?: (m: string) => void; onProgress?: OnProgress; engine?: Engine; evaluator?: Evaluator },
): Promise<CheckResult> {
  const t0 = performance.now();
  const { targets, loads, problems } = workspaceRules(ws, { statuses: opts.candidates ? ['approved', 'candidate'] : ['approved'] });
  // Every rule file is linted, gated or not: a broken candidate fails CI but does not hide the rest.
  const invalid = loads.filter((l) => !l.rule).map((l) => ({ file: l.file, id: l.id, problems: l.problems.filter((p) => p.severity === 'error') }));
  const warnings = problems.filter((p) => p.severity === 'warning');
  const seconds = () => (performance.now() - t0) / 1000;
  if (targets.length === 0)
    return { run: null, rules: [], set: null, power: null, invalid, errors: [], warnings, passed: invalid.length === 0, seconds: seconds() };
  // gated candidates are also compared with rejected rules (duplicates by behaviour)
  const ids = new Set(targets.map((t) => t.id));
  const context = opts.candidates ? targetsOf(loads, ['rejected']).filter((t) => !ids.has(t.id)) : [];
  const run = await backtestTargets(store, ws.config, ws.catalog, targets, {
    window: 'test',
    onStep: opts.onStep,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    context,
    configFile: ws.paths.config,
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.evaluator ? { evaluator: opts.evaluator } : {}),
  });
  const rules = targets.map((target, i) => ({ target, result: run.rules[i]!, verdict: validate(run.rules[i]!, ws.config.gate, findingsOf(run, target.id)) }));
  const set = run.set_gate ? { pass: run.set_gate.pass, reasons: run.set_gate.reasons, lines: setLines(run) } : null;
  const passed = invalid.length === 0 && rules.every((r) => r.verdict.pass) && (set?.pass ?? true);
  return { run, rules, set, power: powerNote(run), invalid, errors: [], warnings, passed, seconds: seconds() };
}

/** The result of a check that could not run: its problems are what the reports show. */
export function failedCheck(errors: readonly Problem[], seconds = 0): CheckResult {
  return { run: null, rules: [], set: null, power: null, invalid: [], errors: [...errors], warnings: [], passed: false, seconds };
}

const xml = (s: string) =>
  s
    .replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const plain = (ps: readonly Problem[]) => ps.map(formatProblem).join('\n');

/**
 * JUnit XML: a testcase per rule, per invalid rule file and per error that stopped the run.
 * A failing gate or an invalid file is a <failure> with every reason; a run error an <error>.
 */
export function junitXml(c: CheckResult): string {
  const failures = c.rules.filter((r) => !r.verdict.pass).length + c.invalid.length + (c.set && !c.set.pass ? 1 : 0);
  const cases = c.rules.map((r) => {
    const name = `${r.target.id} ${r.target.title}`;
    const props = [
      `fpr_upper95=${fmtPct(r.result.fpr_upper95)} precision=${fmtPct(r.result.precision, 1)} recall=${fmtPct(r.result.recall, 1)} ` +
        `tp=${r.result.counts.tp} fp=${r.result.counts.fp}`,
      ...r.verdict.notes.map((n) => `note: ${n}`),
    ].join('\n');
    const body = r.verdict.pass
      ? `<system-out>${xml(props)}</system-out>`
      : `<failure message="${xml(r.verdict.reasons.join('; '))}" type="gate">${xml(r.verdict.reasons.join('\n'))}\n${xml(props)}</failure>`;
    return `    <testcase classname="rulegen.${xml(r.target.status)}" name="${xml(name)}" file="${xml(r.target.file ?? '')}" time="0">${body}</testcase>`;
  });
  if (c.set) {
    // the union customers feel is a test of its own: each rule can pass while the set fails
    const out = xml([...c.set.lines, ...(c.power ? [`power: ${c.power}`] : [])].join('\n'));
    const body = c.set.pass ? `<system-out>${out}</system-out>` : `<failure message="${xml(c.set.reasons.join('; '))}" type="set">${out}</failure>`;
    cases.push(`    <testcase classname="rulegen.set" name="deployed set (approved block/challenge rules)" time="0">${body}</testcase>`);
  }
  for (const f of c.invalid) {
    const first = f.problems[0]?.message ?? 'invalid rule file';
    const n = f.problems.length;
    cases.push(
      `    <testcase classname="rulegen.invalid" name="${xml(`${f.id ?? basename(f.file)} (invalid rule file)`)}" file="${xml(f.file)}" ` +
        `time="0"><failure message="${xml(n > 1 ? `${first} (and ${n - 1} more)` : first)}" ` +
        `type="lint">${xml(plain(f.problems))}</failure></testcase>`,
    );
  }
  if (c.errors.length) {
    cases.push(
      `    <testcase classname="rulegen.check" name="rulegen check" time="0"><error message="${xml(c.errors[0]!.message)}" ` +
        `type="input">${xml(plain(c.errors))}</error></testcase>`,
    );
  }
  const tests = cases.length;
  const errors = c.errors.length ? 1 : 0;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="rulegen check" tests="${tests}" failures="${failures}" errors="${errors}" ` +
    `time="${c.seconds.toFixed(3)}">\n  <testsuite name="rulegen check" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" ` +
    `time="${c.seconds.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`
  );
}

const md = (s: string) => s.replaceAll('|', '\\|');
const mdLine = (p: Problem) => `- ${md(formatProblem({ ...p, excerpt: undefined }).replaceAll('\n', ' — '))}`;

/** Markdown for a CI job summary; `gate` is absent when the configuration could not be read. */
export function summaryMarkdown(c: CheckResult, gate?: Workspace['config']['gate']): string {
  const lines = [`## rulegen check: ${c.passed ? 'passed' : 'FAILED'}`, ''];
  if (c.errors.length) lines.push('The check could not run:', '', ...c.errors.map(mdLine), '');
  if (c.run && gate)
    lines.push(
      `Test window ${c.run.window.from.slice(0, 10)} .. ${c.run.window.to.slice(0, 10)}: ${c.run.rows.toLocaleString('en-US')} sessions. Gate: ` +
        `FPR upper 95% bound ≤ ${fmtPct(gate.max_fpr)}, precision ≥ ${fmtPct(gate.min_precision, 1)}, at least ${gate.min_support} bots caught; ` +
        `the deployed set, protected segments and populations, recall across the split and duplicates are judged too.`,
      '',
    );
  if (c.power) lines.push(`> **Too few humans to judge:** ${md(c.power)}.`, '');
  if (c.rules.length === 0) {
    if (!c.errors.length) lines.push('No rules to check.');
  } else {
    lines.push('| | rule | title | precision | recall | FPR | FPR upper 95% | bots caught | reasons |', '|---|---|---|---:|---:|---:|---:|---:|---|');
    for (const r of c.rules) {
      lines.push(
        `| ${r.verdict.pass ? '✅' : '❌'} | \`${r.target.id.slice(0, 8)}\` | ${md(r.target.title)} | ${fmtPct(r.result.precision, 1)} ` +
          `| ${fmtPct(r.result.recall, 1)} | ${fmtPct(r.result.fpr)} | ${fmtPct(r.result.fpr_upper95)} | ${r.result.counts.tp} ` +
          `| ${md(r.verdict.reasons.join('; '))} |`,
      );
    }
    const notes = c.rules.flatMap((r) => r.verdict.notes.map((n) => `- \`${r.target.id.slice(0, 8)}\`: ${md(n)}`));
    if (notes.length) lines.push('', 'Notes (not failures: harm on unprotected segments, protected populations with too few humans to judge):', '', ...notes);
  }
  if (c.set)
    lines.push(
      '',
      `### ${c.set.pass ? '✅' : '❌'} The deployed set`,
      '',
      ...c.set.lines.map((l) => (l.startsWith('  ') ? `- ${md(l.trim().replace(/^- /, ''))}` : md(l))),
    );
  if (c.invalid.length) {
    lines.push('', `### ❌ ${c.invalid.length} invalid rule file${c.invalid.length === 1 ? '' : 's'}`, '');
    for (const f of c.invalid) lines.push(`**${md(basename(f.file))}**`, '', ...f.problems.map(mdLine), '');
  }
  for (const w of c.run?.warnings ?? []) if (w !== c.power) lines.push('', `> warning: ${w}`);
  return lines.join('\n').replace(/\n+$/, '') + '\n';
}

export function checkText(c: CheckResult): string {
  const lines = c.invalid.map(
    (f) => `INVALID ${f.id ? f.id.slice(0, 8) : basename(f.file)} ${f.file}: ${f.problems.length} error${f.problems.length === 1 ? '' : 's'}`,
  );
  if (c.rules.length === 0) return [...lines, 'no rules to check'].join('\n') + '\n';
  if (c.power) lines.push(`too few humans to judge: ${c.power}`);
  for (const r of c.rules) {
    lines.push(
      `${r.verdict.pass ? 'PASS' : 'FAIL'} ${r.target.id.slice(0, 8)} ${r.target.title}: precision ${fmtPct(r.result.precision, 1)}, ` +
        `recall ${fmtPct(r.result.recall, 1)}, FPR ${fmtPct(r.result.fpr)} (upper 95% ${fmtPct(r.result.fpr_upper95)})`,
    );
    lines.push(...r.verdict.reasons.map((x) => `     - ${x}`), ...r.verdict.notes.map((x) => `     ~ ${x}`));
  }
  lines.push(...(c.set?.lines ?? []));
  const failed = c.rules.filter((r) => !r.verdict.pass).length;
  const setText = c.set ? `; the deployed set ${c.set.pass ? 'passes' : 'FAILS'}` : '';
  lines.push(
    `gate: ${c.rules.length - failed} of ${c.rules.length} rules ` +
      `pass${failed ? `, ${failed} fail` : ''}${setText}` +
      (c.invalid.length ? `; ${c.invalid.length} invalid rule file${c.invalid.length === 1 ? '' : 's'}` : ''),
  );
  return lines.join('\n') + '\n';
}
