/**
 * The cache's layout on disk: rows appended to one bucket per day, a full bucket written out as a
 * sub-block of one day (at most SUB_ROWS rows), so that every 64-row word of a kernel block holds
 * one day. The writer of cache.ts groups each block's rows by day (dayOrder, permute) first.
 */
import { writeSync } from 'node:fs';
import { BLOCK_ROWS, pc, type Block, type ColumnData, type ColumnValues } from './compute.js';
import type { ColumnSpec } from './plan.js';
import { alloc } from './stream.js';

/** One sub-block of the cache files: first row, rows, first validity word, time range (null: no time). */
export type Sub = [start: number, rows: number, wstart: number, lo: number | null, hi: number | null];

/** Rows of one sub-block (one day's rows, at most): a multiple of 128, BLOCK_ROWS a multiple of it. */
export const SUB_ROWS = 8192;
/**
 * Open day buckets at most; past that all are written out (partial sub-blocks: smaller kernel
 * blocks). Each holds a sub-block of every cached column: at 50M sessions over 105 days, 48 open
 * buckets peaked at 360-418 MB RSS in the first run (the cache build), 24 at 361-379 MB, with the
 * warm runs' compute unchanged (3.30 s vs 3.42 s for the full breakdowns). A month of days fits.
 */
const MAX_OPEN = 24;

interface Bucket {
  n: number;
  values: ColumnValues[];
  valid: Uint32Array[];
}

/** Rows appended by day, written out as sub-blocks of one day. */
export class DayBuckets {
  private readonly open = new Map<number, Bucket>();
  private readonly pool: Bucket[] = [];
  readonly subs: Sub[] = [];
  readonly nulls: number[];
  rows = 0;
  private words = 0;
  constructor(
    private readonly specs: readonly ColumnSpec[],
    private readonly fds: readonly (readonly [number, number])[],
    private readonly timeAt: number,
  ) {
    this.nulls = specs.map(() => 0);
  }
  /** Append a block whose rows are grouped by day (`day`: the day column, NULL last). */
  append(b: Block, day: ColumnData): void {
    const key = (i: number) => (!day.valid || (day.valid[i >>> 5]! >>> (i & 31)) & 1 ? day.values[i]! : Infinity);
    let a = 0;
    while (a < b.rows) {
      const d = key(a);
      let e = a + 1;
      while (e < b.rows && key(e) === d) e++;
      this.add(d, b, a, e);
      a = e;
    }
  }
  private add(d: number, b: Block, from: number, to: number): void {
    while (from < to) {
      let bk = this.open.get(d);
      if (!bk) {
        if (this.open.size >= MAX_OPEN) this.flushAll();
        bk = this.pool.pop() ?? { n: 0, values: this.specs.map((s) => alloc(s.kind, SUB_ROWS)), valid: this.specs.map(() => new Uint32Array(SUB_ROWS / 32)) };
        this.open.set(d, bk);
      }
      const n = Math.min(to - from, SUB_ROWS - bk.n);
      const at = bk.n;
      b.cols.forEach((c, i) => {
        const dst = bk.values[i]!;
        if (dst instanceof Float64Array) dst.set((c.values as Float64Array).subarray(from, from + n), at);
        else if (dst instanceof Int32Array) dst.set((c.values as Int32Array).subarray(from, from + n), at);
        else dst.set((c.values as Uint8Array).subarray(from, from + n), at);
        copyBitsFrom(bk.valid[i]!, at, c.valid, from, n);
      });
      bk.n += n;
      from += n;
      if (bk.n === SUB_ROWS) {
        this.flush(bk);
        this.open.delete(d);
      }
    }
  }
  private flush(bk: Bucket): void {
    const n = bk.n;
    const words = Math.ceil(n / 32);
    this.specs.forEach((_, i) => {
      const [fv, fn] = this.fds[i]!;
      const v = bk.values[i]!;
      writeSync(fv, new Uint8Array(v.buffer, v.byteOffset, n * v.BYTES_PER_ELEMENT));
      writeSync(fn, new Uint8Array(bk.valid[i]!.buffer, 0, words * 4));
      this.nulls[i]! += n - countBits(bk.valid[i]!, n);
    });
    const z = this.timeAt >= 0 ? zoneOf({ values: bk.values[this.timeAt]!, valid: bk.valid[this.timeAt]! }, n) : null;
    this.subs.push([this.rows, n, this.words, z?.[0] ?? null, z?.[1] ?? null]);
    this.rows += n;
    this.words += words;
    bk.n = 0;
    for (const v of bk.valid) v.fill(0);
    this.pool.push(bk);
  }
  private flushAll(): void {
    for (const d of [...this.open.keys()].sort((x, y) => x - y)) this.flush(this.open.get(d)!);
    this.open.clear();
  }
  finish(): void {
    this.flushAll();
  }
}

/** Copy `n` validity bits of src from bit `from` (all set when src is null) to dst from bit `at`. */
function copyBitsFrom(dst: Uint32Array, at: number, src: Uint32Array | null, from: number, n: number): void {
  if (!src) {
    let i = at;
    const end = at + n;
    while (i < end && i & 31) dst[i >>> 5] = dst[i >>> 5]! | (1 << (i++ & 31));
    while (i + 32 <= end) {
      dst[i >>> 5] = -1 >>> 0;
      i += 32;
    }
    while (i < end) dst[i >>> 5] = dst[i >>> 5]! | (1 << (i++ & 31));
    return;
  }
  let j = 0;
  // bit by bit until dst is word-aligned, then 32 bits at a time (dst words are still zero here)
  for (; j < n && (at + j) & 31; j++) {
    const r = from + j;
    if ((src[r >>> 5]! >>> (r & 31)) & 1) dst[(at + j) >>> 5] = dst[(at + j) >>> 5]! | (1 << ((at + j) & 31));
  }
  for (; j + 32 <= n; j += 32) {
    const r = from + j;
    const sh = r & 31;
    const w = r >>> 5;
    dst[(at + j) >>> 5] = sh ? (src[w]! >>> sh) | (src[w + 1]! << (32 - sh)) : src[w]!;
  }
  for (; j < n; j++) {
    const r = from + j;
    if ((src[r >>> 5]! >>> (r & 31)) & 1) dst[(at + j) >>> 5] = dst[(at + j) >>> 5]! | (1 << ((at + j) & 31));
  }
}

/** The rows of a block grouped by day (NULL last), stable; null when they already are. */
export function dayOrder(c: ColumnData, rows: number): Int32Array | null {
  const v = c.values;
  const ok = (i: number) => !c.valid || ((c.valid[i >>> 5]! >>> (i & 31)) & 1) === 1;
  let lo = Infinity;
  let hi = -Infinity;
  let sorted = true;
  let prev = -Infinity;
  for (let i = 0; i < rows; i++) {
    const d = ok(i) ? v[i]! : Infinity;
    if (d < prev) sorted = false;
    prev = d;
    if (d !== Infinity) {
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
  }
  if (sorted) return null;
  const perm = new Int32Array(rows);
  if (hi - lo > 1_000_000) {
    const key = (i: number) => (ok(i) ? v[i]! : Infinity);
    const idx = Array.from({ length: rows }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
    perm.set(idx);
    return perm;
  }
  const slots = hi - lo + 2;
  const at = new Int32Array(slots + 1);
  const slot = (i: number) => (ok(i) ? v[i]! - lo : slots - 1);
  for (let i = 0; i < rows; i++) at[slot(i) + 1]!++;
  for (let k = 1; k <= slots; k++) at[k]! += at[k - 1]!;
  for (let i = 0; i < rows; i++) perm[at[slot(i)]!++] = i;
  return perm;
}

/** Column `c` with its rows in the order `perm`, in the scratch arrays of `into` (reused block after block). */
export function permute(c: ColumnData, perm: Int32Array, rows: number, into: Map<string, ColumnValues | Uint32Array>, i: number): ColumnData {
  const src = c.values;
  const scratch = <T>(key: string, make: () => T): T => {
    if (!into.has(key)) into.set(key, make() as ColumnValues);
    return into.get(key) as T;
  };
  const values = scratch(`v${i}`, () => new (src.constructor as new (n: number) => ColumnValues)(BLOCK_ROWS)).subarray(0, rows);
  // one loop per array type: each stays monomorphic
  if (src instanceof Float64Array) gather64(values as Float64Array, src, perm, rows);
  else if (src instanceof Int32Array) gather32(values as Int32Array, src, perm, rows);
  else gather8(values as Uint8Array, src, perm, rows);
  if (!c.valid) return { values, valid: null };
  const from = c.valid;
  const valid = scratch(`n${i}`, () => new Uint32Array(BLOCK_ROWS / 32)).subarray(0, Math.ceil(rows / 32));
  valid.fill(0);
  for (let j = 0; j < rows; j++) {
    const i = perm[j]!;
    if ((from[i >>> 5]! >>> (i & 31)) & 1) valid[j >>> 5] = valid[j >>> 5]! | (1 << (j & 31));
  }
  return { values, valid };
}

function gather64(dst: Float64Array, src: Float64Array, perm: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[j] = src[perm[j]!]!;
}
function gather32(dst: Int32Array, src: Int32Array, perm: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[j] = src[perm[j]!]!;
}
function gather8(dst: Uint8Array, src: Uint8Array, perm: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[j] = src[perm[j]!]!;
}

function zoneOf(c: ColumnData, rows: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  const v = c.values;
  for (let i = 0; i < rows; i++) {
    if (c.valid && !((c.valid[i >>> 5]! >>> (i & 31)) & 1)) continue;
    const x = v[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : null;
}

function countBits(v: Uint32Array, rows: number): number {
  let n = 0;
  const full = rows >>> 5;
  for (let w = 0; w < full; w++) n += pc(v[w]!);
  for (let i = full << 5; i < rows; i++) n += (v[i >>> 5]! >>> (i & 31)) & 1;
  return n;
}
