/**
 * Reading a session's features into typed slots. A keyed load `s[name]` in a loop over many
 * names is one property access site that sees every name: V8 makes it megamorphic, a hash
 * lookup per access (about 11 ns each, 280 ns for the benchmark's 26 features). Each reader
 * below instead has one access site per position — `s[k[0]]`, `s[k[1]]`, … — written out by
 * hand, so each site only ever sees its own name and the sessions' shape, and stays a
 * monomorphic inline-cached field load (about 2 ns), as fast as `s.requests_per_minute` would
 * be, with no generated code. Features past the unrolled sites fall back to a loop.
 *
 * Each returns the number of bad values (missing, of the wrong type, or NaN); their slots get
 * NULL, and the caller finds out which on its slow path.
 */
import { B_FALSE, B_NULL, B_TRUE } from './plan.js';

const num = (v: unknown, n: Float64Array, i: number): number => {
  if (typeof v === 'number' && v === v) {
    n[i] = v;
    return 0;
  }
  n[i] = NaN;
  return v === null ? 0 : 1;
};

const bool = (v: unknown, b: Uint8Array, i: number): number => {
  if (v === true) b[i] = B_TRUE;
  else if (v === false) b[i] = B_FALSE;
  else {
    b[i] = B_NULL;
    return v === null ? 0 : 1;
  }
  return 0;
};

const cat = (v: unknown, c: (string | null)[], i: number): number => {
  if (typeof v === 'string') {
    c[i] = v;
    return 0;
  }
  c[i] = null;
  return v === null ? 0 : 1;
};

/** Number features: k[i] into n[i], NaN for NULL. */
export function readNumbers(s: Record<string, unknown>, k: readonly string[], n: Float64Array): number {
  const m = k.length;
  if (m === 0) return 0;
  let bad = 0;
  bad += num(s[k[0]!], n, 0);
  if (m === 1) return bad;
  bad += num(s[k[1]!], n, 1);
  if (m === 2) return bad;
  bad += num(s[k[2]!], n, 2);
  if (m === 3) return bad;
  bad += num(s[k[3]!], n, 3);
  if (m === 4) return bad;
  bad += num(s[k[4]!], n, 4);
  if (m === 5) return bad;
  bad += num(s[k[5]!], n, 5);
  if (m === 6) return bad;
  bad += num(s[k[6]!], n, 6);
  if (m === 7) return bad;
  bad += num(s[k[7]!], n, 7);
  if (m === 8) return bad;
  bad += num(s[k[8]!], n, 8);
  if (m === 9) return bad;
  bad += num(s[k[9]!], n, 9);
  if (m === 10) return bad;
  bad += num(s[k[10]!], n, 10);
  if (m === 11) return bad;
  bad += num(s[k[11]!], n, 11);
  if (m === 12) return bad;
  bad += num(s[k[12]!], n, 12);
  if (m === 13) return bad;
  bad += num(s[k[13]!], n, 13);
  if (m === 14) return bad;
  bad += num(s[k[14]!], n, 14);
  if (m === 15) return bad;
  bad += num(s[k[15]!], n, 15);
  if (m === 16) return bad;
  bad += num(s[k[16]!], n, 16);
  if (m === 17) return bad;
  bad += num(s[k[17]!], n, 17);
  if (m === 18) return bad;
  bad += num(s[k[18]!], n, 18);
  if (m === 19) return bad;
  bad += num(s[k[19]!], n, 19);
  if (m === 20) return bad;
  bad += num(s[k[20]!], n, 20);
  if (m === 21) return bad;
  bad += num(s[k[21]!], n, 21);
  if (m === 22) return bad;
  bad += num(s[k[22]!], n, 22);
  if (m === 23) return bad;
  bad += num(s[k[23]!], n, 23);
  if (m === 24) return bad;
  bad += num(s[k[24]!], n, 24);
  if (m === 25) return bad;
  bad += num(s[k[25]!], n, 25);
  if (m === 26) return bad;
  bad += num(s[k[26]!], n, 26);
  if (m === 27) return bad;
  bad += num(s[k[27]!], n, 27);
  if (m === 28) return bad;
  bad += num(s[k[28]!], n, 28);
  if (m === 29) return bad;
  bad += num(s[k[29]!], n, 29);
  if (m === 30) return bad;
  bad += num(s[k[30]!], n, 30);
  if (m === 31) return bad;
  bad += num(s[k[31]!], n, 31);
  for (let i = 32; i < m; i++) bad += num(s[k[i]!], n, i);
  return bad;
}

/** Boolean features: k[i] into b[i] as B_FALSE, B_TRUE or B_NULL. */
export function readBooleans(s: Record<string, unknown>, k: readonly string[], b: Uint8Array): number {
  const m = k.length;
  if (m === 0) return 0;
  let bad = 0;
  bad += bool(s[k[0]!], b, 0);
  if (m === 1) return bad;
  bad += bool(s[k[1]!], b, 1);
  if (m === 2) return bad;
  bad += bool(s[k[2]!], b, 2);
  if (m === 3) return bad;
  bad += bool(s[k[3]!], b, 3);
  if (m === 4) return bad;
  bad += bool(s[k[4]!], b, 4);
  if (m === 5) return bad;
  bad += bool(s[k[5]!], b, 5);
  if (m === 6) return bad;
  bad += bool(s[k[6]!], b, 6);
  if (m === 7) return bad;
  bad += bool(s[k[7]!], b, 7);
  if (m === 8) return bad;
  bad += bool(s[k[8]!], b, 8);
  if (m === 9) return bad;
  bad += bool(s[k[9]!], b, 9);
  if (m === 10) return bad;
  bad += bool(s[k[10]!], b, 10);
  if (m === 11) return bad;
  bad += bool(s[k[11]!], b, 11);
  if (m === 12) return bad;
  bad += bool(s[k[12]!], b, 12);
  if (m === 13) return bad;
  bad += bool(s[k[13]!], b, 13);
  if (m === 14) return bad;
  bad += bool(s[k[14]!], b, 14);
  if (m === 15) return bad;
  bad += bool(s[k[15]!], b, 15);
  for (let i = 16; i < m; i++) bad += bool(s[k[i]!], b, i);
  return bad;
}

/** Category features: k[i] into c[i], null for NULL. */
export function readCategories(s: Record<string, unknown>, k: readonly string[], c: (string | null)[]): number {
  const m = k.length;
  if (m === 0) return 0;
  let bad = 0;
  bad += cat(s[k[0]!], c, 0);
  if (m === 1) return bad;
  bad += cat(s[k[1]!], c, 1);
  if (m === 2) return bad;
  bad += cat(s[k[2]!], c, 2);
  if (m === 3) return bad;
  bad += cat(s[k[3]!], c, 3);
  if (m === 4) return bad;
  bad += cat(s[k[4]!], c, 4);
  if (m === 5) return bad;
  bad += cat(s[k[5]!], c, 5);
  if (m === 6) return bad;
  bad += cat(s[k[6]!], c, 6);
  if (m === 7) return bad;
  bad += cat(s[k[7]!], c, 7);
  if (m === 8) return bad;
  bad += cat(s[k[8]!], c, 8);
  if (m === 9) return bad;
  bad += cat(s[k[9]!], c, 9);
  if (m === 10) return bad;
  bad += cat(s[k[10]!], c, 10);
  if (m === 11) return bad;
  bad += cat(s[k[11]!], c, 11);
  if (m === 12) return bad;
  bad += cat(s[k[12]!], c, 12);
  if (m === 13) return bad;
  bad += cat(s[k[13]!], c, 13);
  if (m === 14) return bad;
  bad += cat(s[k[14]!], c, 14);
  if (m === 15) return bad;
  bad += cat(s[k[15]!], c, 15);
  for (let i = 16; i < m; i++) bad += cat(s[k[i]!], c, i);
  return bad;
}
