/** Bit-level helpers of the kernel's inner loop: popcount, 32x32 transpose, counters. */

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
