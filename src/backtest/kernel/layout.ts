/**
 * The memory of one kernel thread: one buffer, laid out once: each column's values and validity
 * words, the bitmap slots, the label and window masks, small scratch. A block is either read into
 * it directly (the column cache: reader.ts BlockReader) or copied into it (KernelState.process).
 * Besides the buffer: the running partial and the per-block scratch of the day runs, segment keys
 * and overlap counters. The fields are shared with the compute files (atoms.ts, days.ts,
 * segments.ts, set-counts.ts, pairs.ts), hence not private; only this thread's code touches them.
 * Nothing imports node modules: the worker loads this file too.
 */
import { emptyPartial, type KernelPlan, type Partial } from './block.js';
import { makePrims, type Prims } from './prims.js';
import type { ColumnKind } from './plan.js';

export const VALUE_BYTES: Record<ColumnKind, 1 | 4 | 8> = { number: 8, boolean: 1, category: 4, label: 1, time: 8, day: 4 };
const align = (x: number) => (x + 63) & ~63;
/** Most combined segment keys (4 labels x the product of each segment column's values + 1) counted at once. */
export const COMBINED_MAX = 4096;

/** Per-thread state: the memory and its layout, the running partial, the overlap and segment counters. */
export class KernelLayout {
  readonly partial: Partial;
  readonly prims: Prims;
  /** Byte offsets of each column's values and validity words. */
  readonly valOff: number[];
  readonly validOff: number[];
  readonly slotBase: number;
  readonly labOff: number;
  /** Per side: [W & human, W & bot, W & NULL label, W] at sideOff[s] + j * BM. */
  readonly sideOff: number[];
  readonly tmpOff: number;
  readonly listOff: number;
  readonly oneOff: number;
  readonly outOff: number;
  readonly lutOff: number;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly runs: Int32Array;
  readonly mixed: Int32Array;
  nRuns = 0;
  nMixed = 0;
  /** Per row of a block: the combined segment key (one array) or each column's key (value * 4 + label). */
  readonly segKey: Int32Array[];
  /** Combined segment keys: hits per (rule, key), rows per key; summed into the partial by `finish`. */
  readonly combSize: number;
  readonly comb: Float64Array | null;
  readonly combTotals: Float64Array | null;
  /** Per row of the mixed words: day slot * 4 + label, filled once per block (`keyed`). */
  readonly rowKey: Int32Array;
  keyed = false;
  /** Overlap scratch (-1 without overlap): 5 set bitmaps, 4 groups of 4 masks, a list of K offsets; judged rules; a row's rule list. */
  readonly ovOff: number;
  readonly ovGroups: number;
  readonly ovList: number;
  readonly J: number;
  /** Per row of a 32-row word: the rules hitting it (32 lists of up to K) and their lengths; each rule's bitmap as an int32 index. */
  readonly rowLists: Int32Array;
  readonly rowLens = new Int32Array(32);
  readonly ruleRows: Int32Array;
  /** Pair intersections of this thread since the last flush, and the rows counted into them (flushed before int32 could overflow). */
  readonly inter: Int32Array | null;
  interRows = 0;
  /** Rows of a block (the plan's block capacity), 32-bit words and bytes of one bitmap. */
  readonly cap: number;
  readonly bw: number;
  readonly bm: number;

  constructor(
    readonly plan: KernelPlan,
    simd: boolean,
  ) {
    this.partial = emptyPartial(plan);
    const K = plan.rules.length;
    this.cap = plan.blockRows;
    this.bw = this.cap >>> 5;
    this.bm = this.bw * 4;
    const BM = this.bm;
    let at = 0;
    const take = (bytes: number) => {
      const o = at;
      at = align(at + bytes);
      return o;
    };
    this.valOff = plan.kinds.map((k) => take(this.cap * VALUE_BYTES[k]));
    this.validOff = plan.kinds.map(() => take(BM));
    this.slotBase = take(plan.slots * BM);
    this.labOff = take(3 * BM);
    this.sideOff = [take(4 * BM), take(4 * BM)];
    this.tmpOff = take(BM);
    this.listOff = take((K + 1) * 4);
    this.oneOff = take(4);
    this.outOff = take((K + 1) * 16);
    this.lutOff = take(plan.atoms.length * 16);
    const ov = plan.overlap && K > 0;
    this.ovOff = ov ? take(5 * BM) : -1;
    this.ovGroups = ov ? take(16 * BM) : -1;
    this.ovList = ov ? take(Math.max(K, 2) * 4) : -1;
    this.J = plan.judged.reduce((a, b) => a + b, 0);
    this.rowLists = new Int32Array(ov ? 32 * K : 0);
    this.ruleRows = Int32Array.from(plan.rules, (r) => (this.slotBase + r * this.bm) >>> 2);
    this.inter = ov ? new Int32Array(K * K) : null;
    this.prims = makePrims(simd, at);
    const buf = this.prims.buffer;
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.u8 = new Uint8Array(buf);
    plan.rules.forEach((slot, k) => (this.i32[(this.listOff >>> 2) + k] = this.slot(slot)));
    plan.atoms.forEach((a, s) => {
      if (a.t === 'lut' && a.lut.length <= 16) for (let i = 0; i < a.lut.length; i++) this.u8[this.lutOff + 16 * s + i] = a.lut[i] ? 0xff : 0;
    });
    this.runs = new Int32Array(3 * (this.bw / 2 + 1));
    this.mixed = new Int32Array(this.bw / 2);
    const C = plan.segSizes.reduce((a, v) => a * (v + 1), 4);
    const combined = plan.segCols.length > 0 && C <= COMBINED_MAX;
    this.combSize = combined ? C : 0;
    this.comb = combined ? new Float64Array(K * C) : null;
    this.combTotals = combined ? new Float64Array(C) : null;
    this.segKey = (combined ? [0] : plan.segCols).map(() => new Int32Array(this.cap));
    this.rowKey = new Int32Array(plan.dayCol >= 0 ? this.cap : 0);
  }

  /** Byte offset of a bitmap slot. */
  slot(s: number): number {
    return this.slotBase + s * this.bm;
  }
}
