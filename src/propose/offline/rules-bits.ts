/**
 * Whole rules on the sample from bitmaps in memory (issue 13: the inducer's validation on the
 * kernel's way of counting). A conjunction is the AND of its terms' bitmaps (bit r = the sample
 * table's row r); its counts are popcounts against the slices' label masks, the coverage and the
 * existing rules' hit bitmaps, all in memory. A term is an atom's bitmap (from the bin codes,
 * bitmaps.ts), or, for a threshold no atom has (a rounding variant), a comparison over the
 * feature's values read once from the sample as DOUBLE, as the compiled SQL compares them
 * (NaN above every number, as DuckDB orders it; NULL never holds). Anything else is asked of
 * the sample table once. The SQL statements of rules-sql.ts are the reference: the same counts
 * (test/propose/offline/rules.test.ts).
 */
import { pc } from '../../backtest/kernel/bits.js';
import { quoteIdent, type Store } from '../../db/store.js';
import type { ComparisonOp } from '../../rule/ast.js';
import type { SliceCounts } from '../covering.js';
import type { Judged, RuleCounts, SampleRule } from './bins.js';
import { SAMPLE } from './sql.js';
import type { Term } from './types.js';

/** The sample's rows by slice and label, and the existing rules' hits, as bitmaps of `words` 32-bit words. */
export interface SampleMasks {
  rows: number;
  words: number;
  fitBot: Int32Array;
  fitHuman: Int32Array;
  valBot: Int32Array;
  valHuman: Int32Array;
  /** Per existing rule: the rows of its hit column `_rg_e<i>`. */
  existing: Int32Array[];
  /** Coverage flags as the sample table holds them when the counter is made (`_rg_cov`, `_rg_new`). */
  cov: Int32Array;
  neu: Int32Array;
}

/** Set bits of a AND b [AND NOT c]. */
function countAnd(a: Int32Array, b: Int32Array, notC?: Int32Array): number {
  let t = 0;
  if (notC) for (let w = 0; w < a.length; w++) t += pc(a[w]! & b[w]! & ~notC[w]!);
  else for (let w = 0; w < a.length; w++) t += pc(a[w]! & b[w]!);
  return t;
}

const or = (a: Int32Array, b: Int32Array) => a.map((x, w) => x | b[w]!);

/**
 * Bits of `v op t` over the rows (NULL is NaN: false for every operator, as SQL's NULL is false
 * in a WHERE; NaN in the data was read as +Infinity). One loop per operator keeps it monomorphic.
 */
function compare(v: Float64Array, op: ComparisonOp, t: number, bits: Int32Array): void {
  const set = (r: number) => (bits[r >>> 5]! |= 1 << (r & 31));
  const n = v.length;
  switch (op) {
    case '<':
      for (let r = 0; r < n; r++) if (v[r]! < t) set(r);
      break;
    case '<=':
      for (let r = 0; r < n; r++) if (v[r]! <= t) set(r);
      break;
    case '>':
      for (let r = 0; r < n; r++) if (v[r]! > t) set(r);
      break;
    case '>=':
      for (let r = 0; r < n; r++) if (v[r]! >= t) set(r);
      break;
    case '=':
      for (let r = 0; r < n; r++) if (v[r]! === t) set(r);
      break;
    case '!=':
      for (let r = 0; r < n; r++) if (v[r]! === v[r]! && v[r]! !== t) set(r);
      break;
  }
}

/** Thresholds no atom has are kept this many at a time (a rounding batch needs a few hundred; 19 MB at 300,000 rows). */
const MAX_EXTRA_TERMS = 512;

/**
 * The rule-level counts over in-memory bitmaps. `atomBits(key)` is an atom's bitmap (or
 * undefined), `numeric` the features whose values may be compared in memory, `newScore`
 * counts every atom over `neu` (the bots a rule has just covered).
 */
export function bitRuleCounts(
  store: Store,
  m: SampleMasks,
  atomBits: (key: string) => Int32Array | undefined,
  numeric: ReadonlySet<string>,
  newScore: () => Promise<SliceCounts[]>,
): RuleCounts {
  const W = m.words;
  const bots = or(m.fitBot, m.valBot);
  const humans = or(m.fitHuman, m.valHuman);
  const all = or(bots, humans);
  const values = new Map<string, Float64Array>();
  const extra = new Map<string, Int32Array>();

  /**
   * A feature's values on the sample as DOUBLE (NaN as +Infinity, NULL as NaN: no comparison
   * holds). Read again here, only for the few features a rounding variant names: readCodes keeps
   * codes, not the values of every feature (60 MB at 26 features over 300,000 rows).
   */
  const valuesOf = async (feature: string): Promise<Float64Array> => {
    let v = values.get(feature);
    if (v) return v;
    v = new Float64Array(m.rows).fill(NaN);
    const sql = `SELECT CAST(rowid AS INTEGER) AS r, CAST(${quoteIdent(feature)} AS DOUBLE) AS v FROM ${SAMPLE}`;
    for await (const chunk of store.columnChunks(sql)) {
      const r = chunk.columns[0]!.values as Int32Array;
      const { values: xs, valid } = chunk.columns[1]!;
      const x = xs as Float64Array;
      for (let j = 0; j < chunk.rows; j++) {
        if (valid && !((valid[j >>> 5]! >>> (j & 31)) & 1)) continue;
        const y = x[j]!;
        v[r[j]!] = y === y ? y : Infinity;
      }
    }
    values.set(feature, v);
    return v;
  };

  const termBits = async (t: Term): Promise<Int32Array> => {
    const a = atomBits(t.atom.key) ?? extra.get(t.atom.key);
    if (a) return a;
    if (extra.size >= MAX_EXTRA_TERMS) extra.clear();
    const bits = new Int32Array(W);
    const ast = t.atom.ast;
    if (ast.kind === 'comparison' && ast.value.kind === 'number' && numeric.has(ast.feature))
      compare(await valuesOf(ast.feature), ast.op, ast.value.value, bits);
    else {
      for await (const chunk of store.columnChunks(`SELECT CAST(rowid AS INTEGER) AS r FROM ${SAMPLE} WHERE (${t.pred.sql})`, t.pred.parameters)) {
        const r = chunk.columns[0]!.values as Int32Array;
        for (let j = 0; j < chunk.rows; j++) bits[r[j]! >>> 5]! |= 1 << (r[j]! & 31);
      }
    }
    extra.set(t.atom.key, bits);
    return bits;
  };

  // the conjunction being counted: one buffer, read before the next is made
  const x = new Int32Array(W);
  /** The conjunction's hits into `x` (every row for no term). */
  const conj = async (ts: readonly Term[]): Promise<Int32Array> => {
    const bs = [];
    for (const t of ts) bs.push(await termBits(t));
    x.set(all);
    for (const b of bs) for (let w = 0; w < W; w++) x[w]! &= b[w]!;
    return x;
  };
  const ruleBits = async (rule: SampleRule) => ('terms' in rule ? conj(rule.terms) : m.existing[rule.existing]!);

  return {
    async onValidation(conjs) {
      const out = [];
      for (const c of conjs) {
        const x = await conj(c);
        out.push({ tp: countAnd(x, m.valBot), fp: countAnd(x, m.valHuman) });
      }
      return out;
    },

    async onSample(conjs) {
      const out = [];
      for (const c of conjs) {
        const x = await conj(c);
        out.push({ hits: countAnd(x, all), humans: countAnd(x, humans) });
      }
      return out;
    },

    async judge(conjs, existing): Promise<Judged[]> {
      if (existing > m.existing.length) throw new Error(`bitmap counter: ${existing} existing rules asked for, ${m.existing.length} read`);
      const out: Judged[] = [];
      for (const c of conjs) {
        const x = await conj(c);
        const valHumans = countAnd(x, m.valHuman);
        out.push({
          valBots: countAnd(x, m.valBot),
          valNewBots: countAnd(x, m.valBot, m.cov),
          valHumans,
          valCoveredHumans: valHumans - countAnd(x, m.valHuman, m.cov),
          hits: countAnd(x, all),
          humans: countAnd(x, humans),
          existing: m.existing.slice(0, existing).map((e) => countAnd(x, e)),
        });
      }
      return out;
    },

    async uncoveredFitBots() {
      return countAnd(m.fitBot, m.fitBot, m.cov);
    },

    async resetCoverage() {
      m.cov.fill(0);
      m.neu.fill(0);
    },

    async coverNew(rule) {
      const x = await ruleBits(rule);
      for (let w = 0; w < W; w++) m.neu[w] = m.fitBot[w]! & ~m.cov[w]! & x[w]!;
      const delta = await newScore();
      for (let w = 0; w < W; w++) m.cov[w]! |= m.neu[w]!;
      m.neu.fill(0);
      return delta;
    },

    async cover(rule, botsOnly) {
      const x = await ruleBits(rule);
      for (let w = 0; w < W; w++) m.cov[w]! |= x[w]! & (botsOnly ? bots[w]! : -1);
    },
  };
}
