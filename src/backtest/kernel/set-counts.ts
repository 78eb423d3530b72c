/**
 * Word-level counts of the test window from the rule bitmaps: per population (rows and each
 * rule's hits) and the overlap and set counts of the judged rules (unions, "alone or none" masks,
 * incremental recall); the row-level rest of the overlap is pairs.ts.
 * Nothing imports node modules: the worker loads this file too.
 */
import { flush } from './bits.js';
import type { KernelLayout } from './layout.js';
import { overlapRows } from './pairs.js';

export function populations(st: KernelLayout, base: number, nwP: number, nw64: number): void {
  const p = st.plan;
  const P = p.pops.length;
  if (!P) return;
  const part = st.partial;
  const i32 = st.i32;
  const one = st.oneOff >>> 2;
  const out = st.outOff >>> 2;
  const cnt = (bitmap: number, into: Float64Array, o: number) => {
    i32[one] = bitmap;
    st.prims.count(st.oneOff, 1, base, st.bm, 0, nw64, st.outOff);
    flush(into, o, i32[out]!, i32[out + 1]!, i32[out + 2]!, i32[out + 3]!);
  };
  for (let q = 0; q < P; q++) {
    const Q = st.slot(p.pops[q]!);
    cnt(Q, part.popTotals, q * 4);
    for (let k = 0; k < p.rules.length; k++) {
      st.prims.and(st.tmpOff, Q, st.slot(p.rules[k]!), nwP);
      cnt(st.tmpOff, part.popHits, (k * P + q) * 4);
    }
  }
}

/**
 * Overlap and set counts of the judged window. Word-level: per rule set (deployed, approved)
 * the rows hit at least once and at least twice (bitmap counters, OR and AND per rule), hence
 * "hit by this rule alone" and "by none", and per rule one popcount pass against those masks
 * (outside the deployed set by label, incremental recall); the deployed and judged unions by
 * label. Row-level (overlapRows): each hit row's rule list gives the pair intersections
 * (Jaccard) and, on human rows, the judged-rule multiplicity of the FP share. Pairs by popcount
 * of a & b per word were tried for the rules dense in a block: no faster at 10M rows (~2 hits
 * per nonzero word), so every pair is counted row by row.
 */
export function overlap(st: KernelLayout, base: number, Wi: number, nw: number, nwP: number, nw64: number): void {
  const p = st.plan;
  const P = st.prims;
  const K = p.rules.length;
  const BM = st.bm;
  const i32 = st.i32;
  const part = st.partial;
  const o0 = st.ovOff;
  const [oD, tD, oA, tA, uJ] = [o0, o0 + BM, o0 + 2 * BM, o0 + 3 * BM, o0 + 4 * BM];
  const tmp = st.tmpOff;
  i32.fill(0, oD >>> 2, (oD >>> 2) + 5 * (BM >>> 2));
  const groups = [0, 0, 0, 0];
  for (let k = 0; k < K; k++) {
    const r = st.slot(p.rules[k]!);
    if (p.deployed[k]) {
      P.and(tmp, oD, r, nwP);
      P.or(tD, tD, tmp, nwP);
      P.or(oD, oD, r, nwP);
    }
    if (p.approved[k]) {
      P.and(tmp, oA, r, nwP);
      P.or(tA, tA, tmp, nwP);
      P.or(oA, oA, r, nwP);
    }
    if (p.judged[k]) P.or(uJ, uJ, r, nwP);
    groups[2 * p.deployed[k]! + p.approved[k]!]!++;
  }
  const out = st.outOff >>> 2;
  const list = st.ovList >>> 2;
  // the deployed and judged unions by label (side masks: human, bot, NULL label, all)
  i32[list] = oD;
  i32[list + 1] = uJ;
  P.count(st.ovList, 2, base, BM, 0, nw64, st.outOff);
  for (let u = 0; u < 2; u++) {
    const into = u ? part.all : part.base;
    const [h, b, t] = [i32[out + 4 * u]!, i32[out + 4 * u + 1]!, i32[out + 4 * u + 3]!];
    into[0]! += b;
    into[1]! += h;
    into[2]! += t - h - b;
  }
  // per group of rules (deployed?, approved?): masks [alone-or-none & bot, & human, & window, approved-alone-or-none & bot]
  const [WH, WB, W] = [base, base + BM, base + 3 * BM];
  for (let g = 0; g < 4; g++) {
    if (!groups[g]) continue;
    const d = g >> 1;
    const m = st.ovGroups + g * 4 * BM;
    if (d) P.andNot(tmp, oD, tD, nwP);
    else P.not(tmp, oD, nwP);
    P.and(m, tmp, WB, nwP);
    P.and(m + BM, tmp, WH, nwP);
    P.and(m + 2 * BM, tmp, W, nwP);
    if (g & 1) P.andNot(tmp, oA, tA, nwP);
    else P.not(tmp, oA, nwP);
    P.and(m + 3 * BM, tmp, WB, nwP);
    let len = 0;
    for (let k = 0; k < K; k++) if (2 * p.deployed[k]! + p.approved[k]! === g) i32[list + len++] = st.slot(p.rules[k]!);
    P.count(st.ovList, len, m, BM, 0, nw64, st.outOff);
    len = 0;
    for (let k = 0; k < K; k++) {
      if (2 * p.deployed[k]! + p.approved[k]! !== g) continue;
      const o = out + 4 * len++;
      const [bot, hum, all] = [i32[o]!, i32[o + 1]!, i32[o + 2]!];
      part.outside[k * 3]! += bot;
      part.outside[k * 3 + 1]! += hum;
      part.outside[k * 3 + 2]! += all - bot - hum;
      part.incremental[k]! += i32[o + 3]!;
    }
  }
  overlapRows(st, Wi, nw);
}
