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
import type { WindowName } from '../backtest/window.js';
import { analyseFalsePositives, type Effect } from './fp.js';

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
  const r = await analyseFalsePositives(store, config, catalog, ast, { window: opts.window ?? 'train' });
  return r.modifications
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
}
