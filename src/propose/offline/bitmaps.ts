/**
 * The covering search's counter on bitmaps (issue 13: the inducer on the kernel's way of
 * counting). The sample's bin codes (bins.ts) are read into memory once; every atom becomes one
 * bitmap over the sample's rows (bit r = row r, the table's rowid), and a candidate's counts are
 * popcounts of ANDs: parent AND atom AND bots / new bots / humans, by the backtest kernel's
 * primitives (WebAssembly SIMD where available, plain JS otherwise). Which codes an atom holds for
 * is decided by the same `holdsFor` as the SQL histograms, so both counters give the same counts
 * (test/propose/offline/bitmaps.test.ts); the SQL one stays for `--engine sql`.
 * Memory: one 32-bit word per 32 rows per atom (about 29 MB for 800 atoms over 300,000 rows),
 * at most MAX_BITMAP_BYTES (null beyond: the caller counts by SQL).
 */
import type { Feature } from '../../catalog/schema.js';
import { quoteIdent, type Store } from '../../db/store.js';
import { makePrims, wantSimd, type Prims } from '../../backtest/kernel/prims.js';
import type { SliceCounts } from '../covering.js';
import type { AtomCounter, Bins } from './bins.js';
import { COV, LBL, SAMPLE, VAL, n } from './sql.js';
import type { Term } from './types.js';
import { bitRuleCounts, type SampleMasks } from './rules-bits.js';

/** Above this many codes a feature's atoms are set row by row, not from prefix bitmaps (m bitmaps each). */
const MAX_PREFIX_CODES = 256;

/** The sample's rows read into memory: labels by slice, flags, existing rules' hits and each feature's code per row (-1 = NULL). */
interface SampleCodes extends SampleMasks {
  codes: Int32Array[];
  /** Per feature: the category behind each code (categories only). */
  dicts: (string[] | null)[];
}

/** A category's text, as its bin column holds it (addBinColumns). */
const catText = (f: Feature, alias = '') => `CAST(${alias}${quoteIdent(f.name)} AS VARCHAR)`;

/** Code of a category: its rank among the feature's distinct values (0-based), by a CTE both statements share. */
const dictCte = (f: Feature, i: number) =>
  `d${i} AS (SELECT b, CAST(row_number() OVER (ORDER BY b) - 1 AS INTEGER) AS code ` +
  `FROM (SELECT DISTINCT ${catText(f)} AS b FROM ${SAMPLE} WHERE ${quoteIdent(f.name)} IS NOT NULL))`;

/** A number's code among sorted thresholds T: 2 * #{t in T : t < v} + (v in T ? 1 : 0); NaN (above every number in DuckDB) as +Infinity. */
export function numberCode(v: number, T: readonly number[]): number {
  const x = v === v ? v : Infinity;
  let lo = 0;
  let hi = T.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (T[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return 2 * lo + (lo < T.length && T[lo] === x ? 1 : 0);
}

/** Rows of the sample table, as rowids count them. */
async function sampleRows(store: Store): Promise<number> {
  return n((await store.one<{ n: number }>(`SELECT CAST(coalesce(max(rowid) + 1, 0) AS INTEGER) AS n FROM ${SAMPLE}`))?.n);
}

/** 32-bit words of a bitmap over `rows` rows: a multiple of 4 (the kernel's primitives work on 128-row groups). */
const wordsFor = (rows: number) => (((rows + 31) >>> 5) + 3) & ~3;

/**
 * The most memory the atoms' bitmaps may take; a search with more (hundreds of features over
 * the full 300,000-row sample) counts by SQL histograms instead, which need none.
 */
export const MAX_BITMAP_BYTES = 512 * 1024 * 1024;

/** The sample read once: labels, flags, existing rules' hits, and every feature's code, made here from its values (no bin columns). */
async function readCodes(store: Store, bins: Bins, rows: number, existing: number): Promise<SampleCodes> {
  const cats = bins.use.map((f, i) => (f.type === 'category' ? i : -1)).filter((i) => i >= 0);
  const dicts: (string[] | null)[] = bins.use.map(() => null);
  const ctes = cats.map((i) => dictCte(bins.use[i]!, i)).join(', ');
  if (cats.length) {
    const rows = await store.all<{ f: number; b: string }>(
      `WITH ${ctes} ${cats.map((i) => `SELECT ${i}::INTEGER AS f, b, code FROM d${i}`).join(' UNION ALL ')} ORDER BY f, code`,
    );
    for (const i of cats) dicts[i] = [];
    for (const r of rows) dicts[n(r.f)]!.push(r.b);
  }
  const words = wordsFor(rows);
  const codes = bins.use.map(() => new Int32Array(rows).fill(-1));
  // kind: 0 fit human, 1 fit bot, 2 validation human, 3 validation bot
  const [fitHuman, fitBot, valHuman, valBot, cov, neu] = Array.from({ length: 6 }, () => new Int32Array(words)) as [
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
  ];
  const byKind = [fitHuman, fitBot, valHuman, valBot];
  const ex = Array.from({ length: existing }, () => new Int32Array(words));
  // flags: 1 covered, 2 new; then one column per existing rule's hits
  const flags = [`CAST(CASE WHEN s.${COV} THEN 1 ELSE 0 END + CASE WHEN s."_rg_new" THEN 2 ELSE 0 END AS INTEGER)`];
  for (let e = 0; e < existing; e++) flags.push(`CAST(s."_rg_e${e}" AS INTEGER)`);
  // numbers as DOUBLE (coded below), booleans 0/1, categories by their dictionary code
  const cols = bins.use.map((f, i) =>
    f.type === 'category' ? `d${i}.code` : f.type === 'number' ? `CAST(s.${quoteIdent(f.name)} AS DOUBLE)` : `CAST(s.${quoteIdent(f.name)} AS INTEGER)`,
  );
  const joins = cats.map((i) => ` LEFT JOIN d${i} ON d${i}.b = ${catText(bins.use[i]!, 's.')}`).join('');
  const sql =
    `${cats.length ? `WITH ${ctes} ` : ''}SELECT CAST(s.rowid AS INTEGER) AS r, ` +
    `CAST(CASE WHEN s.${VAL} THEN 2 ELSE 0 END + CASE WHEN s.${LBL} = 1 THEN 1 ELSE 0 END AS INTEGER) AS k` +
    `${[...flags, ...cols].map((c) => `, ${c}`).join('')} FROM ${SAMPLE} s${joins}`;
  const c0 = 3 + existing;
  for await (const chunk of store.columnChunks(sql)) {
    const r = chunk.columns[0]!.values as Int32Array;
    const k = chunk.columns[1]!.values as Int32Array;
    const fl = chunk.columns[2]!.values as Int32Array;
    for (let j = 0; j < chunk.rows; j++) {
      const row = r[j]!;
      const bit = 1 << (row & 31);
      byKind[k[j]!]![row >>> 5]! |= bit;
      if (fl[j]! & 1) cov[row >>> 5]! |= bit;
      if (fl[j]! & 2) neu[row >>> 5]! |= bit;
    }
    ex.forEach((bits, e) => {
      const { values, valid } = chunk.columns[3 + e]!;
      const v = values as Int32Array;
      for (let j = 0; j < chunk.rows; j++) if (v[j] && (!valid || (valid[j >>> 5]! >>> (j & 31)) & 1)) bits[r[j]! >>> 5]! |= 1 << (r[j]! & 31);
    });
    bins.use.forEach((feature, f) => {
      const { values, valid } = chunk.columns[c0 + f]!;
      const out = codes[f]!;
      const ok = (j: number) => !valid || (valid[j >>> 5]! >>> (j & 31)) & 1;
      if (feature.type === 'number') {
        const v = values as Float64Array;
        const T = bins.thresholds[f]!;
        for (let j = 0; j < chunk.rows; j++) if (ok(j)) out[r[j]!] = numberCode(v[j]!, T);
      } else {
        const v = values as Int32Array;
        for (let j = 0; j < chunk.rows; j++) if (ok(j)) out[r[j]!] = v[j]!;
      }
    });
  }
  return { rows, words, fitBot, fitHuman, valBot, valHuman, existing: ex, cov, neu, codes, dicts };
}

/** One bitmap per atom, from its feature's codes, each written into `slot(atom)` (zeroed). */
function atomBitmaps(s: SampleCodes, bins: Bins, terms: readonly Term[], slot: (i: number) => Int32Array): void {
  bins.use.forEach((_, f) => {
    const mine = terms.map((_, i) => i).filter((i) => bins.featureOf[i] === f);
    if (!mine.length) return;
    const codes = s.codes[f]!;
    let m = 0;
    for (let r = 0; r < s.rows; r++) if (codes[r]! >= m) m = codes[r]! + 1;
    const dict = s.dicts[f];
    const label = (c: number) => (dict ? dict[c]! : String(c));
    const nulls = new Int32Array(s.words);
    for (let r = 0; r < s.rows; r++) if (codes[r]! < 0) nulls[r >>> 5]! |= 1 << (r & 31);
    // (the bit of a row past the last is never set: no row has it)
    if (m <= MAX_PREFIX_CODES) {
      // prefix[c]: rows whose code is <= c; a run of codes a..b is prefix[b] AND NOT prefix[a - 1]
      const byCode = Array.from({ length: m }, () => new Int32Array(s.words));
      for (let r = 0; r < s.rows; r++) if (codes[r]! >= 0) byCode[codes[r]!]![r >>> 5]! |= 1 << (r & 31);
      for (let c = 1; c < m; c++) {
        const p = byCode[c]!;
        const q = byCode[c - 1]!;
        for (let w = 0; w < s.words; w++) p[w]! |= q[w]!;
      }
      for (const i of mine) {
        const holds = bins.holds[i]!;
        const bits = slot(i);
        if (holds(null)) bits.set(nulls);
        for (let a = 0; a < m; a++) {
          if (!holds(label(a))) continue;
          let b = a;
          while (b + 1 < m && holds(label(b + 1))) b++;
          const hi = byCode[b]!;
          if (a === 0) for (let w = 0; w < s.words; w++) bits[w]! |= hi[w]!;
          else {
            const lo = byCode[a - 1]!;
            for (let w = 0; w < s.words; w++) bits[w]! |= hi[w]! & ~lo[w]!;
          }
          a = b;
        }
      }
    } else {
      for (const i of mine) {
        const holds = bins.holds[i]!;
        const lut = Uint8Array.from({ length: m }, (_, c) => (holds(label(c)) ? 1 : 0));
        const bits = slot(i);
        if (holds(null)) bits.set(nulls);
        for (let r = 0; r < s.rows; r++) if (codes[r]! >= 0 && lut[codes[r]!]) bits[r >>> 5]! |= 1 << (r & 31);
      }
    }
  });
}

/**
 * The counter on bitmaps, its codes made from the sample's features (no bin columns), or null
 * when the bitmaps would take more than `maxBytes`. It reads the sample once: the coverage flags (as they are then), the
 * first `existing` existing rules' hit columns and the codes; from there on coverage lives in
 * memory and every count, the validation slice's too (rules-bits.ts), is made there.
 */
export async function bitmapCounter(store: Store, bins: Bins, terms: readonly Term[], existing = 0, maxBytes = MAX_BITMAP_BYTES): Promise<AtomCounter | null> {
  const rows = await sampleRows(store);
  if (4 * terms.length * wordsFor(rows) > maxBytes) return null;
  const s = await readCodes(store, bins, rows, existing);
  const W = s.words;
  const K = terms.length;
  // one memory: the atoms' bitmaps, 4 masks, the list of atoms and 4 counts per atom
  const bytes = 4 * W;
  const atoms0 = 0;
  const masks0 = atoms0 + K * bytes;
  const list0 = masks0 + 4 * bytes;
  const out0 = list0 + 16 * Math.ceil(K / 4);
  const P: Prims = makePrims(wantSimd(), out0 + 16 * K);
  // the memory never grows after this: one view of it serves every call (mask 3 stays zero)
  const mem = new Int32Array(P.buffer);
  atomBitmaps(s, bins, terms, (i) => new Int32Array(P.buffer, atoms0 + i * bytes, W));
  new Int32Array(P.buffer, list0, K).set(Array.from({ length: K }, (_, i) => atoms0 + i * bytes));
  // masks 0..2: a parent's bots, its bots no rule covers yet, its humans
  const [mb, mn, mh] = [0, 1, 2].map((j) => (masks0 + j * bytes) >>> 2) as [number, number, number];
  const atomView = (i: number) => new Int32Array(P.buffer, atoms0 + i * bytes, W);
  const byKey = new Map(terms.map((t, i) => [t.atom.key, i]));
  const cov = s.cov;
  let searched = 0;
  const score = async (parents: readonly Term[][] | null, only?: 'new'): Promise<SliceCounts[][]> => {
    const ps = parents ?? [[]];
    const mask = only === 'new' ? s.neu : null;
    searched += K * ps.length;
    return ps.map((p) => {
      const parts = p.map((t) => {
        const i = byKey.get(t.atom.key);
        if (i === undefined) throw new Error(`bitmap counter: ${t.atom.key} is not one of its atoms`);
        return (atoms0 + i * bytes) >>> 2;
      });
      let lo = W;
      let hi = 0;
      for (let w = 0; w < W; w++) {
        let x = mask ? mask[w]! : -1;
        for (const a of parts) x &= mem[a + w]!;
        const b = x & s.fitBot[w]!;
        mem[mb + w] = b;
        mem[mn + w] = b & ~cov[w]!;
        mem[mh + w] = x & s.fitHuman[w]!;
        if (b | mem[mh + w]!) {
          if (w < lo) lo = w;
          hi = w + 1;
        }
      }
      if (lo >= hi) return terms.map(() => ({ tpAll: 0, tpNew: 0, fp: 0 }));
      // the primitives count 64-bit words: [lo, hi) widened to even 32-bit words
      P.count(list0, K, masks0, bytes, lo >>> 1, (hi + 1) >>> 1, out0);
      return terms.map((_, i) => {
        const o = (out0 >>> 2) + 4 * i;
        return { tpAll: mem[o]!, tpNew: mem[o + 1]!, fp: mem[o + 2]! };
      });
    });
  };
  const numeric = new Set(bins.use.filter((f) => f.type === 'number').map((f) => f.name));
  const atomBits = (key: string) => {
    const i = byKey.get(key);
    return i === undefined ? undefined : atomView(i);
  };
  return {
    score,
    ...bitRuleCounts(store, s, atomBits, numeric, async () => (await score(null, 'new'))[0]!),
    get searched() {
      return searched;
    },
  };
}
