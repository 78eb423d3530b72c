/**
 * Counts per (window side, day, label): a block's 64-row words fall into runs with one day slot
 * (counted by popcount over the run, in KernelState.run) and mixed words, whose rows are counted
 * one by one here. Nothing imports node modules: the worker loads this file too.
 */
import { daySlots } from './block.js';
import type { KernelLayout } from './layout.js';

/** Day slot of row i. */
function dayOf(st: KernelLayout, i: number, hasValid: readonly boolean[]): number {
  const p = st.plan;
  if (p.dayCol < 0) return 0;
  if (hasValid[p.dayCol] && !((st.i32[(st.validOff[p.dayCol]! >>> 2) + (i >>> 5)]! >>> (i & 31)) & 1)) return p.nDays;
  return st.i32[(st.valOff[p.dayCol]! >>> 2) + i]! - p.minDay;
}

/** Runs of 64-row words with one day slot (all rows' days equal and not NULL), and the mixed words. */
export function dayRuns(st: KernelLayout, n: number, nw64: number, hasValid: readonly boolean[]): void {
  const p = st.plan;
  const runs = st.runs;
  st.nRuns = 0;
  st.nMixed = 0;
  if (p.dayCol < 0) {
    runs[0] = 0;
    runs[1] = nw64;
    runs[2] = 0;
    st.nRuns = 1;
    return;
  }
  const dv = st.i32;
  const d0 = st.valOff[p.dayCol]! >>> 2;
  const vv = hasValid[p.dayCol] ? st.validOff[p.dayCol]! >>> 2 : -1;
  let cur = -1;
  let start = 0;
  for (let m = 0; m < nw64; m++) {
    const first = m << 6;
    const end = Math.min(first + 64, n);
    let d = dv[d0 + first]!;
    for (let i = first; i < end; i++) {
      if ((vv >= 0 && !((dv[vv + (i >>> 5)]! >>> (i & 31)) & 1)) || dv[d0 + i] !== d) {
        d = Infinity;
        break;
      }
    }
    const slot = d === Infinity ? -1 : d - p.minDay;
    if (slot !== cur) {
      if (cur >= 0) {
        runs[3 * st.nRuns] = start;
        runs[3 * st.nRuns + 1] = m;
        runs[3 * st.nRuns + 2] = cur;
        st.nRuns++;
      }
      cur = slot;
      start = m;
    }
    if (slot < 0) st.mixed[st.nMixed++] = m;
  }
  if (cur >= 0) {
    runs[3 * st.nRuns] = start;
    runs[3 * st.nRuns + 1] = nw64;
    runs[3 * st.nRuns + 2] = cur;
    st.nRuns++;
  }
}

/** Rows of the mixed words, one by one: groups and rule hits by their own day slot. */
export function mixedRows(st: KernelLayout, s: number, Wi: number, hasValid: readonly boolean[]): void {
  const p = st.plan;
  const DS = daySlots(p);
  const K = p.rules.length;
  const part = st.partial;
  const i32 = st.i32;
  const lv = st.u8;
  const lo = st.valOff[p.labelCol]!;
  const sb = st.slotBase >>> 2;
  const bw = st.bw;
  const key = st.rowKey;
  const g0 = s * DS * 4;
  const groups = part.groups;
  const rg = part.ruleGroups;
  // each row's (day slot, label) index, once per block
  if (!st.keyed) {
    for (let q = 0; q < st.nMixed; q++) {
      const first = st.mixed[q]! << 6;
      for (let i = first; i < first + 64; i++) key[i] = dayOf(st, i, hasValid) * 4 + lv[lo + i]!;
    }
    st.keyed = true;
  }
  for (let q = 0; q < st.nMixed; q++) {
    for (let h = 0; h < 2; h++) {
      const w = 2 * st.mixed[q]! + h;
      const win = i32[Wi + w]!;
      if (win === 0) continue;
      const base = w << 5;
      let y = win;
      while (y !== 0) {
        const t = y & -y;
        groups[g0 + key[base + 31 - Math.clz32(t)]!]!++;
        y ^= t;
      }
      for (let k = 0; k < K; k++) {
        let x = i32[sb + p.rules[k]! * bw + w]! & win;
        if (x === 0) continue;
        const o = k * 2 * DS * 4 + g0;
        while (x !== 0) {
          const t = x & -x;
          rg[o + key[base + 31 - Math.clz32(t)]!]!++;
          x ^= t;
        }
      }
    }
  }
}
