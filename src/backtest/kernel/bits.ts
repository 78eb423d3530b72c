/** Bit-level helpers of the kernel's inner loop: popcount, 32x32 transpose, counters, the mask table. */

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

/** Add one run of popcounts to the four label slots at `o`: human, bot, NULL, and the rest of `ct` (other labels). */
export function flush(a: Float64Array, o: number, c0: number, c1: number, c2: number, ct: number): void {
  a[o]! += c0;
  a[o + 1]! += c1;
  a[o + 2]! += c2;
  a[o + 3]! += ct - c0 - c1 - c2;
}

/** Open-addressing counts of distinct (label slot, rule hit mask) keys: the mask grouping of the SQL engine. */
export class MaskTable {
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
