/**
 * Building the evaluation plan (plan.ts explains its cells and rule bits): each atom compiled
 * once, each rule put in clause form, and every cell's row of the table filled by running the
 * atoms' own closures on a representative value of the cell.
 */
import type { ExprJson } from '../release/schema.js';
import { B_FALSE, B_NULL, B_TRUE, type Atom, type Cat, type FeatureType, type Plan, type Pred } from './plan.js';

/** A literal: an atom (its closure and the feature it reads), possibly negated. */
interface Lit {
  fn: Pred;
  /** The feature's index in the plan: numbers first, then booleans, then categories. */
  feature: number;
  neg: boolean;
}
type Nnf = { t: 'lit'; lit: Lit } | { t: 'and' | 'or'; ops: Nnf[] };

/** CNF larger than this (clauses, or literals in one clause) makes the rule a fallback closure. */
const MAX_CLAUSES = 64;
const MAX_CLAUSE_LITS = 64;
/** Category features with more string literals than this find their cell through a Map. */
const CAT_SCAN = 8;

/** Builds the plan; `slotOf` names the slot of a feature, `closure` compiles any atom. */
export class PlanBuilder {
  readonly #keys = new Map<string, { fn: Pred; atom: Atom; feature: number }>();
  readonly #rules: { clauses: Lit[][] | null; pred: Pred }[] = [];
  /** The atoms seen on each feature (index as in Lit.feature). */
  readonly #atoms: Atom[][];

  constructor(
    private readonly counts: { number: number; boolean: number; category: number },
    private readonly slotOf: (feature: string) => { type: FeatureType; index: number },
    private readonly closure: (a: Atom) => Pred,
  ) {
    this.#atoms = Array.from({ length: counts.number + counts.boolean + counts.category }, () => []);
  }

  #featureIndex(type: FeatureType, slot: number): number {
    return type === 'number' ? slot : type === 'boolean' ? this.counts.number + slot : this.counts.number + this.counts.boolean + slot;
  }

  /** The atom's closure and feature, compiled on first sight (identical atoms share them). */
  #atom(a: Atom): { fn: Pred; feature: number } {
    const key = JSON.stringify(a);
    const known = this.#keys.get(key);
    if (known) return known;
    const fn = this.closure(a); // also checks the atom fits its feature (throws otherwise)
    const { type, index } = this.slotOf(a.feature);
    const x = { fn, atom: a, feature: this.#featureIndex(type, index) };
    this.#keys.set(key, x);
    this.#atoms[x.feature]!.push(a);
    return x;
  }

  #nnf(e: ExprJson, neg: boolean, depth: number): Nnf {
    if (depth > 256) throw new Error('the condition nests deeper than 256');
    switch (e.kind) {
      case 'not':
        return this.#nnf(e.operand, !neg, depth + 1);
      case 'and':
      case 'or': {
        const t = (e.kind === 'and') !== neg ? 'and' : 'or';
        const ops = e.operands.map((o) => this.#nnf(o, neg, depth + 1)).flatMap((o) => (o.t === t ? (o as { ops: Nnf[] }).ops : [o]));
        return { t, ops };
      }
      default: {
        const { fn, feature } = this.#atom(e);
        return { t: 'lit', lit: { fn, feature, neg } };
      }
    }
  }

  /** Add a rule; rules are numbered in the order they are added. */
  rule(e: ExprJson): void {
    const n = this.#nnf(e, false, 0);
    this.#rules.push({ clauses: cnf(n), pred: predOf(n) });
  }

  build(): Plan {
    const R = this.#rules.length;
    const W = (R + 31) >>> 5;
    // clauses over several features: one bit each
    const orRule: number[] = [];
    for (const [r, x] of this.#rules.entries()) {
      if (x.clauses) for (const cl of x.clauses) if (!cl.every((l) => l.feature === cl[0]!.feature)) orRule.push(r);
    }
    // rule bits first, then one bit per such clause; a row is padded to 4 or 8 words, the
    // widths runPlan has unrolled loops for
    const bitsUsed = (R + orRule.length + 31) >>> 5;
    const V = bitsUsed <= 4 ? 4 : bitsUsed <= 8 ? 8 : bitsUsed;
    const nNum = this.counts.number;
    const nBool = this.counts.boolean;
    const nCat = this.counts.category;
    const F = nNum + nBool + nCat;

    // cells and a representative value of each
    const ptStart = new Int32Array(nNum + 1);
    const pts: number[] = [];
    const reps: (number | string | null)[][] = [];
    for (let f = 0; f < nNum; f++) {
      const p = [...new Set(this.#atoms[f]!.flatMap(numbersOf))].sort((a, b) => a - b);
      ptStart[f] = pts.length;
      pts.push(...p);
      const r: number[] = [];
      for (let i = 0; i <= p.length; i++) {
        // the open interval below p[i] (above p[i-1]), then p[i] itself
        r.push(i === 0 ? (p.length ? -Infinity : 0) : nextUp(p[i - 1]!));
        if (i < p.length) r.push(p[i]!);
      }
      r.push(NaN);
      reps.push(r);
    }
    ptStart[nNum] = pts.length;
    for (let f = 0; f < nBool; f++) reps.push([B_FALSE, B_TRUE, B_NULL]);
    const catLits: string[][] = [];
    for (let f = 0; f < nCat; f++) {
      const lits = [...new Set(this.#atoms[nNum + nBool + f]!.flatMap(stringsOf))];
      catLits.push(lits);
      let other = '\u0000other';
      while (lits.includes(other)) other += '\u0000';
      reps.push([...lits, other, null]);
    }
    const cellBase = new Int32Array(F);
    let cells = 0;
    for (let f = 0; f < F; f++) {
      cellBase[f] = cells * V;
      cells += reps[f]!.length;
    }
    const table = new Int32Array(cells * V);

    // the truth of a literal in every cell of its feature, through the atom's own closure
    const n = new Float64Array(nNum).fill(NaN);
    const b = new Uint8Array(nBool).fill(B_NULL);
    const c: Cat = new Array<string | null>(nCat).fill(null);
    const truth = (l: Lit): boolean[] =>
      reps[l.feature]!.map((v) => {
        const f = l.feature;
        if (f < nNum) n[f] = v as number;
        else if (f < nNum + nBool) b[f - nNum] = v as number;
        else c[f - nNum - nBool] = v as string | null;
        const t = l.fn(n, b, c) !== l.neg;
        if (f < nNum) n[f] = NaN;
        else if (f < nNum + nBool) b[f - nNum] = B_NULL;
        else c[f - nNum - nBool] = null;
        return t;
      });
    const set = (f: number, cell: number, bit: number) => (table[cellBase[f]! + cell * V + (bit >>> 5)]! |= 1 << (bit & 31));

    const cnfMask = new Int32Array(W);
    const fallbackRule: number[] = [];
    const fallbacks: Pred[] = [];
    let q = 0;
    for (const [r, x] of this.#rules.entries()) {
      if (!x.clauses) {
        fallbackRule.push(r);
        fallbacks.push(x.pred);
        continue;
      }
      cnfMask[r >>> 5]! |= 1 << (r & 31);
      for (const cl of x.clauses) {
        const f = cl[0]!.feature;
        if (cl.every((l) => l.feature === f)) {
          const ts = cl.map(truth);
          for (let cell = 0; cell < reps[f]!.length; cell++) if (!ts.some((t) => t[cell])) set(f, cell, r);
        } else {
          for (const l of cl) truth(l).forEach((t, cell) => t && set(l.feature, cell, R + q));
          q++;
        }
      }
    }
    const orValid = new Int32Array(V);
    for (let i = R; i < R + orRule.length; i++) orValid[i >>> 5]! |= 1 << (i & 31);
    return {
      rules: R,
      words: W,
      width: V,
      nNum,
      nBool,
      nCat,
      ptStart,
      pts: Float64Array.from(pts),
      cellBase,
      table,
      catLits,
      catMaps: catLits.map((ls) => (ls.length > CAT_SCAN ? new Map(ls.map((s, i) => [s, i])) : null)),
      orValid,
      orRule: Int32Array.from(orRule),
      rows: new Int32Array(F),
      cnfMask,
      fallbackRule: Int32Array.from(fallbackRule),
      fallbacks,
      preds: this.#rules.map((x) => x.pred),
    };
  }
}

/** The numeric constants an atom compares its feature with. */
function numbersOf(a: Atom): number[] {
  const out: number[] = [];
  const add = (l: { kind: string; value: unknown }) => typeof l.value === 'number' && out.push(l.value);
  if (a.kind === 'comparison') add(a.value);
  else if (a.kind === 'between') {
    add(a.low);
    add(a.high);
  } else if (a.kind === 'in') a.values.forEach(add);
  return out;
}

/** The string constants an atom compares its feature with. */
function stringsOf(a: Atom): string[] {
  const out: string[] = [];
  const add = (l: { kind: string; value: unknown }) => typeof l.value === 'string' && out.push(l.value);
  if (a.kind === 'comparison') add(a.value);
  else if (a.kind === 'in') a.values.forEach(add);
  return out;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
/** The next double above x (x finite). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = x > 0 ? u64[0]! + 1n : u64[0]! - 1n;
  return f64[0]!;
}

/** The condition as clauses of literals, or null when that would be too large. */
function cnf(n: Nnf): Lit[][] | null {
  if (n.t === 'lit') return [[n.lit]];
  const parts: Lit[][][] = [];
  for (const o of n.ops) {
    const p = cnf(o);
    if (!p) return null;
    parts.push(p);
  }
  if (n.t === 'and') {
    const out = parts.flat();
    return out.length > MAX_CLAUSES ? null : out;
  }
  // or: one clause per choice of a clause from each operand
  let out: Lit[][] = [[]];
  for (const p of parts) {
    const next: Lit[][] = [];
    for (const a of out) for (const cl of p) next.push([...a, ...cl]);
    if (next.length > MAX_CLAUSES || next.some((cl) => cl.length > MAX_CLAUSE_LITS)) return null;
    out = next;
  }
  return out;
}

/** A condition as one closure over the slots (fallback rules, and the evaluator's slow path). */
function predOf(n: Nnf): Pred {
  if (n.t === 'lit') {
    const { fn, neg } = n.lit;
    return neg ? (x, y, z) => !fn(x, y, z) : fn;
  }
  const ops = n.ops.map(predOf);
  return n.t === 'and' ? (x, y, z) => ops.every((p) => p(x, y, z)) : (x, y, z) => ops.some((p) => p(x, y, z));
}
