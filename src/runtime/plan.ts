/**
 * The evaluation plan of a ruleset: how a session's slots become rule hits with no function
 * call per atom or per rule and no allocation (bench/runtime.mjs). plan-build.ts builds it from
 * the rules; runPlan, here, evaluates it per session.
 *
 * 1. Cells. Every atom reads one feature, and on a given feature it only depends on where the
 *    value falls among the constants the ruleset compares that feature with. A number feature
 *    whose atoms name the points p0 < p1 < … < pm-1 has 2m+2 cells: below p0, = p0, between p0
 *    and p1, = p1, …, above pm-1, and NULL; a boolean has three (false, true, NULL); a category
 *    has one per string literal, one for any other string and one for NULL. Every atom on the
 *    feature is constant over a cell, so the plan evaluates each atom once per cell when it is
 *    built — with the atom compiler's own closure on a representative value of the cell, which
 *    keeps the NULL semantics identical — and a session only has to find its cell per feature:
 *    a short scan of sorted thresholds, a boolean code, or a few string comparisons.
 * 2. Rules. Negation is pushed down to the atoms (valid because every atom is already two-valued:
 *    false on NULL, which is the compiler's `not coalesce(p, false)`), then the condition is put
 *    in conjunctive normal form (and of clauses, each an or of literals) when that stays small.
 *    A rule holds unless one of its clauses is false. A clause whose literals all read one
 *    feature is false on a fixed set of that feature's cells, so each cell carries a bitset of
 *    the rules it "kills"; a clause over several features gets a bit of its own, set by every
 *    cell where one of its literals holds, and kills its rule when still unset at the end.
 *    Per session: one OR of a (rules + clauses)/32-word row per feature, then a few bit scans.
 *    A rule too large for that form is a closure over the slots (the fallback).
 */
import type { ExprJson } from '../release/schema.js';

export type Num = Float64Array;
export type Bool = Uint8Array;
export type Cat = (string | null)[];
/** A compiled atom or expression: reads the slots, says whether it holds. */
export type Pred = (n: Num, b: Bool, c: Cat) => boolean;

export const B_FALSE = 0;
export const B_TRUE = 1;
export const B_NULL = 2;

export type Atom = Exclude<ExprJson, { kind: 'and' | 'or' | 'not' }>;
export type FeatureType = 'number' | 'boolean' | 'category';

/** The plan's arrays; see the module comment. */
export interface Plan {
  rules: number;
  /** Words of rule bits: rule r is bit r & 31 of word r >>> 5. */
  words: number;
  /**
   * Words per cell row (4, 8 or more): bits 0 .. rules-1 are the rules the cell kills, the
   * next ones the clauses over several features it satisfies, the rest padding.
   */
  width: number;
  nNum: number;
  nBool: number;
  nCat: number;
  /** Number feature f's sorted points are pts[ptStart[f] .. ptStart[f+1]]. */
  ptStart: Int32Array;
  pts: Float64Array;
  /** Feature f's cell k has its row at table[cellBase[f] + k * width]. */
  cellBase: Int32Array;
  table: Int32Array;
  /** Category feature j's literals: cell i is catLits[j][i], then any other string, then NULL. */
  catLits: string[][];
  catMaps: (Map<string, number> | null)[];
  /** Which bits of a row are clause bits (width words), and the rule of clause bit rules + i. */
  orValid: Int32Array;
  orRule: Int32Array;
  /** Scratch: each feature's row offset in table for the session at hand. */
  rows: Int32Array;
  /** The rules in clause form; the others are fallbacks (closures). */
  cnfMask: Int32Array;
  fallbackRule: Int32Array;
  fallbacks: Pred[];
  /** Every rule's condition as one closure over the slots (the evaluator's slow path). */
  preds: Pred[];
}

/**
 * Evaluate the plan on the slots: `hit` (plan.words long) gets the bits of the rules that hold.
 * `acc` is scratch, plan.width long.
 */
export function runPlan(p: Plan, n: Num, b: Bool, c: Cat, acc: Int32Array, hit: Int32Array): void {
  const V = p.width;
  const base = p.cellBase;
  const rows = p.rows;
  // 1. each feature's cell, as the offset of its row
  const pts = p.pts;
  const ps = p.ptStart;
  const nNum = p.nNum;
  for (let f = 0; f < nNum; f++) {
    const x = n[f]!;
    const lo = ps[f]!;
    const hi = ps[f + 1]!;
    let cell: number;
    if (x !== x) cell = 2 * (hi - lo) + 1;
    else {
      // 2 * (points below x) + (1 if x is a point), without a data-dependent branch
      cell = 0;
      for (let i = lo; i < hi; i++) {
        const q = pts[i]!;
        cell += (+(q < x) | 0) + (+(q <= x) | 0);
      }
    }
    rows[f] = base[f]! + cell * V;
  }
  const nBool = p.nBool;
  for (let j = 0; j < nBool; j++) rows[nNum + j] = base[nNum + j]! + b[j]! * V;
  const nCat = p.nCat;
  const fc = nNum + nBool;
  for (let j = 0; j < nCat; j++) {
    const x = c[j];
    const lits = p.catLits[j]!;
    const m = lits.length;
    let cell: number;
    if (x === null || x === undefined) cell = m + 1;
    else {
      const map = p.catMaps[j];
      if (map) cell = map.get(x) ?? m;
      else {
        cell = 0;
        while (cell < m && lits[cell] !== x) cell++;
      }
    }
    rows[fc + j] = base[fc + j]! + cell * V;
  }
  // 2. the OR of the rows, in registers for the common widths
  const table = p.table;
  const F = rows.length;
  if (V === 4 || V === 8) for (let w = 0; w < V; w += 4) orRows4(table, rows, acc, w);
  else {
    for (let w = 0; w < V; w++) acc[w] = 0;
    for (let f = 0; f < F; f++) {
      const o = rows[f]!;
      for (let w = 0; w < V; w++) acc[w]! |= table[o + w]!;
    }
  }
  // 3. clauses over several features that no literal satisfied kill their rule
  const valid = p.orValid;
  const R = p.rules;
  for (let w = R >>> 5; w < V; w++) {
    let u = ~acc[w]! & valid[w]!;
    while (u !== 0) {
      const low = u & -u;
      const r = p.orRule[w * 32 + 31 - Math.clz32(low) - R]!;
      acc[r >>> 5]! |= 1 << (r & 31);
      u ^= low;
    }
  }
  const W = p.words;
  const cm = p.cnfMask;
  for (let w = 0; w < W; w++) hit[w] = ~acc[w]! & cm[w]!;
  const fr = p.fallbackRule;
  for (let k = 0; k < fr.length; k++) {
    if (p.fallbacks[k]!(n, b, c)) {
      const r = fr[k]!;
      hit[r >>> 5]! |= 1 << (r & 31);
    }
  }
}

/**
 * acc[off .. off+3] = the OR of words off .. off+3 of every row, kept in four locals so the
 * loop runs in registers (the row widths 4 and 8 are one and two such passes).
 */
function orRows4(table: Int32Array, rows: Int32Array, acc: Int32Array, off: number): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let f = 0; f < rows.length; f++) {
    const o = rows[f]! + off;
    a0 |= table[o]!;
    a1 |= table[o + 1]!;
    a2 |= table[o + 2]!;
    a3 |= table[o + 3]!;
  }
  acc[off] = a0;
  acc[off + 1] = a1;
  acc[off + 2] = a2;
  acc[off + 3] = a3;
}
