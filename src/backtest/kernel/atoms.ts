/**
 * Steps 1 and 2 of a block: one bitmap (32-bit words, bit i = row i) per distinct atom, then one
 * per rule or population node (AND/OR/NOT of bitmaps, the plan's program), each into its slot.
 * Nothing imports node modules: the worker loads this file too.
 */
import type { KernelLayout } from './layout.js';
import type { AtomSpec } from './plan.js';

/** Every atom's bitmap, then the rule programs over them. */
export function evalRules(st: KernelLayout, nwP: number, hasValid: readonly boolean[]): void {
  const p = st.plan;
  const P = st.prims;
  for (let s = 0; s < p.atoms.length; s++) atom(st, p.atoms[s]!, s, nwP, hasValid);
  for (const ins of p.program) {
    const o = st.slot(ins.out);
    const a = st.slot(ins.ins[0]!);
    if (ins.op === 'not') P.not(o, a, nwP);
    else if (ins.ins.length === 1) P.or(o, a, a, nwP);
    else {
      const f = ins.op === 'and' ? P.and.bind(P) : P.or.bind(P);
      f(o, a, st.slot(ins.ins[1]!), nwP);
      for (let q = 2; q < ins.ins.length; q++) f(o, o, st.slot(ins.ins[q]!), nwP);
    }
  }
}

/** One atom's bitmap into its slot; NULL rows cleared by the validity words. */
function atom(st: KernelLayout, a: AtomSpec, s: number, nwP: number, hasValid: readonly boolean[]): void {
  const P = st.prims;
  const c = a.col;
  const kind = st.plan.kinds[c]!;
  const dst = st.slot(s);
  const src = st.valOff[c]!;
  const di = dst >>> 2;
  const fill = (v: number) => st.i32.fill(v, di, di + nwP);
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
      else if (a.negated) P.or(dst, st.validOff[c]!, st.validOff[c]!, nwP);
      else P.not(dst, st.validOff[c]!, nwP);
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
        const v = st.f64;
        const i32 = st.i32;
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
      if (lut.length <= 16) P.lutI32(src, dst, nwP, st.lutOff + 16 * s);
      else {
        const i32 = st.i32;
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
  if (hasValid[c]) P.and(dst, dst, st.validOff[c]!, nwP);
}
