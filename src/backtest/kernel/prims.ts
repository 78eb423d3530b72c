/**
 * The kernel's bitmap primitives over one thread's memory (byte offsets, 16-byte aligned): the
 * WebAssembly SIMD loops of wasm.ts, or the same loops in plain JS (always available; chosen by
 * `simd: false` or RULEGEN_KERNEL_SIMD=0). Both write identical bits, so everything above them
 * (counts, breakdowns) is shared. Callers process whole 128-row groups: `nw` (32-bit words) is a
 * multiple of 4; bits past the block's rows are garbage and are masked by the window bitmap.
 */
import { pc } from './bits.js';
import { instantiate, simdModule, type SimdExports } from './wasm.js';

export interface Prims {
  readonly simd: boolean;
  readonly buffer: ArrayBuffer;
  /** Words of `op` (plan.OPS; 6 = between t and t2) over float64 rows: nw words from src to dst. */
  cmpF64(op: number, src: number, dst: number, nw: number, t: number, t2: number): void;
  /** Words of `x = v` over uint8 rows. */
  eqU8(src: number, dst: number, nw: number, v: number): void;
  /** Words of `lut[x]` over int32 codes; lut is 16 bytes (0xff true) at `lut`; codes outside 0..15 are false. */
  lutI32(src: number, dst: number, nw: number, lut: number): void;
  and(dst: number, a: number, b: number, nw: number): void;
  or(dst: number, a: number, b: number, nw: number): void;
  /** dst = a & ~b */
  andNot(dst: number, a: number, b: number, nw: number): void;
  not(dst: number, a: number, nw: number): void;
  /**
   * For each of `k` bitmaps (byte offsets as int32 at `list`): popcounts of bitmap & mask j over
   * 64-bit words [w0, w1), mask j at m + j * stride (j = 0..3), written as int32 at out + 16 i + 4 j.
   */
  count(list: number, k: number, m: number, stride: number, w0: number, w1: number, out: number): void;
}

class SimdPrims implements Prims {
  readonly simd = true;
  readonly buffer: ArrayBuffer;
  private readonly e: SimdExports;
  constructor(mod: WebAssembly.Module, bytes: number) {
    const mem = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    this.buffer = mem.buffer;
    this.e = instantiate(mod, mem);
  }
  cmpF64(op: number, src: number, dst: number, nw: number, t: number, t2: number): void {
    this.e.cmp[op]!(src, dst, nw, t, t2);
  }
  eqU8(src: number, dst: number, nw: number, v: number): void {
    this.e.eq_u8(src, dst, nw, v);
  }
  lutI32(src: number, dst: number, nw: number, lut: number): void {
    this.e.lut_i32(src, dst, nw, lut);
  }
  and(dst: number, a: number, b: number, nw: number): void {
    this.e.and(dst, a, b, nw * 4);
  }
  or(dst: number, a: number, b: number, nw: number): void {
    this.e.or(dst, a, b, nw * 4);
  }
  andNot(dst: number, a: number, b: number, nw: number): void {
    this.e.andnot(dst, a, b, nw * 4);
  }
  not(dst: number, a: number, nw: number): void {
    this.e.not(dst, a, nw * 4);
  }
  count(list: number, k: number, m: number, stride: number, w0: number, w1: number, out: number): void {
    this.e.count(list, k, m, stride, w0, w1, out);
  }
}

class JsPrims implements Prims {
  readonly simd = false;
  readonly buffer: ArrayBuffer;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(Math.ceil(bytes / 65536) * 65536);
    this.f64 = new Float64Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
  }
  cmpF64(op: number, src: number, dst: number, nw: number, t: number, t2: number): void {
    const v = this.f64;
    const out = this.i32;
    const s = src >>> 3;
    const d = dst >>> 2;
    // one loop per operator: the comparison stays monomorphic in the hot loop
    switch (op) {
      case 0:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) bits |= +(v[b + j]! < t) << j;
          out[d + w] = bits;
        }
        break;
      case 1:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) bits |= +(v[b + j]! <= t) << j;
          out[d + w] = bits;
        }
        break;
      case 2:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) bits |= +(v[b + j]! > t) << j;
          out[d + w] = bits;
        }
        break;
      case 3:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) bits |= +(v[b + j]! >= t) << j;
          out[d + w] = bits;
        }
        break;
      case 4:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) bits |= +(v[b + j]! === t) << j;
          out[d + w] = bits;
        }
        break;
      case 5:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) bits |= +(v[b + j]! !== t) << j;
          out[d + w] = bits;
        }
        break;
      default:
        for (let w = 0; w < nw; w++) {
          let bits = 0;
          const b = s + (w << 5);
          for (let j = 0; j < 32; j++) {
            const x = v[b + j]!;
            bits |= +(x >= t && x <= t2) << j;
          }
          out[d + w] = bits;
        }
    }
  }
  eqU8(src: number, dst: number, nw: number, v: number): void {
    const u = this.u8;
    const out = this.i32;
    const d = dst >>> 2;
    for (let w = 0; w < nw; w++) {
      let bits = 0;
      const b = src + (w << 5);
      for (let j = 0; j < 32; j++) bits |= +(u[b + j] === v) << j;
      out[d + w] = bits;
    }
  }
  lutI32(src: number, dst: number, nw: number, lut: number): void {
    const c = this.i32;
    const u = this.u8;
    let mask = 0;
    for (let i = 0; i < 16; i++) if (u[lut + i]) mask |= 1 << i;
    const s = src >>> 2;
    const d = dst >>> 2;
    for (let w = 0; w < nw; w++) {
      let bits = 0;
      const b = s + (w << 5);
      for (let j = 0; j < 32; j++) {
        const x = c[b + j]!;
        bits |= (x >>> 0 < 16 ? (mask >>> x) & 1 : 0) << j;
      }
      c[d + w] = bits;
    }
  }
  and(dst: number, a: number, b: number, nw: number): void {
    const m = this.i32;
    const [d, x, y] = [dst >>> 2, a >>> 2, b >>> 2];
    for (let w = 0; w < nw; w++) m[d + w] = m[x + w]! & m[y + w]!;
  }
  or(dst: number, a: number, b: number, nw: number): void {
    const m = this.i32;
    const [d, x, y] = [dst >>> 2, a >>> 2, b >>> 2];
    for (let w = 0; w < nw; w++) m[d + w] = m[x + w]! | m[y + w]!;
  }
  andNot(dst: number, a: number, b: number, nw: number): void {
    const m = this.i32;
    const [d, x, y] = [dst >>> 2, a >>> 2, b >>> 2];
    for (let w = 0; w < nw; w++) m[d + w] = m[x + w]! & ~m[y + w]!;
  }
  not(dst: number, a: number, nw: number): void {
    const m = this.i32;
    const [d, x] = [dst >>> 2, a >>> 2];
    for (let w = 0; w < nw; w++) m[d + w] = ~m[x + w]!;
  }
  count(list: number, k: number, m: number, stride: number, w0: number, w1: number, out: number): void {
    const a = this.i32;
    const s = stride >>> 2;
    const m0 = m >>> 2;
    for (let i = 0; i < k; i++) {
      const r = a[(list >>> 2) + i]! >>> 2;
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (let w = w0 * 2; w < w1 * 2; w++) {
        const x = a[r + w]!;
        if (x === 0) continue;
        c0 += pc(x & a[m0 + w]!);
        c1 += pc(x & a[m0 + s + w]!);
        c2 += pc(x & a[m0 + 2 * s + w]!);
        c3 += pc(x & a[m0 + 3 * s + w]!);
      }
      const o = (out >>> 2) + 4 * i;
      a[o] = c0;
      a[o + 1] = c1;
      a[o + 2] = c2;
      a[o + 3] = c3;
    }
  }
}

/** Whether to use WebAssembly SIMD: the option, else RULEGEN_KERNEL_SIMD (0 = plain JS), else where available. */
export function wantSimd(opt?: boolean): boolean {
  if (opt !== undefined) return opt && simdModule() !== null;
  const env = process.env['RULEGEN_KERNEL_SIMD'];
  if (env === '0' || env === 'false') return false;
  return simdModule() !== null;
}

/** Primitives over a fresh memory of at least `bytes` bytes. */
export function makePrims(simd: boolean, bytes: number): Prims {
  const mod = simd ? simdModule() : null;
  return mod ? new SimdPrims(mod, bytes) : new JsPrims(bytes);
}
