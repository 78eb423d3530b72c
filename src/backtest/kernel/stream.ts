/**
 * Columns streamed from DuckDB as typed arrays (Store.columnChunks, never one JS value per row)
 * into 65,536-row blocks: for a run without the column cache (streamBlocks), and for the cache's
 * build (cache.ts), which writes the blocks out.
 *
 * Encodings: numbers float64 (`CAST(... AS DOUBLE)`, DuckDB's own cast for a comparison with a
 * DOUBLE parameter; NaN stored as +Infinity, which every comparison with a finite literal treats
 * as DuckDB treats NaN — greater than any number); booleans 0/1; categories and segments int32
 * dictionary codes of `CAST(... AS VARCHAR)` (the dictionary from one GROUP BY; codes by one CASE
 * in DuckDB for up to 64 values, else rows matched by DuckDB's 64-bit `hash`); the label 0 human /
 * 1 bot / 2 NULL / 3 other; time as epoch microseconds (float64, exact); day as days since
 * 1970-01-01 of `date_trunc('day', time)`.
 */
import { quoteIdent, type ColumnChunk, type Param, type Store } from '../../db/store.js';
import { BLOCK_ROWS, VALUE_BYTES, type Block, type ColumnData, type ColumnValues } from './compute.js';
import { hashKey, type Dictionary } from './dictionary.js';
import { KernelUnsupportedError, type ColumnKind, type ColumnSpec } from './plan.js';

/** Dictionaries up to this size are coded by DuckDB (one CASE); larger ones by hash in JS. */
const CASE_CODES = 64;

/** SQL of one column in the streaming statement (the table's time column for `time` and `day`), and its parameters. */
function selectExpr(spec: ColumnSpec, dicts: ReadonlyMap<string, Dictionary>): { sql: string; params: Param[] } {
  const c = quoteIdent(spec.column);
  const sql = (text: string, params: Param[] = []) => ({ sql: text, params });
  switch (spec.kind) {
    case 'number':
      return sql(`CAST(${c} AS DOUBLE)`);
    case 'boolean':
      return sql(`CAST(CAST(${c} AS BOOLEAN) AS UTINYINT)`);
    case 'category': {
      const d = dicts.get(spec.column)!.values;
      const other = `CASE WHEN ${c} IS NULL THEN NULL ELSE -2 END`;
      if (d.length === 0) return sql(`CAST(${other} AS INTEGER)`);
      // the values are parameters, never SQL text
      if (d.length <= CASE_CODES)
        return sql(`CAST(CASE CAST(${c} AS VARCHAR) ${d.map((_, i) => `WHEN ? THEN ${i}`).join(' ')} ELSE ${other} END AS INTEGER)`, d);
      return sql(`CASE WHEN ${c} IS NULL THEN NULL ELSE hash(CAST(${c} AS VARCHAR)) END`);
    }
    case 'label':
      return sql(`CAST(CASE WHEN ${c} IS NULL THEN 2 WHEN ${c} = 1 THEN 1 WHEN ${c} = 0 THEN 0 ELSE 3 END AS UTINYINT)`);
    case 'time':
      return sql(`CAST(epoch_us(${c}) AS DOUBLE)`);
    case 'day':
      return sql(`CAST(CAST(date_trunc('day', ${c}) AS DATE) - DATE '1970-01-01' AS INTEGER)`);
  }
}

/** The select list of `specs` and its parameters, in order. */
export function selectList(specs: readonly ColumnSpec[], dicts: ReadonlyMap<string, Dictionary>): { sql: string; params: Param[] } {
  const parts = specs.map((x) => selectExpr(x, dicts));
  return { sql: parts.map((p) => p.sql).join(', '), params: parts.flatMap((p) => p.params) };
}

export function alloc(kind: ColumnKind, n: number): ColumnValues {
  const b = VALUE_BYTES[kind];
  return b === 8 ? new Float64Array(n) : b === 4 ? new Int32Array(n) : new Uint8Array(n);
}

/** Copy `n` validity bits from src (bit 0 = row 0) to dst starting at bit `at`. */
function copyBits(dst: Uint32Array, at: number, src: Uint32Array | null, n: number): void {
  if (!src) {
    for (let i = 0; i < n; i++) dst[(at + i) >>> 5] = dst[(at + i) >>> 5]! | (1 << ((at + i) & 31));
    return;
  }
  if ((at & 31) === 0) {
    const words = n >>> 5;
    const o = at >>> 5;
    for (let w = 0; w < words; w++) dst[o + w] = src[w]!;
    for (let i = words << 5; i < n; i++) if ((src[i >>> 5]! >>> (i & 31)) & 1) dst[(at + i) >>> 5] = dst[(at + i) >>> 5]! | (1 << ((at + i) & 31));
    return;
  }
  for (let i = 0; i < n; i++) if ((src[i >>> 5]! >>> (i & 31)) & 1) dst[(at + i) >>> 5] = dst[(at + i) >>> 5]! | (1 << ((at + i) & 31));
}

/** Fills 65,536-row blocks from DuckDB chunks of any size. */
export class BlockBuilder {
  private values: ColumnValues[] = [];
  private valid: Uint32Array[] = [];
  private at = 0;
  /** `reuse`: a block's arrays are filled again after the next push (its consumer is done with it by then). */
  constructor(
    private readonly specs: readonly ColumnSpec[],
    private readonly dicts: ReadonlyMap<string, Dictionary>,
    private readonly reuse = false,
    /** Rows per block (fewer for a small table: less to allocate). */
    private readonly cap = BLOCK_ROWS,
  ) {
    this.fresh();
  }
  private fresh(): void {
    if (this.reuse && this.values.length) {
      for (const v of this.valid) v.fill(0);
    } else {
      this.values = this.specs.map((s) => alloc(s.kind, this.cap));
      this.valid = this.specs.map(() => new Uint32Array(Math.ceil(this.cap / 32)));
    }
    this.at = 0;
  }
  /** Append a chunk; returns the blocks it completed. */
  push(chunk: ColumnChunk, onBlock: (b: Block) => void): void {
    let from = 0;
    while (from < chunk.rows) {
      const n = Math.min(chunk.rows - from, this.cap - this.at);
      this.specs.forEach((s, c) => this.copy(s, c, chunk.columns[c]!, from, n));
      this.at += n;
      from += n;
      if (this.at === this.cap) this.take(onBlock);
    }
  }
  private copy(s: ColumnSpec, c: number, col: ColumnChunk['columns'][number], from: number, n: number): void {
    const dst = this.values[c]!;
    const at = this.at;
    const src = col.values;
    const d = s.kind === 'category' ? this.dicts.get(s.column)! : null;
    if (d && d.values.length <= CASE_CODES) {
      const codes = src as Int32Array;
      (dst as Int32Array).set(codes.subarray(from, from + n), at);
      const valid = col.valid;
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if (codes[r] === -2 && (!valid || (valid[r >>> 5]! >>> (r & 31)) & 1))
          throw new KernelUnsupportedError(`a value of ${s.column} is missing from its dictionary (the table changed while it was read?)`);
      }
    } else if (d) {
      const u = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >>> 2);
      const valid = col.valid;
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if (valid && !((valid[r >>> 5]! >>> (r & 31)) & 1)) {
          dst[at + i] = -1;
          continue;
        }
        const code = d.byHash.get(hashKey(u[2 * r + 1]!, u[2 * r]!));
        if (code === undefined)
          throw new KernelUnsupportedError(`a value of ${s.column} is missing from its dictionary (the table changed while it was read?)`);
        dst[at + i] = code;
      }
    } else if (s.kind === 'number' || s.kind === 'time') {
      const f = dst as Float64Array;
      f.set((src as Float64Array).subarray(from, from + n), at);
      // NaN compares above every number in DuckDB; so does +Infinity against a finite literal
      if (s.kind === 'number') for (let i = at; i < at + n; i++) if (f[i] !== f[i]) f[i] = Infinity;
    } else if (s.kind === 'day') (dst as Int32Array).set((src as Int32Array).subarray(from, from + n), at);
    else (dst as Uint8Array).set((src as Uint8Array).subarray(from, from + n), at);
    if (from === 0 || !col.valid) copyBits(this.valid[c]!, at, col.valid, n);
    else {
      // a chunk split across blocks: shift its validity to the chunk's row `from`
      for (let i = 0; i < n; i++) {
        const r = from + i;
        if ((col.valid[r >>> 5]! >>> (r & 31)) & 1) this.valid[c]![(at + i) >>> 5] = this.valid[c]![(at + i) >>> 5]! | (1 << ((at + i) & 31));
      }
    }
  }
  /** Hand the filled block (if any) to `onBlock`, then start the next one. */
  take(onBlock: (b: Block) => void): void {
    if (this.at === 0) return;
    const rows = this.at;
    const cols: ColumnData[] = this.specs.map((s, c) => {
      const values = rows === this.cap ? this.values[c]! : this.values[c]!.slice(0, rows);
      const words = Math.ceil(rows / 32);
      const v = this.valid[c]!.subarray(0, words);
      return { values, valid: allSet(v, rows) ? null : rows === this.cap ? v : v.slice() };
    });
    onBlock({ rows, cols });
    this.fresh();
  }
}

function allSet(v: Uint32Array, rows: number): boolean {
  const full = rows >>> 5;
  for (let w = 0; w < full; w++) if (v[w] !== -1 >>> 0) return false;
  const rest = rows & 31;
  return rest === 0 || (v[full]! & ((1 << rest) - 1)) === (1 << rest) - 1;
}

/** Stream `specs` of `table` (rows matching `where`) as blocks. */
export async function* streamBlocks(
  store: Store,
  table: string,
  specs: readonly ColumnSpec[],
  dicts: ReadonlyMap<string, Dictionary>,
  where = 'TRUE',
  params: readonly Param[] = [],
  orderBy = '',
  rows = BLOCK_ROWS,
): AsyncGenerator<Block> {
  const list = selectList(specs, dicts);
  const sql = `SELECT ${list.sql} FROM ${quoteIdent(table)} WHERE ${where}${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
  const b = new BlockBuilder(specs, dicts, false, Math.min(BLOCK_ROWS, Math.max(32, Math.ceil(rows / 32) * 32)));
  const out: Block[] = [];
  for await (const chunk of store.columnChunks(sql, [...list.params, ...params])) {
    b.push(chunk, (block) => out.push(block));
    yield* out.splice(0);
  }
  b.take((block) => out.push(block));
  yield* out;
}
