/**
 * Counts per segment value and label, rows and each rule's hits, in the test window. With
 * overlap and combined keys, the rules' hits are counted in pairs.ts's pass over the hits instead.
 * Nothing imports node modules: the worker loads this file too.
 */
import type { KernelLayout } from './layout.js';

/**
 * Segment counts. Each row gets one combined key over every segment column and its label
 * (label + 4 * (v0 + (V0 + 1) * (v1 + ...))); each rule's in-window hits add one to its
 * (rule, combined key) counter, whatever the number of segment columns; the counters are
 * split into the per-column counts once, in `finish`. Counting hits one by one beats a bitmap
 * per segment value here: rules hit ~2 rows per nonzero 32-row word, and a value bitmap costs
 * a popcount per value per word. Past COMBINED_MAX keys, a counter per column (the same sums).
 */
export function segments(st: KernelLayout, Wi: number, n: number, nw: number, hasValid: readonly boolean[], ruleHits: boolean): void {
  const p = st.plan;
  if (!p.segCols.length) return;
  const S = p.segCols.length;
  const i32 = st.i32;
  const lv = st.u8;
  const lo = st.valOff[p.labelCol]!;
  const comb = st.comb;
  const C = st.combSize;
  // per row: the combined key (comb) or the column's key (per column), and the totals
  const parts = comb ? 1 : S;
  // only the 32-row words with rows in the window (a block holds sub-blocks of both windows)
  for (let q = 0; q < parts; q++) {
    const key = st.segKey[q]!;
    for (let w = 0; w < nw; w++) {
      if (i32[Wi + w] === 0) continue;
      const end = Math.min((w + 1) << 5, n);
      for (let i = w << 5; i < end; i++) key[i] = lv[lo + i]!;
    }
    let mul = 4;
    for (let j = comb ? 0 : q; j < (comb ? S : q + 1); j++) {
      const c = p.segCols[j]!;
      const V = p.segSizes[j]!;
      const vo = st.valOff[c]! >>> 2;
      const va = hasValid[c] ? st.validOff[c]! >>> 2 : -1;
      for (let w = 0; w < nw; w++) {
        if (i32[Wi + w] === 0) continue;
        const end = Math.min((w + 1) << 5, n);
        const valid = va >= 0 ? i32[va + w]! : -1;
        for (let i = w << 5; i < end; i++) key[i] = key[i]! + mul * ((valid >>> (i & 31)) & 1 ? i32[vo + i]! : V);
      }
      mul *= V + 1;
    }
  }
  for (let q = 0; q < parts; q++) {
    const key = st.segKey[q]!;
    const tot = comb ? st.combTotals! : st.partial.segTotals[q]!;
    for (let w = 0; w < nw; w++) {
      let y = i32[Wi + w]!;
      const base = w << 5;
      while (y !== 0) {
        const t = y & -y;
        tot[key[base + 31 - Math.clz32(t)]!]!++;
        y ^= t;
      }
    }
    if (!ruleHits) continue;
    const hits = comb ?? st.partial.segHits[q]!;
    const stride = comb ? C : (p.segSizes[q]! + 1) * 4;
    const K = p.rules.length;
    const sb = st.slotBase >>> 2;
    for (let k = 0; k < K; k++) {
      const R = sb + p.rules[k]! * st.bw;
      const o = k * stride;
      for (let w = 0; w < nw; w++) {
        let y = i32[R + w]! & i32[Wi + w]!;
        const base = w << 5;
        while (y !== 0) {
          const t = y & -y;
          hits[o + key[base + 31 - Math.clz32(t)]!]!++;
          y ^= t;
        }
      }
    }
  }
}

/** The combined segment counters into the per-column counts (once, at the end). */
export function splitSegments(st: KernelLayout): void {
  const comb = st.comb;
  if (!comb) return;
  const p = st.plan;
  const part = st.partial;
  const S = p.segCols.length;
  const C = st.combSize;
  const K = p.rules.length;
  const into = (src: Float64Array, o: number, dst: (j: number) => Float64Array, d: (j: number) => number) => {
    for (let c = 0; c < C; c++) {
      const x = src[o + c]!;
      if (x === 0) continue;
      const l = c & 3;
      let r = c >>> 2;
      for (let j = 0; j < S; j++) {
        const V1 = p.segSizes[j]! + 1;
        dst(j)[d(j) + (r % V1) * 4 + l]! += x;
        r = Math.floor(r / V1);
      }
    }
  };
  into(
    st.combTotals!,
    0,
    (j) => part.segTotals[j]!,
    () => 0,
  );
  for (let k = 0; k < K; k++)
    into(
      comb,
      k * C,
      (j) => part.segHits[j]!,
      (j) => k * (p.segSizes[j]! + 1) * 4,
    );
  comb.fill(0);
  st.combTotals!.fill(0);
}
