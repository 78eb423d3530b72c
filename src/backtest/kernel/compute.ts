/**
 * The kernel's inner loop, shared by the worker threads and the in-thread path: one block of rows
 * (typed columns in this thread's memory) in, additive counts out. Per block: one bitmap (32-bit
 * words, bit i = row i) per distinct atom, one per rule or population node (AND/OR/NOT of
 * bitmaps), then popcounts split by label, per (window side, day), per segment value and per
 * population, and the rules' hit sets for overlap, incremental recall and set metrics, all from
 * the same bitmaps. The bitmap loops are the primitives of prims.ts (WebAssembly SIMD or JS).
 *
 * Memory: one buffer per thread, laid out once: each column's values and validity words, the
 * bitmap slots, the label and window masks, small scratch. A block is either read into it
 * directly (the column cache: columns.ts BlockReader) or copied into it (`process`).
 *
 * Everything here is additive over blocks, so blocks may be split between threads in any way
 * and the partial results summed. Nothing imports node modules: the worker loads this file too.
 */
import { daySlots, emptyPartial, LABEL, type Block, type KernelPlan, type Partial } from './block.js';
import { flush } from './bits.js';
import { makePrims, type Prims } from './prims.js';
import type { AtomSpec, ColumnKind } from './plan.js';

export { addPartial, BLOCK_ROWS, daySlots, emptyPartial, LABEL } from './block.js';
export type { Block, ColumnData, ColumnValues, KernelPlan, Partial, SideSpec } from './block.js';
export { pc, transpose32 } from './bits.js';

export const VALUE_BYTES: Record<ColumnKind, 1 | 4 | 8> = { number: 8, boolean: 1, category: 4, label: 1, time: 8, day: 4 };
const align = (x: number) => (x + 63) & ~63;
/** Most combined segment keys (4 labels x the product of each segment column's values + 1) counted at once. */
const COMBINED_MAX = 4096;

/** Per-thread state: the memory and its layout, the running partial, the overlap and segment counters. */
export class KernelState {
  readonly partial: Partial;
  readonly prims: Prims;
  /** Byte offsets of each column's values and validity words. */
  readonly valOff: number[];
  readonly validOff: number[];
  private readonly slotBase: number;
  private readonly labOff: number;
  /** Per side: [W & human, W & bot, W & NULL label, W] at sideOff[s] + j * BM. */
  private readonly sideOff: number[];
  private readonly tmpOff: number;
  private readonly listOff: number;
  private readonly oneOff: number;
  private readonly outOff: number;
  private readonly lutOff: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  private readonly runs: Int32Array;
  private readonly mixed: Int32Array;
  private nRuns = 0;
  private nMixed = 0;
  /** Per row of a block: the combined segment key (one array) or each column's key (value * 4 + label). */
  private readonly segKey: Int32Array[];
  /** Combined segment keys: hits per (rule, key), rows per key; summed into the partial by `finish`. */
  private readonly combSize: number;
  private readonly comb: Float64Array | null;
  private readonly combTotals: Float64Array | null;
  /** Per row of the mixed words: day slot * 4 + label, filled once per block (`keyed`). */
  private readonly rowKey: Int32Array;
  private keyed = false;
  /** Overlap scratch (-1 without overlap): 5 set bitmaps, 4 groups of 4 masks, a list of K offsets; judged rules; a row's rule list. */
  private readonly ovOff: number;
  private readonly ovGroups: number;
  private readonly ovList: number;
  private readonly J: number;
  /** Per row of a 32-row word: the rules hitting it (32 lists of up to K) and their lengths; each rule's bitmap as an int32 index. */
  private readonly rowLists: Int32Array;
  private readonly rowLens = new Int32Array(32);
  private readonly ruleRows: Int32Array;
  /** Pair intersections of this thread since the last flush, and the rows counted into them (flushed before int32 could overflow). */
  private readonly inter: Int32Array | null;
  private interRows = 0;
  /** Rows of a block (the plan's block capacity), 32-bit words and bytes of one bitmap. */
  private readonly cap: number;
  private readonly bw: number;
  private readonly bm: number;

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
  private slot(s: number): number {
    return this.slotBase + s * this.bm;
  }

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
    for (let s = 0; s < p.atoms.length; s++) this.atom(p.atoms[s]!, s, nwP, hasValid);
    for (const ins of p.program) {
      const o = this.slot(ins.out);
      const a = this.slot(ins.ins[0]!);
      if (ins.op === 'not') P.not(o, a, nwP);
      else if (ins.ins.length === 1) P.or(o, a, a, nwP);
      else {
        const f = ins.op === 'and' ? P.and.bind(P) : P.or.bind(P);
        f(o, a, this.slot(ins.ins[1]!), nwP);
        for (let q = 2; q < ins.ins.length; q++) f(o, o, this.slot(ins.ins[q]!), nwP);
      }
    }
    // 3. labels
    const lvOff = this.valOff[p.labelCol]!;
    for (let l = 0; l < 3; l++) P.eqU8(lvOff, this.labOff + l * BM, nwP, l);
    // 4. day runs: ranges of 64-row words whose rows share one day slot, and the other words
    this.dayRuns(n, nw64, hasValid);
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
      if (this.nMixed) this.mixedRows(s, Wi, hasValid);
      if (s === 0) {
        // with overlap and combined segment keys, the rules' segment hits are counted in the overlap's pass over the hits
        this.segments(Wi, n, nw, hasValid, !(this.ovOff >= 0 && this.comb));
        this.populations(base, nwP, nw64);
        if (this.ovOff >= 0) this.overlap(base, Wi, nw, nwP, nw64);
      }
    }
  }

  /** One atom's bitmap into its slot; NULL rows cleared by the validity words. */
  private atom(a: AtomSpec, s: number, nwP: number, hasValid: readonly boolean[]): void {
    const P = this.prims;
    const c = a.col;
    const kind = this.plan.kinds[c]!;
    const dst = this.slot(s);
    const src = this.valOff[c]!;
    const di = dst >>> 2;
    const fill = (v: number) => this.i32.fill(v, di, di + nwP);
    /** A boolean column holds 0 or 1: the atom is a function of those two values. */
    const bool = (f: (x: number) => boolean) => {
      const [f0, f1] = [f(0), f(1)];
      if (f0 && f1) fill(-1);
      else if (f0 || f1) P.eqU8(src, dst, nwP, f1 ? 1 : 0);
      else fill(0);
    };
    switch (a.t) {
      case 'null':
        if (!hasValid[c]) fill(a.negated ? -1 : 0);
        else if (a.negated) P.or(dst, this.validOff[c]!, this.validOff[c]!, nwP);
        else P.not(dst, this.validOff[c]!, nwP);
        return;
      case 'cmp': {
        if (kind === 'boolean') {
          const t = a.v;
          bool((x) => [x < t, x <= t, x > t, x >= t, x === t, x !== t][a.op]!);
        } else P.cmpF64(a.op, src, dst, nwP, a.v, 0);
        break;
      }
      case 'between':
        if (kind === 'boolean') bool((x) => x >= a.lo && x <= a.hi);
        else P.cmpF64(6, src, dst, nwP, a.lo, a.hi);
        break;
      case 'in': {
        const vals = a.values;
        const neg = a.negated;
        if (kind === 'boolean') bool((x) => vals.includes(x) !== neg);
        else {
          const v = this.f64;
          const i32 = this.i32;
          const b0 = src >>> 3;
          for (let w = 0; w < nwP; w++) {
            const b = b0 + (w << 5);
            let bits = 0;
            for (let j = 0; j < 32; j++) {
              const x = v[b + j]!;
              let hit = false;
              for (let q = 0; q < vals.length; q++) if (x === vals[q]) hit = true;
              bits |= +(hit !== neg) << j;
            }
            i32[di + w] = bits;
          }
        }
        break;
      }
      case 'lut': {
        const lut = a.lut;
        if (lut.length <= 16) P.lutI32(src, dst, nwP, this.lutOff + 16 * s);
        else {
          const i32 = this.i32;
          const b0 = src >>> 2;
          for (let w = 0; w < nwP; w++) {
            const b = b0 + (w << 5);
            let bits = 0;
            for (let j = 0; j < 32; j++) {
              const x = i32[b + j]!;
              // NULL rows may hold any code (masked below); keep the lookup in range
              bits |= (x >= 0 && x < lut.length ? lut[x]! : 0) << j;
            }
            i32[di + w] = bits;
          }
        }
        break;
      }
    }
    if (hasValid[c]) P.and(dst, dst, this.validOff[c]!, nwP);
  }

  /** Day slot of row i. */
  private dayOf(i: number, hasValid: readonly boolean[]): number {
    const p = this.plan;
    if (p.dayCol < 0) return 0;
    if (hasValid[p.dayCol] && !((this.i32[(this.validOff[p.dayCol]! >>> 2) + (i >>> 5)]! >>> (i & 31)) & 1)) return p.nDays;
    return this.i32[(this.valOff[p.dayCol]! >>> 2) + i]! - p.minDay;
  }

  /** Runs of 64-row words with one day slot (all rows' days equal and not NULL), and the mixed words. */
  private dayRuns(n: number, nw64: number, hasValid: readonly boolean[]): void {
    const p = this.plan;
    const runs = this.runs;
    this.nRuns = 0;
    this.nMixed = 0;
    if (p.dayCol < 0) {
      runs[0] = 0;
      runs[1] = nw64;
      runs[2] = 0;
      this.nRuns = 1;
      return;
    }
    const dv = this.i32;
    const d0 = this.valOff[p.dayCol]! >>> 2;
    const vv = hasValid[p.dayCol] ? this.validOff[p.dayCol]! >>> 2 : -1;
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
          runs[3 * this.nRuns] = start;
          runs[3 * this.nRuns + 1] = m;
          runs[3 * this.nRuns + 2] = cur;
          this.nRuns++;
        }
        cur = slot;
        start = m;
      }
      if (slot < 0) this.mixed[this.nMixed++] = m;
    }
    if (cur >= 0) {
      runs[3 * this.nRuns] = start;
      runs[3 * this.nRuns + 1] = nw64;
      runs[3 * this.nRuns + 2] = cur;
      this.nRuns++;
    }
  }

  /** Rows of the mixed words, one by one: groups and rule hits by their own day slot. */
  private mixedRows(s: number, Wi: number, hasValid: readonly boolean[]): void {
    const p = this.plan;
    const DS = daySlots(p);
    const K = p.rules.length;
    const part = this.partial;
    const i32 = this.i32;
    const lv = this.u8;
    const lo = this.valOff[p.labelCol]!;
    const sb = this.slotBase >>> 2;
    const bw = this.bw;
    const key = this.rowKey;
    const g0 = s * DS * 4;
    const groups = part.groups;
    const rg = part.ruleGroups;
    // each row's (day slot, label) index, once per block
    if (!this.keyed) {
      for (let q = 0; q < this.nMixed; q++) {
        const first = this.mixed[q]! << 6;
        for (let i = first; i < first + 64; i++) key[i] = this.dayOf(i, hasValid) * 4 + lv[lo + i]!;
      }
      this.keyed = true;
    }
    for (let q = 0; q < this.nMixed; q++) {
      for (let h = 0; h < 2; h++) {
        const w = 2 * this.mixed[q]! + h;
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

  /**
   * Segment counts. Each row gets one combined key over every segment column and its label
   * (label + 4 * (v0 + (V0 + 1) * (v1 + ...))); each rule's in-window hits add one to its
   * (rule, combined key) counter, whatever the number of segment columns; the counters are
   * split into the per-column counts once, in `finish`. Counting hits one by one beats a bitmap
   * per segment value here: rules hit ~2 rows per nonzero 32-row word, and a value bitmap costs
   * a popcount per value per word. Past COMBINED_MAX keys, a counter per column (the same sums).
   */
  private segments(Wi: number, n: number, nw: number, hasValid: readonly boolean[], ruleHits: boolean): void {
    const p = this.plan;
    if (!p.segCols.length) return;
    const S = p.segCols.length;
    const i32 = this.i32;
    const lv = this.u8;
    const lo = this.valOff[p.labelCol]!;
    const comb = this.comb;
    const C = this.combSize;
    // per row: the combined key (comb) or the column's key (per column), and the totals
    const parts = comb ? 1 : S;
    // only the 32-row words with rows in the window (a block holds sub-blocks of both windows)
    for (let q = 0; q < parts; q++) {
      const key = this.segKey[q]!;
      for (let w = 0; w < nw; w++) {
        if (i32[Wi + w] === 0) continue;
        const end = Math.min((w + 1) << 5, n);
        for (let i = w << 5; i < end; i++) key[i] = lv[lo + i]!;
      }
      let mul = 4;
      for (let j = comb ? 0 : q; j < (comb ? S : q + 1); j++) {
        const c = p.segCols[j]!;
        const V = p.segSizes[j]!;
        const vo = this.valOff[c]! >>> 2;
        const va = hasValid[c] ? this.validOff[c]! >>> 2 : -1;
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
      const key = this.segKey[q]!;
      const tot = comb ? this.combTotals! : this.partial.segTotals[q]!;
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
      const hits = comb ?? this.partial.segHits[q]!;
      const stride = comb ? C : (p.segSizes[q]! + 1) * 4;
      const K = p.rules.length;
      const sb = this.slotBase >>> 2;
      for (let k = 0; k < K; k++) {
        const R = sb + p.rules[k]! * this.bw;
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
  private splitSegments(): void {
    const comb = this.comb;
    if (!comb) return;
    const p = this.plan;
    const part = this.partial;
    const S = p.segCols.length;
    const C = this.combSize;
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
      this.combTotals!,
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
    this.combTotals!.fill(0);
  }

  private populations(base: number, nwP: number, nw64: number): void {
    const p = this.plan;
    const P = p.pops.length;
    if (!P) return;
    const part = this.partial;
    const i32 = this.i32;
    const one = this.oneOff >>> 2;
    const out = this.outOff >>> 2;
    const cnt = (bitmap: number, into: Float64Array, o: number) => {
      i32[one] = bitmap;
      this.prims.count(this.oneOff, 1, base, this.bm, 0, nw64, this.outOff);
      flush(into, o, i32[out]!, i32[out + 1]!, i32[out + 2]!, i32[out + 3]!);
    };
    for (let q = 0; q < P; q++) {
      const Q = this.slot(p.pops[q]!);
      cnt(Q, part.popTotals, q * 4);
      for (let k = 0; k < p.rules.length; k++) {
        this.prims.and(this.tmpOff, Q, this.slot(p.rules[k]!), nwP);
        cnt(this.tmpOff, part.popHits, (k * P + q) * 4);
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
  private overlap(base: number, Wi: number, nw: number, nwP: number, nw64: number): void {
    const p = this.plan;
    const P = this.prims;
    const K = p.rules.length;
    const BM = this.bm;
    const i32 = this.i32;
    const part = this.partial;
    const o0 = this.ovOff;
    const [oD, tD, oA, tA, uJ] = [o0, o0 + BM, o0 + 2 * BM, o0 + 3 * BM, o0 + 4 * BM];
    const tmp = this.tmpOff;
    i32.fill(0, oD >>> 2, (oD >>> 2) + 5 * (BM >>> 2));
    const groups = [0, 0, 0, 0];
    for (let k = 0; k < K; k++) {
      const r = this.slot(p.rules[k]!);
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
    const out = this.outOff >>> 2;
    const list = this.ovList >>> 2;
    // the deployed and judged unions by label (side masks: human, bot, NULL label, all)
    i32[list] = oD;
    i32[list + 1] = uJ;
    P.count(this.ovList, 2, base, BM, 0, nw64, this.outOff);
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
      const m = this.ovGroups + g * 4 * BM;
      if (d) P.andNot(tmp, oD, tD, nwP);
      else P.not(tmp, oD, nwP);
      P.and(m, tmp, WB, nwP);
      P.and(m + BM, tmp, WH, nwP);
      P.and(m + 2 * BM, tmp, W, nwP);
      if (g & 1) P.andNot(tmp, oA, tA, nwP);
      else P.not(tmp, oA, nwP);
      P.and(m + 3 * BM, tmp, WB, nwP);
      let len = 0;
      for (let k = 0; k < K; k++) if (2 * p.deployed[k]! + p.approved[k]! === g) i32[list + len++] = this.slot(p.rules[k]!);
      P.count(this.ovList, len, m, BM, 0, nw64, this.outOff);
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
    this.overlapRows(Wi, nw);
  }

  /**
   * Each in-window row hit by two or more rules: its pairs; each human row hit by judged rules:
   * its judged count. Per 32-row word, each rule's hits append the rule to its rows' lists (rules
   * in ascending order); then per row, its pairs into per-thread int32 counters.
   */
  private overlapRows(Wi: number, nw: number): void {
    const p = this.plan;
    const K = p.rules.length;
    const i32 = this.i32;
    const lv = this.u8;
    const lo = this.valOff[p.labelCol]!;
    const inter = this.inter!;
    const share = this.partial.fpShare;
    const judged = p.judged;
    const J1 = this.J + 1;
    const roots = this.ruleRows;
    const comb = this.comb;
    const C = this.combSize;
    const key = this.segKey[0]!;
    const L = this.rowLists;
    const N = this.rowLens;
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
    this.interRows += nw * 32;
    if (this.interRows >= 2 ** 30) this.flushInter();
  }

  /** The int32 pair counters into the partial. */
  private flushInter(): void {
    const inter = this.inter;
    if (!inter) return;
    const into = this.partial.inter;
    for (let i = 0; i < inter.length; i++) if (inter[i] !== 0) into[i]! += inter[i]!;
    inter.fill(0);
    this.interRows = 0;
  }

  /** The partial result (once, at the end): the combined segment counters split first. */
  finish(): Partial {
    this.splitSegments();
    this.flushInter();
    return this.partial;
  }
}
