/**
 * The row-level part of the overlap: one pass over the test window's rule hits giving the pair
 * intersections (Jaccard), the FP share's judged-rule multiplicity and, with combined segment
 * keys, the rules' segment hits. Nothing imports node modules: the worker loads this file too.
 */
import { LABEL } from './block.js';
import type { KernelLayout } from './layout.js';

/**
 * Each in-window row hit by two or more rules: its pairs; each human row hit by judged rules:
 * its judged count. Per 32-row word, each rule's hits append the rule to its rows' lists (rules
 * in ascending order); then per row, its pairs into per-thread int32 counters.
 */
export function overlapRows(st: KernelLayout, Wi: number, nw: number): void {
  const p = st.plan;
  const K = p.rules.length;
  const i32 = st.i32;
  const lv = st.u8;
  const lo = st.valOff[p.labelCol]!;
  const inter = st.inter!;
  const share = st.partial.fpShare;
  const judged = p.judged;
  const J1 = st.J + 1;
  const roots = st.ruleRows;
  const comb = st.comb;
  const C = st.combSize;
  const key = st.segKey[0]!;
  const L = st.rowLists;
  const N = st.rowLens;
  for (let w = 0; w < nw; w++) {
    const win = i32[Wi + w]!;
    if (win === 0) continue;
    let any = 0;
    const base = w << 5;
    for (let k = 0; k < K; k++) {
      let x = i32[roots[k]! + w]! & win;
      if (x === 0) continue;
      any |= x;
      if (comb) {
        // the rule's segment hits too (segments: combined keys)
        const o = k * C;
        while (x !== 0) {
          const t = x & -x;
          const j = 31 - Math.clz32(t);
          L[j * K + N[j]!++] = k;
          comb[o + key[base + j]!]!++;
          x ^= t;
        }
      } else {
        while (x !== 0) {
          const t = x & -x;
          const j = 31 - Math.clz32(t);
          L[j * K + N[j]!++] = k;
          x ^= t;
        }
      }
    }
    if (any === 0) continue;
    let y = any;
    while (y !== 0) {
      const t = y & -y;
      const j = 31 - Math.clz32(t);
      y ^= t;
      const len = N[j]!;
      N[j] = 0;
      const l0 = j * K;
      for (let a = 0; a + 1 < len; a++) {
        const row = L[l0 + a]! * K;
        for (let c = a + 1; c < len; c++) inter[row + L[l0 + c]!]!++;
      }
      if (lv[lo + base + j] !== LABEL.human) continue;
      let nj = 0;
      for (let a = 0; a < len; a++) nj += judged[L[l0 + a]!]!;
      if (nj === 0) continue;
      for (let a = 0; a < len; a++) {
        const i = L[l0 + a]!;
        if (judged[i]) share[i * J1 + nj]!++;
      }
    }
  }
  st.interRows += nw * 32;
  if (st.interRows >= 2 ** 30) flushInter(st);
}

/** The int32 pair counters into the partial. */
export function flushInter(st: KernelLayout): void {
  const inter = st.inter;
  if (!inter) return;
  const into = st.partial.inter;
  for (let i = 0; i < inter.length; i++) if (inter[i] !== 0) into[i]! += inter[i]!;
  inter.fill(0);
  st.interRows = 0;
}
