/** Bitmaps from columns: the rows of a window side and the rows matching one atom. */
import type { AtomSpec } from './plan.js';
import type { ColumnData, SideSpec } from './block.js';

/** The rows of a window: time not NULL and on the right side of the cutoff, or every row. */
export function sideBits(spec: SideSpec, t: ColumnData, W: Int32Array, n: number, nw: number, tail: number): void {
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
export function evalAtom(a: AtomSpec, c: ColumnData, bm: Int32Array, o: number, n: number, nw: number, tail: number): void {
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
