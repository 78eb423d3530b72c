/**
 * `backtest --variations`: every target's thresholds moved along its features' quantiles
 * (variations.ts), each variant measured on the window in one more pass.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Store } from '../db/store.js';
import type { Expr } from '../rule/ast.js';
import type { OnProgress } from '../progress.js';
import type { BacktestResult } from './engine.js';
import type { Evaluator } from './engine-types.js';
import { evaluateRules } from './evaluate.js';
import { QUANTILES, thresholdsOf, variantsOf } from './variations.js';

export interface Variation {
  feature: string;
  op: string;
  value: number;
  current: boolean;
  condition: string;
  recall: number | null;
  fpr: number | null;
  fpr_upper95: number | null;
  precision: number | null;
}

/** Every target's threshold variations on `window`, by target id (empty when no target has a numeric threshold). */
export async function variations(
  store: Store,
  config: Config,
  catalog: Catalog,
  targets: readonly { id: string; ast: Expr }[],
  window: BacktestResult['window'],
  onProgress?: OnProgress,
  evaluator?: Evaluator,
): Promise<Record<string, Variation[]>> {
  const perRule = targets.map((t) => ({ t, features: new Set<string>() }));
  for (const p of perRule) for (const th of thresholdsOf(p.t.ast, catalog)) p.features.add(th.feature);
  const features = [...new Set(perRule.flatMap((p) => [...p.features]))];
  const out: Record<string, Variation[]> = {};
  if (features.length === 0) return out;
  // one scan for the quantiles of every feature involved (exact: the evidence must be reproducible)
  const qs = `[${QUANTILES.join(', ')}]`;
  const row = (await store.one<Record<string, number[] | null>>(
    `SELECT ${features.map((f, i) => `quantile_cont(${quoteIdent(f)}, ${qs}) AS q${i}`).join(', ')} FROM ${quoteIdent(config.data.table)} ` +
      `WHERE ${window.where}`,
    window.parameters,
  ))!;
  const quantiles = new Map(features.map((f, i) => [f, (row[`q${i}`] ?? []).map(Number)]));
  const variants = targets.map((t) => variantsOf(t.ast, catalog, quantiles));
  const flat = variants.flatMap((vs, ti) => vs.map((v, vi) => ({ id: `${ti}:${vi}`, ast: v.ast, predicate: compilePredicate(v.ast, catalog) })));
  // one more scan for every variant of every rule (core counts only)
  const r = await evaluateRules(store, config, catalog, window, flat, { ...(onProgress ? { onProgress } : {}), ...(evaluator ? { evaluator } : {}) });
  targets.forEach((t, ti) => {
    out[t.id] = variants[ti]!.map((v, vi) => {
      const res = r.rules.find((x) => x.id === `${ti}:${vi}`)!;
      return {
        feature: v.threshold.feature,
        op: v.threshold.op,
        value: v.value,
        current: v.value === v.threshold.value,
        condition: v.condition,
        recall: res.recall,
        fpr: res.fpr,
        fpr_upper95: res.fpr_upper95,
        precision: res.precision,
      };
    });
  });
  return out;
}
