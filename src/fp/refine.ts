/**
 * The offline half of `propose --refine N` (issue 16, item 5): a failing rule in, measured
 * modifications out, best first, each with what changed and the evidence that triggered it, so
 * that propose can record a refine round in the candidate's provenance without knowing how the
 * modification was found. Only modifications that keep at least 95% of the rule's true
 * positives on the analysis window are returned.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../db/store.js';
import type { Expr } from '../rule/ast.js';
import type { WindowName } from '../db/window.js';
import type { RuleResult } from '../backtest/engine.js';
import { analyseFalsePositives, type Effect, type FpReport } from './fp.js';

/** One refinement of a rule: the new condition and why (the scenarios it removes, measured). */
export interface Refinement {
  ast: Expr;
  condition: string;
  /** "and not (keyboard_nav_ratio >= 0.14)", "tightened to ...", "excluding all 2 scenarios". */
  change: string;
  /** The FP scenarios it removes, as "84% of false positives: ..." with their conditions. */
  evidence: { description: string; condition: string; fp: number; tp: number }[];
  /** Before/after on the analysis window (train by default) and on the test window. */
  window: Effect;
  test?: Effect;
}

/** Measured modifications of `ast`, most false positives removed first; empty when it has none on the window. */
export async function refineRule(store: Store, config: Config, catalog: Catalog, ast: Expr, opts: { window?: WindowName } = {}): Promise<Refinement[]> {
  return (await refineAnalysis(store, config, catalog, ast, opts)).refinements;
}

/** refineRule and the analysis it came from: every FP scenario found (for the evidence of a refine round). */
export async function refineAnalysis(
  store: Store,
  config: Config,
  catalog: Catalog,
  ast: Expr,
  opts: { window?: WindowName } = {},
): Promise<{ report: FpReport; refinements: Refinement[] }> {
  const r = await analyseFalsePositives(store, config, catalog, ast, { window: opts.window ?? 'train' });
  const refinements = r.modifications
    .filter((m) => m.keeps_tp)
    .sort((a, b) => (b.window.fp_cut ?? 0) - (a.window.fp_cut ?? 0) || (b.window.tp_kept ?? 0) - (a.window.tp_kept ?? 0))
    .map((m) => ({
      ast: m.ast,
      condition: m.condition,
      change: m.change,
      evidence: m.scenarios.map((i) => r.scenarios[i]!).map((s) => ({ description: s.description, condition: s.condition, fp: s.fp_all, tp: s.tp })),
      window: m.window,
      ...(m.test ? { test: m.test } : {}),
    }));
  return { report: r, refinements };
}

// ---- one round of `propose --refine`, as recorded in a candidate's provenance ----

/** What sent a candidate back: its gate verdict and test-window evidence, and who its false positives are. */
export interface RefineEvidence {
  gate_reasons: string[];
  fp: number;
  tp: number;
  fpr: number | null;
  fpr_upper95: number | null;
  precision: number | null;
  recall: number | null;
  /** Test-window days only. */
  recall_by_day: { day: string; recall: number | null }[];
  /** The FP scenarios of `rulegen fp` on the train window (shares of the rule's false positives there). */
  scenarios: { description: string; condition: string; share: number | null; fp: number; tp: number }[];
}

/** One refine round of a candidate. */
export interface RefineRound {
  round: number;
  generator: string;
  from: string;
  to: string;
  /** What changed, in words. */
  change: string;
  /** The evidence that triggered the round (the version `from`). */
  evidence: RefineEvidence;
  /** The revised version `to` on the test window. */
  result: { gate: 'pass' | 'fail'; reasons: string[]; fpr: number | null; fpr_upper95: number | null; precision: number | null; recall: number | null };
}

const r6 = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : Number(x.toPrecision(6)));

export function refineEvidence(
  r: RuleResult,
  reasons: readonly string[],
  scenarios: readonly { description: string; condition: string; share?: number | null; fp: number; tp: number }[],
): RefineEvidence {
  return {
    gate_reasons: [...reasons],
    fp: r.counts.fp,
    tp: r.counts.tp,
    fpr: r6(r.fpr),
    fpr_upper95: r6(r.fpr_upper95),
    precision: r6(r.precision),
    recall: r6(r.recall),
    recall_by_day: (r.daily?.series ?? []).filter((p) => p.window !== 'train').map((p) => ({ day: p.day, recall: r6(p.recall) })),
    scenarios: scenarios.map((s) => ({ description: s.description, condition: s.condition, share: r6(s.share ?? null), fp: s.fp, tp: s.tp })),
  };
}

export function refineResult(r: RuleResult, verdict: { pass: boolean; reasons: string[] }): RefineRound['result'] {
  return {
    gate: verdict.pass ? 'pass' : 'fail',
    reasons: verdict.reasons,
    fpr: r6(r.fpr),
    fpr_upper95: r6(r.fpr_upper95),
    precision: r6(r.precision),
    recall: r6(r.recall),
  };
}
