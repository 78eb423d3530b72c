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
import { flush, MaskTable, transpose32 } from './bits.js';
import { makePrims, type Prims } from './prims.js';
import type { AtomSpec, ColumnKind } from './plan.js';

export { addPartial, BLOCK_ROWS, daySlots, emptyPartial, LABEL } from './block.js';
export type { Block, ColumnData, ColumnValues, KernelPlan, Partial, SideSpec } from './block.js';
export { pc, transpose32 } from './bits.js';

export const VALUE_BYTES: Record<ColumnKind, 1 | 4 | 8> = { number: 8, boolean: 1, category: 4, label: 1, time: 8, day: 4 };
const align = (x: number) => (x + 63) & ~63;

/** Per-thread state: the memory and its layout, the running partial, the mask table. */
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
  private readonly segIdx: Int32Array[];
  /** Per row of the mixed words: day slot * 4 + label, filled once per block (`keyed`). */
  private readonly rowKey: Int32Array;
  private keyed = false;
  private readonly masks: MaskTable | null;
  private readonly tr = new Int32Array(32);
  private readonly rowMasks: Int32Array;
  private readonly key: Int32Array;
  private readonly M: number;
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
    this.segIdx = plan.segCols.map(() => new Int32Array(this.cap));
    this.rowKey = new Int32Array(plan.dayCol >= 0 ? this.cap : 0);
    this.M = Math.ceil(K / 32);
    this.masks = plan.overlap && K ? new MaskTable(this.M + 1) : null;
    this.rowMasks = new Int32Array(32 * Math.max(1, this.M));
    this.key = new Int32Array(this.M + 1);
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
        this.segments(Wi, n, nw, hasValid);
        this.populations(base, nwP, nw64);
        if (this.masks) this.overlap(Wi, nw);
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

  private segments(Wi: number, n: number, nw: number, hasValid: readonly boolean[]): void {
    const p = this.plan;
    if (!p.segCols.length) return;
    const part = this.partial;
    const S = p.segCols.length;
    const i32 = this.i32;
    const lv = this.u8;
    const lo = this.valOff[p.labelCol]!;
    for (let j = 0; j < S; j++) {
      const c = p.segCols[j]!;
      const V = p.segSizes[j]!;
      const idx = this.segIdx[j]!;
      const tot = part.segTotals[j]!;
      const vo = this.valOff[c]! >>> 2;
      const va = hasValid[c] ? this.validOff[c]! >>> 2 : -1;
      for (let i = 0; i < n; i++) {
        const v = va >= 0 && !((i32[va + (i >>> 5)]! >>> (i & 31)) & 1) ? V : i32[vo + i]!;
        const key = v * 4 + lv[lo + i]!;
        idx[i] = key;
        if ((i32[Wi + (i >>> 5)]! >>> (i & 31)) & 1) tot[key]!++;
      }
    }
    const K = p.rules.length;
    const sb = this.slotBase >>> 2;
    for (let k = 0; k < K; k++) {
      const R = sb + p.rules[k]! * this.bw;
      for (let w = 0; w < nw; w++) {
        let y = i32[R + w]! & i32[Wi + w]!;
        const base = w << 5;
        while (y !== 0) {
          const t = y & -y;
          const i = base + (31 - Math.clz32(t));
          for (let j = 0; j < S; j++) part.segHits[j]![k * (p.segSizes[j]! + 1) * 4 + this.segIdx[j]![i]!]!++;
          y ^= t;
        }
      }
    }
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

  /** Each in-window row hit by any rule: its rule set (transposed from the rule bitmaps) into the mask table. */
  private overlap(Wi: number, nw: number): void {
    const p = this.plan;
    const K = p.rules.length;
    const M = this.M;
    const tr = this.tr;
    const rm = this.rowMasks;
    const key = this.key;
    const table = this.masks!;
    const i32 = this.i32;
    const sb = this.slotBase >>> 2;
    const bw = this.bw;
    const lv = this.u8;
    const lo = this.valOff[p.labelCol]!;
    for (let w = 0; w < nw; w++) {
      const win = i32[Wi + w]!;
      if (win === 0) continue;
      let any = 0;
      for (let g = 0; g < M; g++) {
        let nz = 0;
        for (let r = 0; r < 32; r++) {
          const k = g * 32 + r;
          const v = k < K ? i32[sb + p.rules[k]! * bw + w]! & win : 0;
          tr[31 - r] = v;
          nz |= v;
        }
        any |= nz;
        if (nz === 0) {
          for (let j = 0; j < 32; j++) rm[j * M + g] = 0;
          continue;
        }
        transpose32(tr);
        for (let j = 0; j < 32; j++) rm[j * M + g] = tr[31 - j]!;
      }
      if (any === 0) continue;
      const base = w << 5;
      let y = any;
      while (y !== 0) {
        const t = y & -y;
        const j = 31 - Math.clz32(t);
        const l = lv[lo + base + j]!;
        key[0] = l === LABEL.bot ? 0 : l === LABEL.human ? 1 : 2;
        for (let g = 0; g < M; g++) key[g + 1] = rm[j * M + g]!;
        table.add(key, 1);
        y ^= t;
      }
    }
  }

  /** Fold the mask table into the partial's overlap arrays (once, at the end). */
  finish(): Partial {
    const t = this.masks;
    if (!t) return this.partial;
    const p = this.plan;
    const K = p.rules.length;
    const M = this.M;
    const J = p.judged.reduce((a, b) => a + b, 0);
    const part = this.partial;
    const set = new Int32Array(K);
    for (let e = 0; e < t.cap; e++) {
      const n = t.counts[e]!;
      if (n === 0) continue;
      const o = e * t.kw;
      const s = t.keys[o]!;
      let len = 0;
      let na = 0;
      let nd = 0;
      let nj = 0;
      for (let g = 0; g < M; g++) {
        let m = t.keys[o + 1 + g]!;
        while (m !== 0) {
          const b = m & -m;
          const k = g * 32 + (31 - Math.clz32(b));
          set[len++] = k;
          na += p.approved[k]!;
          nd += p.deployed[k]!;
          nj += p.judged[k]!;
          m ^= b;
        }
      }
      for (let a = 0; a < len; a++) {
        const i = set[a]!;
        const row = i * K;
        for (let c = a + 1; c < len; c++) part.inter[row + set[c]!]! += n;
        if (s === 0 && (na === 0 || (na === 1 && p.approved[i]))) part.incremental[i]! += n;
        if (nd === 0 || (nd === 1 && p.deployed[i])) part.outside[i * 3 + s]! += n;
        if (s === 1 && p.judged[i]) part.fpShare[i * (J + 1) + nj]! += n;
      }
      if (nd > 0) part.base[s]! += n;
      if (nj > 0) part.all[s]! += n;
    }
    return part;
  }
}
