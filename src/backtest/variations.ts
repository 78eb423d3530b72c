/**
 * Threshold variations: each numeric threshold of a rule moved along its feature's quantiles
 * (up to three steps tighter and three looser), so a reviewer sees the FPR/recall trade-off and
 * how to tune or roll back a rule.
 */
import type { Catalog } from '../catalog/schema.js';
import { and, between, comparison, not, num, or, type Expr } from '../rule/ast.js';
import { print } from '../rule/printer.js';

/** Quantile grid the thresholds move along. */
export const QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999] as const;

/** A numeric threshold inside a rule: `index` counts thresholds in depth-first order. */
export interface Threshold {
  index: number;
  feature: string;
  /** 'value' for a comparison; 'low'/'high' for the ends of a between. */
  slot: 'value' | 'low' | 'high';
  op: string;
  value: number;
}

export function thresholdsOf(ast: Expr, catalog: Catalog): Threshold[] {
  const out: Threshold[] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'comparison':
        if (catalog.get(e.feature)?.type === 'number' && e.value.kind === 'number' && ['<', '<=', '>', '>='].includes(e.op))
          out.push({ index: out.length, feature: e.feature, slot: 'value', op: e.op, value: e.value.value });
        return;
      case 'between':
        if (e.low.kind === 'number') out.push({ index: out.length, feature: e.feature, slot: 'low', op: '>=', value: e.low.value });
        if (e.high.kind === 'number') out.push({ index: out.length, feature: e.feature, slot: 'high', op: '<=', value: e.high.value });
        return;
      case 'and':
      case 'or':
        e.operands.forEach(walk);
        return;
      case 'not':
        walk(e.operand);
        return;
      default:
        return;
    }
  };
  walk(ast);
  return out;
}

/** The same rule with threshold number `index` set to `value`. */
export function withThreshold(ast: Expr, catalog: Catalog, index: number, value: number): Expr {
  let k = 0;
  const map = (e: Expr): Expr => {
    switch (e.kind) {
      case 'comparison':
        if (catalog.get(e.feature)?.type === 'number' && e.value.kind === 'number' && ['<', '<=', '>', '>='].includes(e.op))
          return k++ === index ? comparison(e.feature, e.op, num(value)) : e;
        return e;
      case 'between': {
        let low = e.low;
        let high = e.high;
        if (e.low.kind === 'number' && k++ === index) low = num(value);
        if (e.high.kind === 'number' && k++ === index) high = num(value);
        return low === e.low && high === e.high ? e : between(e.feature, low, high);
      }
      case 'and':
        return and(...e.operands.map(map));
      case 'or':
        return or(...e.operands.map(map));
      case 'not':
        return not(map(e.operand));
      default:
        return e;
    }
  };
  return map(ast);
}

/** Up to three distinct quantile values below and three above `current`, plus `current`. */
export function candidateValues(current: number, quantiles: readonly number[]): number[] {
  const distinct = [...new Set(quantiles.filter((q) => Number.isFinite(q)).map((q) => Number(q.toPrecision(6))))].sort((a, b) => a - b);
  const below = distinct.filter((q) => q < current).slice(-3);
  const above = distinct.filter((q) => q > current).slice(0, 3);
  return [...below, current, ...above];
}

export interface Variant {
  threshold: Threshold;
  value: number;
  ast: Expr;
  condition: string;
}

/** Every variant of a rule; the unchanged rule is included once per threshold (value = current). */
export function variantsOf(ast: Expr, catalog: Catalog, quantilesByFeature: ReadonlyMap<string, readonly number[]>): Variant[] {
  const out: Variant[] = [];
  for (const t of thresholdsOf(ast, catalog)) {
    for (const v of candidateValues(t.value, quantilesByFeature.get(t.feature) ?? [])) {
      const varied = v === t.value ? ast : withThreshold(ast, catalog, t.index, v);
      out.push({ threshold: t, value: v, ast: varied, condition: print(varied) });
    }
  }
  return out;
}
