/**
 * The kernel's inner loop, shared by the worker threads and the in-thread (plain JS) path: one
 * block of rows (typed columns) in, additive counts out. Per block: one bitmap (Uint32 words,
 * bit i = row i) per distinct atom, one per rule or population node, then popcounts split by
 * label, per (window side, day), per segment value and per population, and the rules' hit sets
 * for overlap, incremental recall and set metrics, all from the same bitmaps.
 *
 * Everything here is additive over blocks, so blocks may be split between threads in any way
 * and the partial results summed. Nothing imports node modules: the worker loads this file too.
 */
import { BLOCK_ROWS, BLOCK_WORDS, daySlots, emptyPartial, LABEL, type Block, type ColumnValues, type KernelPlan, type Partial } from './block.js';
import { flush, MaskTable, pc, transpose32 } from './bits.js';
import { evalAtom, sideBits } from './atoms.js';

export { addPartial, BLOCK_ROWS, daySlots, emptyPartial, LABEL } from './block.js';
export type { Block, ColumnData, ColumnValues, KernelPlan, Partial, SideSpec } from './block.js';
export { pc, transpose32 } from './bits.js';

/** Per-thread state: scratch bitmaps reused across blocks, the running partial, the mask table. */
export class KernelState {
  readonly partial: Partial;
  private readonly bm: Int32Array;
  private readonly side: Int32Array[];
  private readonly lab: Int32Array[];
  private readonly dIdx: Int32Array;
  private readonly wordDay: Int32Array;
  private readonly segIdx: Int32Array[];
  private readonly masks: MaskTable | null;
  private readonly tr = new Int32Array(32);
  private readonly rowMasks: Int32Array;
  private readonly key: Int32Array;
  private readonly M: number;

  constructor(readonly plan: KernelPlan) {
    this.partial = emptyPartial(plan);
    this.bm = new Int32Array(plan.slots * BLOCK_WORDS);
    this.side = [new Int32Array(BLOCK_WORDS), new Int32Array(BLOCK_WORDS)];
    this.lab = [0, 1, 2, 3].map(() => new Int32Array(BLOCK_WORDS));
    this.dIdx = new Int32Array(BLOCK_ROWS);
    this.wordDay = new Int32Array(BLOCK_WORDS);
    this.segIdx = plan.segCols.map(() => new Int32Array(BLOCK_ROWS));
    this.M = Math.ceil(plan.rules.length / 32);
    this.masks = plan.overlap && plan.rules.length ? new MaskTable(this.M + 1) : null;
    this.rowMasks = new Int32Array(32 * Math.max(1, this.M));
    this.key = new Int32Array(this.M + 1);
  }

  /** Evaluate and count one block. */
  process(b: Block): void {
    const p = this.plan;
    const n = b.rows;
    if (n === 0) return;
    const nw = (n + 31) >>> 5;
    const tail = n & 31 ? (1 << (n & 31)) - 1 : -1;
    const bm = this.bm;
    // 1. atoms
    p.atoms.forEach((a, s) => evalAtom(a, b.cols[a.col]!, bm, s * BLOCK_WORDS, n, nw, tail));
    // 2. rule programs
    for (const ins of p.program) {
      const o = ins.out * BLOCK_WORDS;
      const first = ins.ins[0]! * BLOCK_WORDS;
      if (ins.op === 'not') {
        for (let w = 0; w < nw; w++) bm[o + w] = ~bm[first + w]!;
        bm[o + nw - 1] = bm[o + nw - 1]! & tail;
      } else {
        for (let w = 0; w < nw; w++) bm[o + w] = bm[first + w]!;
        for (let q = 1; q < ins.ins.length; q++) {
          const src = ins.ins[q]! * BLOCK_WORDS;
          if (ins.op === 'and') for (let w = 0; w < nw; w++) bm[o + w] = bm[o + w]! & bm[src + w]!;
          else for (let w = 0; w < nw; w++) bm[o + w] = bm[o + w]! | bm[src + w]!;
        }
      }
    }
    // 3. labels
    const lv = b.cols[p.labelCol]!.values;
    for (let l = 0; l < 4; l++) this.lab[l]!.fill(0, 0, nw);
    for (let i = 0; i < n; i++) {
      const L = this.lab[lv[i]!]!;
      L[i >>> 5] = L[i >>> 5]! | (1 << (i & 31));
    }
    const DS = daySlots(p);
    const K = p.rules.length;
    const part = this.partial;
    const tcol = b.cols[p.timeCol]!;
    const dcol = p.dayCol >= 0 ? b.cols[p.dayCol]! : null;
    for (let s = 0; s < 2; s++) {
      const spec = s === 0 ? p.window : p.train;
      if (!spec) continue;
      const W = this.side[s]!;
      sideBits(spec, tcol, W, n, nw, tail);
      // day slot per row, and per word the one slot all its in-window rows share (or -1)
      const dIdx = this.dIdx;
      const wordDay = this.wordDay;
      const dv = dcol?.values;
      const dval = dcol?.valid ?? null;
      for (let w = 0; w < nw; w++) {
        const bits = W[w]!;
        let uniform = -2;
        const base = w << 5;
        const end = Math.min(32, n - base);
        for (let j = 0; j < end; j++) {
          const i = base + j;
          const d = !dv ? 0 : dval && !((dval[w]! >>> j) & 1) ? p.nDays : dv[i]! - p.minDay;
          dIdx[i] = d;
          if ((bits >>> j) & 1) {
            const g = s * DS + d;
            part.groups[g * 4 + lv[i]!]!++;
            uniform = uniform === -2 ? d : uniform === d ? d : -1;
          }
        }
        wordDay[w] = uniform;
      }
      // per rule: hits by (side, day slot, label); popcounts where a word is one day, else row by row
      for (let k = 0; k < K; k++) {
        const R = p.rules[k]! * BLOCK_WORDS;
        const off = k * 2 * DS * 4;
        let cur = -1;
        let c0 = 0;
        let c1 = 0;
        let c2 = 0;
        let ct = 0;
        for (let w = 0; w < nw; w++) {
          const x = bm[R + w]! & W[w]!;
          if (x === 0) continue;
          const d = wordDay[w]!;
          if (d >= 0) {
            if (d !== cur) {
              if (cur >= 0) flush(part.ruleGroups, off + (s * DS + cur) * 4, c0, c1, c2, ct);
              cur = d;
              c0 = c1 = c2 = ct = 0;
            }
            c0 += pc(x & this.lab[0]![w]!);
            c1 += pc(x & this.lab[1]![w]!);
            c2 += pc(x & this.lab[2]![w]!);
            ct += pc(x);
          } else {
            let y = x;
            const base = w << 5;
            while (y !== 0) {
              const t = y & -y;
              const i = base + (31 - Math.clz32(t));
              part.ruleGroups[off + (s * DS + dIdx[i]!) * 4 + lv[i]!]!++;
              y ^= t;
            }
          }
        }
        if (cur >= 0) flush(part.ruleGroups, off + (s * DS + cur) * 4, c0, c1, c2, ct);
      }
      if (s === 0) {
        this.segments(b, W, lv, n, nw, bm);
        this.populations(W, nw, bm);
        if (this.masks) this.overlap(W, lv, nw, bm);
      }
    }
  }

  private segments(b: Block, W: Int32Array, lv: ColumnValues, n: number, nw: number, bm: Int32Array): void {
    const p = this.plan;
    if (!p.segCols.length) return;
    const part = this.partial;
    const S = p.segCols.length;
    for (let j = 0; j < S; j++) {
      const c = b.cols[p.segCols[j]!]!;
      const V = p.segSizes[j]!;
      const idx = this.segIdx[j]!;
      const tot = part.segTotals[j]!;
      for (let i = 0; i < n; i++) {
        const v = c.valid && !((c.valid[i >>> 5]! >>> (i & 31)) & 1) ? V : c.values[i]!;
        const key = v * 4 + lv[i]!;
        idx[i] = key;
        if ((W[i >>> 5]! >>> (i & 31)) & 1) tot[key]!++;
      }
    }
    const K = p.rules.length;
    for (let k = 0; k < K; k++) {
      const R = p.rules[k]! * BLOCK_WORDS;
      for (let w = 0; w < nw; w++) {
        let y = bm[R + w]! & W[w]!;
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

  private populations(W: Int32Array, nw: number, bm: Int32Array): void {
    const p = this.plan;
    const P = p.pops.length;
    if (!P) return;
    const part = this.partial;
    const L = this.lab;
    for (let q = 0; q < P; q++) {
      const Q = p.pops[q]! * BLOCK_WORDS;
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let ct = 0;
      for (let w = 0; w < nw; w++) {
        const x = bm[Q + w]! & W[w]!;
        if (x === 0) continue;
        c0 += pc(x & L[0]![w]!);
        c1 += pc(x & L[1]![w]!);
        c2 += pc(x & L[2]![w]!);
        ct += pc(x);
      }
      flush(part.popTotals, q * 4, c0, c1, c2, ct);
      for (let k = 0; k < p.rules.length; k++) {
        const R = p.rules[k]! * BLOCK_WORDS;
        c0 = c1 = c2 = ct = 0;
        for (let w = 0; w < nw; w++) {
          const x = bm[Q + w]! & bm[R + w]! & W[w]!;
          if (x === 0) continue;
          c0 += pc(x & L[0]![w]!);
          c1 += pc(x & L[1]![w]!);
          c2 += pc(x & L[2]![w]!);
          ct += pc(x);
        }
        flush(part.popHits, (k * P + q) * 4, c0, c1, c2, ct);
      }
    }
  }

  /** Each in-window row hit by any rule: its rule set (transposed from the rule bitmaps) into the mask table. */
  private overlap(W: Int32Array, lv: ColumnValues, nw: number, bm: Int32Array): void {
    const p = this.plan;
    const K = p.rules.length;
    const M = this.M;
    const tr = this.tr;
    const rm = this.rowMasks;
    const key = this.key;
    const table = this.masks!;
    for (let w = 0; w < nw; w++) {
      const win = W[w]!;
      if (win === 0) continue;
      let any = 0;
      for (let g = 0; g < M; g++) {
        let nz = 0;
        for (let r = 0; r < 32; r++) {
          const k = g * 32 + r;
          const v = k < K ? bm[p.rules[k]! * BLOCK_WORDS + w]! & win : 0;
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
        const l = lv[base + j]!;
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
