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
import type { AtomSpec, ColumnKind, Instr } from './plan.js';

/** Rows per block; 65,536 measured best for streaming from DuckDB (issue 13). */
export const BLOCK_ROWS = 65_536;
const BLOCK_WORDS = BLOCK_ROWS / 32;

/** Label codes in the label column: 0 human, 1 bot, 2 NULL, 3 any other value. */
export const LABEL = { human: 0, bot: 1, none: 2, other: 3 } as const;

export type ColumnValues = Float64Array | Int32Array | Uint8Array;
/** One column of a block: values and a validity bitmap (`null` = no NULL in the block). */
export interface ColumnData {
  values: ColumnValues;
  valid: Uint32Array | null;
}
export interface Block {
  rows: number;
  cols: ColumnData[];
}

/** A time window over the time column's epoch microseconds: `ge`/`lt` the cutoff, or every row. */
export interface SideSpec {
  kind: 'all' | 'ge' | 'lt';
  cutoff: number;
}

/** Everything a worker needs; structured-clonable. */
export interface KernelPlan {
  kinds: ColumnKind[];
  atoms: AtomSpec[];
  program: Instr[];
  slots: number;
  /** Root slot per rule (K) and per population (P). */
  rules: number[];
  pops: number[];
  labelCol: number;
  timeCol: number;
  /** -1 without the daily breakdown. */
  dayCol: number;
  minDay: number;
  nDays: number;
  segCols: number[];
  /** Dictionary size of each segment column (codes 0..size-1; NULL is slot `size`). */
  segSizes: number[];
  /** Side 0: the judged window; side 1: the train window (or null). */
  window: SideSpec;
  train: SideSpec | null;
  overlap: boolean;
  approved: Uint8Array;
  deployed: Uint8Array;
  judged: Uint8Array;
}

/** Additive results: plain typed arrays, summed across blocks and threads. */
export interface Partial {
  /** rows per (side, day slot, label): index (side * DS + d) * 4 + label. */
  groups: Float64Array;
  /** hits per rule: k * (2 * DS * 4) + the groups index. */
  ruleGroups: Float64Array;
  segTotals: Float64Array[];
  segHits: Float64Array[];
  popTotals: Float64Array;
  popHits: Float64Array;
  inter: Float64Array;
  incremental: Float64Array;
  outside: Float64Array;
  /** FP rows hit by judged rule i while m judged rules hit it: i * (J + 1) + m. */
  fpShare: Float64Array;
  base: Float64Array;
  all: Float64Array;
}

export function daySlots(p: KernelPlan): number {
  return p.dayCol >= 0 ? p.nDays + 1 : 1;
}

export function emptyPartial(p: KernelPlan): Partial {
  const K = p.rules.length;
  const DS = daySlots(p);
  const J = p.judged.reduce((a, b) => a + b, 0);
  const ov = p.overlap ? K : 0;
  return {
    groups: new Float64Array(2 * DS * 4),
    ruleGroups: new Float64Array(K * 2 * DS * 4),
    segTotals: p.segSizes.map((v) => new Float64Array((v + 1) * 4)),
    segHits: p.segSizes.map((v) => new Float64Array(K * (v + 1) * 4)),
    popTotals: new Float64Array(p.pops.length * 4),
    popHits: new Float64Array(K * p.pops.length * 4),
    inter: new Float64Array(ov * ov),
    incremental: new Float64Array(ov),
    outside: new Float64Array(ov * 3),
    fpShare: new Float64Array(ov * (J + 1)),
    base: new Float64Array(3),
    all: new Float64Array(3),
  };
}

export function addPartial(into: Partial, p: Partial): void {
  const add = (a: Float64Array, b: Float64Array) => {
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
  };
  add(into.groups, p.groups);
  add(into.ruleGroups, p.ruleGroups);
  into.segTotals.forEach((a, j) => add(a, p.segTotals[j]!));
  into.segHits.forEach((a, j) => add(a, p.segHits[j]!));
  add(into.popTotals, p.popTotals);
  add(into.popHits, p.popHits);
  add(into.inter, p.inter);
  add(into.incremental, p.incremental);
  add(into.outside, p.outside);
  add(into.fpShare, p.fpShare);
  add(into.base, p.base);
  add(into.all, p.all);
}

/** Population count of a 32-bit word. */
export function pc(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Transpose a 32x32 bit matrix in place (Hacker's Delight, transpose32b). With A[31 - r] = the
 * word of rule r, afterwards A[31 - j] holds row j's rules (bit r = rule r hit row j).
 */
export function transpose32(A: Int32Array): void {
  let m = 0x0000ffff;
  for (let j = 16; j !== 0; j >>>= 1, m = m ^ (m << j)) {
    for (let k = 0; k < 32; k = (k + j + 1) & ~j) {
      const t = (A[k]! ^ (A[k + j]! >>> j)) & m;
      A[k] = A[k]! ^ t;
      A[k + j] = A[k + j]! ^ (t << j);
    }
  }
}

/** Open-addressing counts of distinct (label slot, rule hit mask) keys: the mask grouping of the SQL engine. */
class MaskTable {
  cap = 1024;
  size = 0;
  keys: Int32Array;
  counts: Float64Array;
  constructor(readonly kw: number) {
    this.keys = new Int32Array(this.cap * kw);
    this.counts = new Float64Array(this.cap);
  }
  private static hash(k: Int32Array, o: number, kw: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < kw; i++) h = Math.imul(h ^ k[o + i]!, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  }
  add(key: Int32Array, n: number): void {
    if (this.size * 2 >= this.cap) this.grow();
    this.put(key, 0, n);
  }
  private put(key: Int32Array, ko: number, n: number): void {
    const kw = this.kw;
    const mask = this.cap - 1;
    let i = MaskTable.hash(key, ko, kw) & mask;
    for (;;) {
      const c = this.counts[i]!;
      const o = i * kw;
      if (c === 0) {
        for (let x = 0; x < kw; x++) this.keys[o + x] = key[ko + x]!;
        this.counts[i] = n;
        this.size++;
        return;
      }
      let same = true;
      for (let x = 0; x < kw; x++) {
        if (this.keys[o + x] !== key[ko + x]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.counts[i] = c + n;
        return;
      }
      i = (i + 1) & mask;
    }
  }
  private grow(): void {
    const { keys, counts, cap, kw } = this;
    this.cap = cap * 2;
    this.keys = new Int32Array(this.cap * kw);
    this.counts = new Float64Array(this.cap);
    this.size = 0;
    for (let i = 0; i < cap; i++) if (counts[i]! > 0) this.put(keys, i * kw, counts[i]!);
  }
}

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

function flush(a: Float64Array, o: number, c0: number, c1: number, c2: number, ct: number): void {
  a[o]! += c0;
  a[o + 1]! += c1;
  a[o + 2]! += c2;
  a[o + 3]! += ct - c0 - c1 - c2;
}

/** The rows of a window: time not NULL and on the right side of the cutoff, or every row. */
function sideBits(spec: SideSpec, t: ColumnData, W: Int32Array, n: number, nw: number, tail: number): void {
  if (spec.kind === 'all') {
    W.fill(-1, 0, nw);
    W[nw - 1] = tail;
    return;
  }
  const v = t.values;
  const c = spec.cutoff;
  const ge = spec.kind === 'ge';
  for (let w = 0; w < nw; w++) {
    const base = w << 5;
    const end = Math.min(32, n - base);
    let bits = 0;
    for (let j = 0; j < end; j++) {
      const x = v[base + j]!;
      bits |= (ge ? x >= c : x < c) ? 1 << j : 0;
    }
    W[w] = t.valid ? bits & t.valid[w]! : bits;
  }
}

/** One atom's bitmap into bm[o .. o + nw). NULL rows are cleared by the validity words. */
function evalAtom(a: AtomSpec, c: ColumnData, bm: Int32Array, o: number, n: number, nw: number, tail: number): void {
  const v = c.values;
  const valid = c.valid;
  switch (a.t) {
    case 'null': {
      for (let w = 0; w < nw; w++) bm[o + w] = valid ? (a.negated ? valid[w]! : ~valid[w]!) : a.negated ? -1 : 0;
      break;
    }
    case 'cmp': {
      const t = a.v;
      // one loop per operator: the comparison stays monomorphic in the hot loop
      switch (a.op) {
        case 0:
          for (let w = 0; w < nw; w++) {
            const base = w << 5;
            const end = Math.min(32, n - base);
            let bits = 0;
            for (let j = 0; j < end; j++) bits |= v[base + j]! < t ? 1 << j : 0;
            bm[o + w] = bits;
          }
          break;
        case 1:
          for (let w = 0; w < nw; w++) {
            const base = w << 5;
            const end = Math.min(32, n - base);
            let bits = 0;
            for (let j = 0; j < end; j++) bits |= v[base + j]! <= t ? 1 << j : 0;
            bm[o + w] = bits;
          }
          break;
        case 2:
          for (let w = 0; w < nw; w++) {
            const base = w << 5;
            const end = Math.min(32, n - base);
            let bits = 0;
            for (let j = 0; j < end; j++) bits |= v[base + j]! > t ? 1 << j : 0;
            bm[o + w] = bits;
          }
          break;
        case 3:
          for (let w = 0; w < nw; w++) {
            const base = w << 5;
            const end = Math.min(32, n - base);
            let bits = 0;
            for (let j = 0; j < end; j++) bits |= v[base + j]! >= t ? 1 << j : 0;
            bm[o + w] = bits;
          }
          break;
        case 4:
          for (let w = 0; w < nw; w++) {
            const base = w << 5;
            const end = Math.min(32, n - base);
            let bits = 0;
            for (let j = 0; j < end; j++) bits |= v[base + j]! === t ? 1 << j : 0;
            bm[o + w] = bits;
          }
          break;
        default:
          for (let w = 0; w < nw; w++) {
            const base = w << 5;
            const end = Math.min(32, n - base);
            let bits = 0;
            for (let j = 0; j < end; j++) bits |= v[base + j]! !== t ? 1 << j : 0;
            bm[o + w] = bits;
          }
      }
      break;
    }
    case 'between': {
      const lo = a.lo;
      const hi = a.hi;
      for (let w = 0; w < nw; w++) {
        const base = w << 5;
        const end = Math.min(32, n - base);
        let bits = 0;
        for (let j = 0; j < end; j++) {
          const x = v[base + j]!;
          bits |= x >= lo && x <= hi ? 1 << j : 0;
        }
        bm[o + w] = bits;
      }
      break;
    }
    case 'in': {
      const vals = a.values;
      const neg = a.negated;
      for (let w = 0; w < nw; w++) {
        const base = w << 5;
        const end = Math.min(32, n - base);
        let bits = 0;
        for (let j = 0; j < end; j++) {
          const x = v[base + j]!;
          let hit = false;
          for (let q = 0; q < vals.length; q++) if (x === vals[q]) hit = true;
          bits |= hit !== neg ? 1 << j : 0;
        }
        bm[o + w] = bits;
      }
      break;
    }
    case 'lut': {
      const lut = a.lut;
      for (let w = 0; w < nw; w++) {
        const base = w << 5;
        const end = Math.min(32, n - base);
        let bits = 0;
        for (let j = 0; j < end; j++) {
          const x = v[base + j]!;
          // NULL rows may hold any code (masked below); keep the lookup in range
          bits |= x >= 0 && x < lut.length && lut[x] ? 1 << j : 0;
        }
        bm[o + w] = bits;
      }
      break;
    }
  }
  if (valid && a.t !== 'null') for (let w = 0; w < nw; w++) bm[o + w] = bm[o + w]! & valid[w]!;
  bm[o + nw - 1] = bm[o + nw - 1]! & tail;
}
