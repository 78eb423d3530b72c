/**
 * `rulegen check`: the CI gate. Lint every rule file; backtest approved rules (and candidates
 * on request) on the test window; apply the gate. Results as text, JUnit XML and Markdown.
 */
import type { Store } from '../db/store.js';
import { InputError, type Problem } from '../errors.js';
import { applyGate, type GateVerdict } from '../backtest/gate.js';
import { backtestTargets, workspaceRules, type BacktestRun, type Target } from '../backtest/run.js';
import { fmtPct } from '../backtest/format.js';
import type { RuleResult } from '../backtest/engine.js';
import type { Workspace } from '../workspace.js';

export interface CheckedRule {
  target: Target;
  result: RuleResult;
  verdict: GateVerdict;
}

export interface CheckResult {
  run: BacktestRun | null;
  rules: CheckedRule[];
  warnings: Problem[];
  passed: boolean;
  seconds: number;
}

export async function runCheck(ws: Workspace, store: Store, opts: { candidates: boolean; onStep?: (m: string) => void }): Promise<CheckResult> {
  const t0 = performance.now();
  const { targets, problems } = workspaceRules(ws, { statuses: opts.candidates ? ['approved', 'candidate'] : ['approved'] });
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new InputError(`${errors.length} problem${errors.length > 1 ? 's' : ''} in rule files`, problems);
  const warnings = problems.filter((p) => p.severity === 'warning');
  if (targets.length === 0) return { run: null, rules: [], warnings, passed: true, seconds: (performance.now() - t0) / 1000 };
  const run = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', onStep: opts.onStep });
  const rules = targets.map((target, i) => ({ target, result: run.rules[i]!, verdict: applyGate(run.rules[i]!, ws.config.gate) }));
  return { run, rules, warnings, passed: rules.every((r) => r.verdict.pass), seconds: (performance.now() - t0) / 1000 };
}

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: a testcase per rule; a failing gate is a <failure> with every reason. */
export function junitXml(c: CheckResult): string {
  const failures = c.rules.filter((r) => !r.verdict.pass).length;
  const cases = c.rules.map((r) => {
    const name = `${r.target.id} ${r.target.title}`;
    const props = `fpr_upper95=${fmtPct(r.result.fpr_upper95)} precision=${fmtPct(r.result.precision, 1)} recall=${fmtPct(r.result.recall, 1)} tp=${r.result.counts.tp} fp=${r.result.counts.fp}`;
    const body = r.verdict.pass ? `<system-out>${xml(props)}</system-out>` : `<failure message="${xml(r.verdict.reasons.join('; '))}" type="gate">${xml(r.verdict.reasons.join('\n'))}\n${xml(props)}</failure>`;
    return `    <testcase classname="rulegen.${xml(r.target.status)}" name="${xml(name)}" file="${xml(r.target.file ?? '')}" time="0">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="rulegen check" tests="${c.rules.length}" failures="${failures}" time="${c.seconds.toFixed(3)}">\n  <testsuite name="rulegen check" tests="${c.rules.length}" failures="${failures}" errors="0" skipped="0" time="${c.seconds.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** Markdown for a CI job summary. */
export function summaryMarkdown(c: CheckResult, gate: Workspace['config']['gate']): string {
  const lines = [`## rulegen check: ${c.passed ? 'passed' : 'FAILED'}`, ''];
  if (c.run) lines.push(`Test window ${c.run.window.from.slice(0, 10)} .. ${c.run.window.to.slice(0, 10)}: ${c.run.rows.toLocaleString('en-US')} sessions. Gate: FPR upper 95% bound ≤ ${fmtPct(gate.max_fpr)}, precision ≥ ${fmtPct(gate.min_precision, 1)}, at least ${gate.min_support} bots caught.`, '');
  if (c.rules.length === 0) lines.push('No rules to check.');
  else {
    lines.push('| | rule | title | precision | recall | FPR | FPR upper 95% | bots caught | reasons |', '|---|---|---|---:|---:|---:|---:|---:|---|');
    for (const r of c.rules) {
      const md = (s: string) => s.replaceAll('|', '\\|');
      lines.push(`| ${r.verdict.pass ? '✅' : '❌'} | \`${r.target.id.slice(0, 8)}\` | ${md(r.target.title)} | ${fmtPct(r.result.precision, 1)} | ${fmtPct(r.result.recall, 1)} | ${fmtPct(r.result.fpr)} | ${fmtPct(r.result.fpr_upper95)} | ${r.result.counts.tp} | ${md(r.verdict.reasons.join('; '))} |`);
    }
  }
  for (const w of c.run?.warnings ?? []) lines.push('', `> warning: ${w}`);
  return lines.join('\n') + '\n';
}

export function checkText(c: CheckResult): string {
  if (c.rules.length === 0) return 'no rules to check\n';
  const lines = c.rules.map((r) => `${r.verdict.pass ? 'PASS' : 'FAIL'} ${r.target.id.slice(0, 8)} ${r.target.title}: precision ${fmtPct(r.result.precision, 1)}, recall ${fmtPct(r.result.recall, 1)}, FPR ${fmtPct(r.result.fpr)} (upper 95% ${fmtPct(r.result.fpr_upper95)})${r.verdict.pass ? '' : '\n' + r.verdict.reasons.map((x) => `     - ${x}`).join('\n')}`);
  const failed = c.rules.filter((r) => !r.verdict.pass).length;
  lines.push(`gate: ${c.rules.length - failed} of ${c.rules.length} rules pass${failed ? `, ${failed} fail` : ""}`);
  return lines.join('\n') + '\n';
}
