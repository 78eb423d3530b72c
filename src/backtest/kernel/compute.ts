/**
 * The kernel's inner loop, shared by the worker threads and the in-thread path: one block of rows
 * (typed columns in this thread's memory) in, additive counts out. Per block: one bitmap (32-bit
 * words, bit i = row i) per distinct atom, one per rule or population node (AND/OR/NOT of
 * bitmaps), then popcounts split by label, per (window side, day), per segment value and per
 * population, and the rules' hit sets for overlap, incremental recall and set metrics, all from
 * the same bitmaps. The bitmap loops are the primitives of prims.ts (WebAssembly SIMD or JS).
 *
 * This file drives one block through the steps; the memory and its layout are layout.ts, the
 * atom and rule bitmaps atoms.ts, the day runs days.ts, the segment counts segments.ts, the
 * population and set counts set-counts.ts, the pair counts pairs.ts.
 *
 * Everything here is additive over blocks, so blocks may be split between threads in any way
 * and the partial results summed. Nothing imports node modules: the worker loads this file too.
 */
import { evalRules } from './atoms.js';
import { daySlots, type Block, type Partial } from './block.js';
import { flush } from './bits.js';
import { dayRuns, mixedRows } from './days.js';
import { KernelLayout } from './layout.js';
import { flushInter } from './pairs.js';
import { segments, splitSegments } from './segments.js';
import { overlap, populations } from './set-counts.js';

export { addPartial, BLOCK_ROWS, daySlots, emptyPartial, LABEL } from './block.js';
export type { Block, ColumnData, ColumnValues, KernelPlan, Partial, SideSpec } from './block.js';
export { pc, transpose32 } from './bits.js';
export { VALUE_BYTES } from './layout.js';

/** Per-thread state: the memory and its layout (KernelLayout), and the steps over one block. */
export class KernelState extends KernelLayout {
  /** Copy a block into this thread's memory and count it. */
  process(b: Block): void {
    if (b.rows === 0) return;
    if (b.rows > this.cap) throw new Error(`a block of ${b.rows} rows in a kernel planned for ${this.cap} (the table grew while it was read?)`);
    const hasValid = b.cols.map((c, i) => {
      const off = this.valOff[i]!;
      const v = c.values;
      new (v.constructor as new (b: ArrayBuffer, o: number, n: number) => typeof v)(this.prims.buffer, off, v.length).set(v as never);
      if (!c.valid) return false;
      this.i32.set(new Int32Array(c.valid.buffer, c.valid.byteOffset, c.valid.length), this.validOff[i]! >>> 2);
      return true;
    });
    this.run(b.rows, hasValid);
  }

  /** Count `n` rows already in memory; hasValid[c]: column c's validity words are filled (else no NULL). */
  run(n: number, hasValid: readonly boolean[]): void {
    const p = this.plan;
    if (n === 0) return;
    const P = this.prims;
    const BM = this.bm;
    const nw = (n + 31) >>> 5;
    const nwP = ((n + 127) >>> 7) << 2;
    const nw64 = (n + 63) >>> 6;
    // 1. atoms, 2. rule programs
    evalRules(this, nwP, hasValid);
    // 3. labels
    const lvOff = this.valOff[p.labelCol]!;
    for (let l = 0; l < 3; l++) P.eqU8(lvOff, this.labOff + l * BM, nwP, l);
    // 4. day runs: ranges of 64-row words whose rows share one day slot, and the other words
    dayRuns(this, n, nw64, hasValid);
    this.keyed = false;
    const DS = daySlots(p);
    const K = p.rules.length;
    const part = this.partial;
    const i32 = this.i32;
    const tcol = p.timeCol;
    for (let s = 0; s < 2; s++) {
      const spec = s === 0 ? p.window : p.train;
      if (!spec) continue;
      const base = this.sideOff[s]!;
      const W = base + 3 * BM;
      const Wi = W >>> 2;
      if (spec.kind === 'all') i32.fill(-1, Wi, Wi + nw);
      else {
        P.cmpF64(spec.kind === 'ge' ? 3 : 0, this.valOff[tcol]!, W, nwP, spec.cutoff, 0);
        if (hasValid[tcol]) P.and(W, W, this.validOff[tcol]!, nwP);
      }
      if (n & 31) i32[Wi + nw - 1] = i32[Wi + nw - 1]! & ((1 << (n & 31)) - 1);
      i32.fill(0, Wi + nw, Wi + nwP);
      let any = 0;
      for (let w = 0; w < nw; w++) any |= i32[Wi + w]!;
      if (any === 0) continue;
      for (let l = 0; l < 3; l++) P.and(base + l * BM, W, this.labOff + l * BM, nwP);
      // rules and the window itself (entry K of the list): counts per run, one day slot each
      i32[(this.listOff >>> 2) + K] = W;
      const out = this.outOff >>> 2;
      for (let r = 0; r < this.nRuns; r++) {
        const d = this.runs[3 * r + 2]!;
        P.count(this.listOff, K + 1, base, BM, this.runs[3 * r]!, this.runs[3 * r + 1]!, this.outOff);
        for (let k = 0; k < K; k++) {
          const o = out + 4 * k;
          if (i32[o + 3] !== 0) flush(part.ruleGroups, k * 2 * DS * 4 + (s * DS + d) * 4, i32[o]!, i32[o + 1]!, i32[o + 2]!, i32[o + 3]!);
        }
        const o = out + 4 * K;
        flush(part.groups, (s * DS + d) * 4, i32[o]!, i32[o + 1]!, i32[o + 2]!, i32[o + 3]!);
      }
      if (this.nMixed) mixedRows(this, s, Wi, hasValid);
      if (s === 0) {
        // with overlap and combined segment keys, the rules' segment hits are counted in the overlap's pass over the hits
        segments(this, Wi, n, nw, hasValid, !(this.ovOff >= 0 && this.comb));
        populations(this, base, nwP, nw64);
        if (this.ovOff >= 0) overlap(this, base, Wi, nw, nwP, nw64);
      }
    }
  }

  /** The partial result (once, at the end): the combined segment counters split first. */
  finish(): Partial {
    splitSegments(this);
    flushInter(this);
    return this.partial;
  }
}
