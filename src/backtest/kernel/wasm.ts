/**
 * The kernel's WebAssembly SIMD loops, encoded here as bytes (no toolchain: a few dozen opcodes
 * of the core and SIMD instruction sets, assembled when the module loads, ~2 KB). Each function
 * works on the thread's linear memory (imported as env.mem) at byte offsets the caller lays out:
 *
 *   cmp_f64_<op>(src, dst, n32, t, t2)   32 float64 rows -> one 32-bit word per step (op 6: t <= x <= t2)
 *   eq_u8(src, dst, n32, v)              32 uint8 rows (label codes, booleans) -> one word: x = v
 *   lut_i32(src, dst, n32, lut)          32 int32 codes -> one word: lut byte [code] (16-entry table, 0xff = true)
 *   and / or / andnot (dst, a, b, nbytes), not (dst, a, nbytes)   bitmaps, 16 bytes per step
 *   count(list, k, m, stride, w0, w1, out)  for each of k bitmaps (offsets at list), popcounts of
 *                                         bitmap & mask j over 64-bit words [w0, w1), j = 0..3 at m + j * stride
 *
 * Row i is bit i & 31 of word i >> 5 (little-endian words): the bit order of the JS path.
 */

const u32 = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const s32 = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const str = (s: string) => [...u32(s.length), ...Buffer.from(s, 'latin1')];
const vec = (items: number[][]) => [...u32(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body];

const I32 = 0x7f;
const I64 = 0x7e;
const F64 = 0x7c;
const V128 = 0x7b;

/** A function body under construction: locals after the parameters, then instructions. */
class Body {
  readonly b: number[] = [];
  constructor(readonly locals: number[]) {}
  get = (i: number) => this.op(0x20, ...u32(i));
  set = (i: number) => this.op(0x21, ...u32(i));
  tee = (i: number) => this.op(0x22, ...u32(i));
  i32 = (v: number) => this.op(0x41, ...s32(v));
  op(...bytes: number[]): this {
    this.b.push(...bytes);
    return this;
  }
  simd(code: number, ...imm: number[]): this {
    return this.op(0xfd, ...u32(code), ...imm);
  }
  /** v128.load from the address on the stack + off. */
  load(off: number): this {
    return this.simd(0x00, 0, ...u32(off));
  }
  /** local += delta (i32). */
  add(l: number, delta: number): this {
    return this.get(l).i32(delta).op(0x6a).set(l);
  }
  encode(): number[] {
    const groups = this.locals.map((t) => [1, t]);
    const body = [...vec(groups), ...this.b, 0x0b];
    return [...u32(body.length), ...body];
  }
}

const SHUF_PAIR = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const F64_OPS = [0x49, 0x4b, 0x4a, 0x4c, 0x47, 0x48]; // lt le gt ge eq ne, in the order of plan.OPS

/** The loop frame: `block loop (exit when n32 = 0) <step> n32 -= 1 br 0 end end`. */
function loop32(f: Body, n32: number, step: () => void): void {
  f.op(0x02, 0x40, 0x03, 0x40);
  f.get(n32).op(0x45, 0x0d, 1);
  step();
  f.add(n32, -1).op(0x0c, 0, 0x0b, 0x0b);
}

function cmpF64(op: number): Body {
  // params: src 0, dst 1, n32 2, t 3, t2 4; locals: tv 5, tv2 6, x 7
  const f = new Body([V128, V128, V128]);
  f.get(3).simd(0x14).set(5).get(4).simd(0x14).set(6);
  const cmp = (off: number) => {
    f.get(0).load(off);
    if (op === 6) f.tee(7).get(5).simd(0x4c).get(7).get(6).simd(0x4b).simd(0x4e);
    else f.get(5).simd(F64_OPS[op]!);
  };
  const pair = (o: number) => {
    cmp(o);
    cmp(o + 16);
    f.simd(0x0d, ...SHUF_PAIR);
  };
  const quad = (o: number) => {
    pair(o);
    pair(o + 32);
    f.simd(0x85); // i16x8.narrow_i32x4_s
  };
  const half = (o: number) => {
    quad(o);
    quad(o + 64);
    f.simd(0x65).simd(0x64); // i8x16.narrow_i16x8_s, i8x16.bitmask
  };
  loop32(f, 2, () => {
    f.get(1);
    half(0);
    half(128);
    f.i32(16).op(0x74, 0x72); // shl, or
    f.op(0x36, 2, 0); // i32.store
    f.add(0, 256).add(1, 4);
  });
  return f;
}

function eqU8(): Body {
  // params: src 0, dst 1, n32 2, v 3; locals: vv 4
  const f = new Body([V128]);
  f.get(3).simd(0x0f).set(4);
  loop32(f, 2, () => {
    f.get(1);
    f.get(0).load(0).get(4).simd(0x23).simd(0x64);
    f.get(0).load(16).get(4).simd(0x23).simd(0x64);
    f.i32(16).op(0x74, 0x72).op(0x36, 2, 0);
    f.add(0, 32).add(1, 4);
  });
  return f;
}

function lutI32(): Body {
  // params: src 0, dst 1, n32 2, lut 3; locals: tab 4
  const f = new Body([V128]);
  f.get(3).load(0).set(4);
  const half = (o: number) => {
    f.get(4);
    f.get(0)
      .load(o)
      .get(0)
      .load(o + 16)
      .simd(0x85);
    f.get(0)
      .load(o + 32)
      .get(0)
      .load(o + 48)
      .simd(0x85);
    f.simd(0x65).simd(0x0e).simd(0x64); // narrow to bytes, swizzle, bitmask
  };
  loop32(f, 2, () => {
    f.get(1);
    half(0);
    half(64);
    f.i32(16).op(0x74, 0x72).op(0x36, 2, 0);
    f.add(0, 128).add(1, 4);
  });
  return f;
}

/** dst = a op b (or op a), 16 bytes per step; params dst 0, a 1, b 2, nbytes 3 (unary: dst 0, a 1, nbytes 2). */
function bitwise(code: number, unary: boolean): Body {
  const f = new Body([]);
  const n = unary ? 2 : 3;
  f.op(0x02, 0x40, 0x03, 0x40);
  f.get(n).i32(0).op(0x4c, 0x0d, 1); // i32.le_s: n <= 0 -> exit
  f.get(0).get(1).load(0);
  if (!unary) f.get(2).load(0);
  f.simd(code).simd(0x0b, 0, 0); // v128.store
  f.add(0, 16).add(1, 16);
  if (!unary) f.add(2, 16);
  f.add(n, -16).op(0x0c, 0, 0x0b, 0x0b);
  return f;
}

function count(): Body {
  // params: list 0, k 1, m 2, stride 3, w0 4, w1 5, out 6
  // locals: i 7, r 8, o 9, e 10, m1 11, m2 12, m3 13, c0 14, c1 15, c2 16, ct 17, x 18
  const f = new Body([I32, I32, I32, I32, I32, I32, I32, I64, I64, I64, I64, I64]);
  f.get(2).get(3).op(0x6a).set(11);
  f.get(11).get(3).op(0x6a).set(12);
  f.get(12).get(3).op(0x6a).set(13);
  f.get(5).i32(3).op(0x74).set(10);
  f.i32(0).set(7);
  f.op(0x02, 0x40, 0x03, 0x40);
  f.get(7).get(1).op(0x4e, 0x0d, 1); // i >= k (signed) -> exit
  f.get(0).get(7).i32(2).op(0x74, 0x6a).op(0x28, 2, 0).set(8);
  for (const c of [14, 15, 16, 17]) f.op(0x42, 0).set(c);
  f.get(4).i32(3).op(0x74).set(9);
  f.op(0x02, 0x40, 0x03, 0x40);
  f.get(9).get(10).op(0x4e, 0x0d, 1);
  f.get(8).get(9).op(0x6a).op(0x29, 3, 0).set(18);
  [2, 11, 12, 13].forEach((m, j) => {
    f.get(14 + j)
      .get(18)
      .get(m)
      .get(9)
      .op(0x6a)
      .op(0x29, 3, 0)
      .op(0x83, 0x7b, 0x7c)
      .set(14 + j); // and, popcnt, add
  });
  f.add(9, 8).op(0x0c, 0, 0x0b, 0x0b);
  [14, 15, 16, 17].forEach((c, j) => {
    f.get(6)
      .get(7)
      .i32(4)
      .op(0x74, 0x6a)
      .get(c)
      .op(0xa7)
      .op(0x36, 2, j * 4); // out + i * 16 + j * 4 = wrap(c)
  });
  f.add(7, 1).op(0x0c, 0, 0x0b, 0x0b);
  return f;
}

interface FnDef {
  name: string;
  params: number[];
  body: Body;
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const fns: FnDef[] = [
    ...F64_OPS.map((_, op) => ({ name: `cmp_f64_${op}`, params: [I32, I32, I32, F64, F64], body: cmpF64(op) })),
    { name: 'cmp_f64_6', params: [I32, I32, I32, F64, F64], body: cmpF64(6) },
    { name: 'eq_u8', params: [I32, I32, I32, I32], body: eqU8() },
    { name: 'lut_i32', params: [I32, I32, I32, I32], body: lutI32() },
    { name: 'and', params: [I32, I32, I32, I32], body: bitwise(0x4e, false) },
    { name: 'or', params: [I32, I32, I32, I32], body: bitwise(0x50, false) },
    { name: 'andnot', params: [I32, I32, I32, I32], body: bitwise(0x4f, false) },
    { name: 'not', params: [I32, I32, I32], body: bitwise(0x4d, true) },
    { name: 'count', params: [I32, I32, I32, I32, I32, I32, I32], body: count() },
  ];
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, 0x00, 0x01]])),
    ...section(3, vec(fns.map((_, i) => u32(i)))),
    ...section(7, vec(fns.map((f, i) => [...str(f.name), 0x00, ...u32(i)]))),
    ...section(10, vec(fns.map((f) => f.body.encode()))),
  ];
  return new Uint8Array(bytes);
}

export interface SimdExports {
  cmp: ((src: number, dst: number, n32: number, t: number, t2: number) => void)[];
  eq_u8(src: number, dst: number, n32: number, v: number): void;
  lut_i32(src: number, dst: number, n32: number, lut: number): void;
  and(dst: number, a: number, b: number, nbytes: number): void;
  or(dst: number, a: number, b: number, nbytes: number): void;
  andnot(dst: number, a: number, b: number, nbytes: number): void;
  not(dst: number, a: number, nbytes: number): void;
  count(list: number, k: number, m: number, stride: number, w0: number, w1: number, out: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not available. */
export function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

export function instantiate(mod: WebAssembly.Module, mem: WebAssembly.Memory): SimdExports {
  const e = new WebAssembly.Instance(mod, { env: { mem } }).exports as unknown as Record<string, (...args: number[]) => void>;
  return {
    cmp: [0, 1, 2, 3, 4, 5, 6].map((op) => e[`cmp_f64_${op}`]!),
    eq_u8: e['eq_u8']!,
    lut_i32: e['lut_i32']!,
    and: e['and']!,
    or: e['or']!,
    andnot: e['andnot']!,
    not: e['not']!,
    count: e['count']!,
  };
}
