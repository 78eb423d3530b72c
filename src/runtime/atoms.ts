/**
 * A ruleset's atoms as closures over the typed slots (see evaluator.ts for the slot layout and
 * the NULL semantics). The plan (plan-build.ts) runs each closure on a representative value of
 * every cell when it is built, and keeps it for the rules its clause form does not fit; compiling
 * an atom is also the check that it fits its feature's declared type.
 */
import type { ExprJson, FeatureSpec } from '../release/schema.js';
import { B_FALSE, B_NULL, B_TRUE, type Atom, type Pred } from './plan.js';

/** Where each feature's value sits: its type's slot array and the index in it. */
export interface Slots {
  slot(feature: string): { type: FeatureSpec['type']; index: number };
}

type Lit = { kind: 'number'; value: number } | { kind: 'string'; value: string } | { kind: 'boolean'; value: boolean };

// One factory per (type, operator): every closure a factory makes shares its code, so each
// call site stays small and predictable for the JIT.
const NUM_CMP: Record<string, (s: number, k: number) => Pred> = {
  '<': (s, k) => (n) => n[s]! < k,
  '<=': (s, k) => (n) => n[s]! <= k,
  '>': (s, k) => (n) => n[s]! > k,
  '>=': (s, k) => (n) => n[s]! >= k,
  '=': (s, k) => (n) => n[s]! === k,
  // NaN (NULL) !== k is true in JS: the `x === x` guard keeps it false, as in SQL
  '!=': (s, k) => (n) => {
    const x = n[s]!;
    return x === x && x !== k;
  },
};

function numIn(s: number, values: readonly number[], negated: boolean): Pred {
  const vs = Float64Array.from(values);
  const m = vs.length;
  if (!negated) {
    return (n) => {
      const x = n[s]!;
      for (let i = 0; i < m; i++) if (vs[i] === x) return true;
      return false;
    };
  }
  return (n) => {
    const x = n[s]!;
    if (x !== x) return false;
    for (let i = 0; i < m; i++) if (vs[i] === x) return false;
    return true;
  };
}

function catIn(s: number, values: readonly string[], negated: boolean): Pred {
  if (values.length > 8) {
    const set = new Set(values);
    return negated ? (_n, _b, c) => c[s] != null && !set.has(c[s]!) : (_n, _b, c) => c[s] != null && set.has(c[s]!);
  }
  const vs = [...values];
  const m = vs.length;
  if (!negated) {
    return (_n, _b, c) => {
      const x = c[s];
      for (let i = 0; i < m; i++) if (vs[i] === x) return true;
      return false;
    };
  }
  return (_n, _b, c) => {
    const x = c[s];
    if (x === null || x === undefined) return false;
    for (let i = 0; i < m; i++) if (vs[i] === x) return false;
    return true;
  };
}

const boolIs =
  (s: number, v: number): Pred =>
  (_n, b) =>
    b[s] === v;
const catEq =
  (s: number, v: string): Pred =>
  (_n, _b, c) =>
    c[s] === v;
const catNe =
  (s: number, v: string): Pred =>
  (_n, _b, c) => {
    const x = c[s];
    return x !== null && x !== undefined && x !== v;
  };

/** Thrown while compiling one rule; loadRuleset turns it into a detail of a RulesetError. */
export class RuleProblem extends Error {}

function literal(l: Lit, kind: Lit['kind'], feature: string): Lit['value'] {
  if (l.kind !== kind) throw new RuleProblem(`feature ${feature} is a ${kind === 'string' ? 'category' : kind} but is compared with a ${l.kind} literal`);
  return l.value;
}

/** One atom as a closure: the plan's fallback for atoms without a typed group, and the check that it fits its feature. */
export function compileAtom(e: Atom, slots: Slots): Pred {
  const { type, index: s } = slots.slot(e.feature);
  const misfit = (what: string) => new RuleProblem(`\`${what}\` does not apply to the ${type} feature ${e.feature}`);
  if (e.kind === 'isNull') {
    const pick = {
      number: (): Pred => (e.negated ? (n) => n[s] === n[s] : (n) => n[s] !== n[s]),
      boolean: (): Pred => (e.negated ? (_n, b) => b[s] !== B_NULL : boolIs(s, B_NULL)),
      category: (): Pred => (e.negated ? (_n, _b, c) => c[s] !== null : (_n, _b, c) => c[s] === null),
    };
    return pick[type]();
  }
  switch (type) {
    case 'number':
      if (e.kind === 'comparison') return NUM_CMP[e.op]!(s, literal(e.value, 'number', e.feature) as number);
      if (e.kind === 'between') {
        const lo = literal(e.low, 'number', e.feature) as number;
        const hi = literal(e.high, 'number', e.feature) as number;
        return (n) => {
          const x = n[s]!;
          return x >= lo && x <= hi;
        };
      }
      if (e.kind === 'in')
        return numIn(
          s,
          e.values.map((v) => literal(v, 'number', e.feature) as number),
          e.negated,
        );
      throw misfit('a feature alone');
    case 'boolean':
      if (e.kind === 'feature') return boolIs(s, B_TRUE);
      if (e.kind === 'comparison' && (e.op === '=' || e.op === '!=')) {
        const v = literal(e.value, 'boolean', e.feature) as boolean;
        return boolIs(s, v === (e.op === '=') ? B_TRUE : B_FALSE);
      }
      throw misfit(e.kind === 'comparison' ? e.op : e.kind);
    case 'category':
      if (e.kind === 'comparison' && e.op === '=') return catEq(s, literal(e.value, 'string', e.feature) as string);
      if (e.kind === 'comparison' && e.op === '!=') return catNe(s, literal(e.value, 'string', e.feature) as string);
      if (e.kind === 'in')
        return catIn(
          s,
          e.values.map((v) => literal(v, 'string', e.feature) as string),
          e.negated,
        );
      throw misfit(e.kind === 'comparison' ? e.op : e.kind);
  }
}

/** The features a condition names, added to `out`. */
export function atomFeatures(e: ExprJson, out: Set<string>): Set<string> {
  const stack: ExprJson[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'and' || x.kind === 'or') stack.push(...x.operands);
    else if (x.kind === 'not') stack.push(x.operand);
    else out.add(x.feature);
  }
  return out;
}
