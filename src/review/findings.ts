/**
 * The issue-12 validation as approve, review and check show it: one verdict per rule from the
 * per-rule gate plus the findings backtestTargets attached (the deployed set, protected
 * segments and populations, recall across the split, duplicates by behaviour), the rule's
 * incremental effect on the deployed set, and the one statement about statistical power.
 * The decisions themselves live in backtest/gate.ts; this module only puts them together.
 */
import { applyFullGate, applySetGate, powerMessage, type GateVerdict, type RuleFindings } from '../backtest/gate.js';
import type { RuleResult } from '../backtest/engine.js';
import type { BacktestRun } from '../backtest/run.js';
import { fmtPct } from '../format.js';
import type { Config } from '../config/schema.js';

const NONE: RuleFindings = { set: [], segment: [], stability: [], duplicate: [], warnings: [], undetermined: [] };

/** A rule's full verdict: `reasons` fail the gate; `notes` (unprotected harm, too few humans to judge) do not. */
export interface Validation extends GateVerdict {
  findings: RuleFindings;
  notes: string[];
}

/** What adding the rule to the deployed set changes: humans and bots only this rule would hit. */
export interface Incremental {
  fp: number;
  tp: number;
  fpr: number | null;
  recall: number | null;
  /** The deployed set with this rule: its FPR upper 95% bound. */
  set_fpr_upper95: number | null;
}

/**
 * The findings of one target of `run`, with duplicate findings about `derivedFrom` left out: a
 * candidate that changes an approved rule is expected to behave much like it.
 */
export function findingsOf(run: BacktestRun, id: string, opts: { derivedFrom?: string } = {}): RuleFindings {
  const f = run.findings?.[id] ?? NONE;
  if (!opts.derivedFrom) return f;
  return { ...f, duplicate: f.duplicate.filter((m) => !m.startsWith(`duplicate of ${opts.derivedFrom} `)) };
}

export function validate(r: RuleResult, gate: Config['gate'], findings: RuleFindings): Validation {
  const v = applyFullGate(r, gate, findings);
  return { pass: v.pass, reasons: v.reasons, findings, notes: v.warnings };
}

export function incrementalOf(r: RuleResult): Incremental | null {
  if (!r.set) return null;
  return {
    fp: r.set.incremental_fp,
    tp: r.set.incremental_tp,
    fpr: r.set.incremental_fpr,
    recall: r.set.incremental_recall,
    set_fpr_upper95: r.set.with.fpr_upper95,
  };
}

export function incrementalText(i: Incremental): string {
  return (
    `incremental FPR ${fmtPct(i.fpr)} (${i.fp} human${i.fp === 1 ? '' : 's'} only this rule would hit), incremental recall ${fmtPct(i.recall, 1)} ` +
    `(${i.tp} bot${i.tp === 1 ? '' : 's'} no deployed rule catches); deployed set with it: FPR upper 95% ${fmtPct(i.set_fpr_upper95)}`
  );
}

/** The one sentence about power, when the test window has too few labelled humans for the gate to be reachable. */
export function powerNote(run: BacktestRun | null): string | null {
  if (!run?.power || run.power.reachable || run.window.name !== 'test') return null;
  return powerMessage(run.power, run.power_max_fpr ?? 0);
}

/** The verdict on several candidates approved together: the deployed set plus all of them. */
export function judgedSetVerdict(run: BacktestRun, gate: Config['gate'], count: number): GateVerdict {
  if (!run.set || count < 2) return { pass: true, reasons: [] };
  const v = applySetGate(run.set.judged, gate);
  return v.pass
    ? v
    : {
        pass: false,
        reasons: v.reasons.map((r) =>
          r.replace(/^the deployed set \(\d+ rules?\)/, `the deployed set with these ${count} candidates (${run.set!.judged.ids.length} rules)`),
        ),
      };
}

/** The deployed set's own verdict and the rules that add most of its false positives, as lines. */
export function setLines(run: BacktestRun | null): string[] {
  if (!run?.set || !run.set_gate) return [];
  const d = run.set.deployed;
  const out = [
    `deployed set (${d.ids.length} approved block/challenge rule${d.ids.length === 1 ? '' : 's'}): ${d.counts.fp} ` +
      `of ${d.counts.fp + d.counts.tn} humans hit, FPR ${fmtPct(d.fpr)} (upper 95% ${fmtPct(d.fpr_upper95)}), ` +
      `recall ${fmtPct(d.recall, 1)}: ${run.set_gate.pass ? 'passes' : 'FAILS'} the set gate`,
  ];
  for (const r of run.set_gate.reasons) out.push(`  - ${r}`);
  if (run.set_gate.top.length && d.counts.fp > 0)
    out.push(
      `  most of its false positives come ` +
        `from: ${run.set_gate.top.map((t) => `${t.id.slice(0, 8)} (share ${t.fp_share.toFixed(1)}, ${t.incremental_fp} only by it)`).join(', ')}`,
    );
  return out;
}
