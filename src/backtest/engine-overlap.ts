/**
 * Overlap, incremental recall and the deployed set, from per-row hit bitmasks grouped by mask:
 * JS sees one row per distinct combination of rules that fired, never the sessions themselves.
 */
import type { Window } from '../db/window.js';
import type { SqlPlan } from '../engine/plan.js';
import { metrics, ratio, type Counts } from './stats.js';
import type { ColumnChunk, Param } from '../db/store.js';
import type { BacktestResult, Db, EngineRule, RuleResult, SetMetrics } from './engine-types.js';

/** A rule's predicate as a 0/1 value, summed for counts. */
export const hitExpr = (r: EngineRule): string => `(CASE WHEN ${r.predicate.sql} THEN 1 ELSE 0 END)`;

/**
 * One mask column: bit j = rule j of the block hit the row, as the sum of `CASE WHEN <rule j>
 * THEN 2^j` (exact below 2^53; any dialect). Shifting the 0/1 hit (`hitExpr(r)::BIGINT << j`,
 * OR-ed) cost ~15% more to build at 2M rows.
 */
export const maskExpr = (p: SqlPlan, b: readonly EngineRule[]): string =>
  `(${b.map((r, j) => `(CASE WHEN ${r.predicate.sql} THEN ${p.cast(String(2 ** j), 'bigint')} ELSE ${p.cast('0', 'bigint')} END)`).join(' + ')})`;

/** 50 rules per mask column keeps every mask an exact JS number (< 2^53). */
export const BLOCK = 50;

type Tally = [tp: number, fp: number, unl: number];
const slot = (lbl: unknown): 0 | 1 | 2 => (lbl === 1 ? 0 : lbl === 0 ? 1 : 2);

function setMetrics(ids: string[], t: Tally, w: { bots: number; humans: number; rows: number }): SetMetrics {
  const counts: Counts = { tp: t[0], fp: t[1], tn: w.humans - t[1], fn: w.bots - t[0], unlabeled_hits: t[2] };
  return { ids, counts, ...metrics(counts, w.rows) };
}

let maskSeq = 0;

/** A fresh temporary table name per run, so concurrent backtests on one connection do not collide. */
export const nextMaskTable = (): string => `rulegen_hits_${++maskSeq}`;

export function maskBlocks(rules: readonly EngineRule[]): EngineRule[][] {
  const blocks: EngineRule[][] = [];
  for (let i = 0; i < rules.length; i += BLOCK) blocks.push(rules.slice(i, i + BLOCK));
  return blocks;
}

/** Mask rows as typed columns (Store.columnChunks), when the engine is the embedded DuckDB. */
export type ChunkReader = (sql: string, params: readonly Param[]) => AsyncIterable<ColumnChunk>;

/**
 * `maskTable`: the window's masks already counted by the breakdown scan (columns lbl, m<i>, n;
 * else one more scan). `chunks`: read the mask rows as typed arrays (DuckDB only) instead of one
 * JS object per row, which cost more than the counting itself (normalising, garbage collection).
 */
export async function overlap(
  db: Db,
  p: SqlPlan,
  table: string,
  label: string,
  window: Window,
  rules: readonly EngineRule[],
  results: RuleResult[],
  totals: { bots: number; humans: number; rows: number },
  maskTable?: string,
  chunks?: ChunkReader,
): Promise<BacktestResult['set']> {
  const { bots } = totals;
  const blocks = maskBlocks(rules);
  const any = blocks.map((_, bi) => `m${bi} <> 0`).join(' OR ');
  const cols = blocks.map((_, bi) => `m${bi}`).join(', ');
  const [from, n, params] = maskTable
    ? [maskTable, 'sum(n)', []]
    : [
        `(SELECT ${label} AS lbl, ${blocks.map((b, bi) => `${maskExpr(p, b)} AS m${bi}`).join(', ')} FROM ${table} WHERE ${window.where}) AS rulegen_m`,
        'count(*)',
        [...blocks.flatMap((b) => b.flatMap((r) => r.predicate.parameters)), ...window.parameters],
      ];
  const K = rules.length;
  const hits = new Float64Array(K);
  // K x K upper triangle in a typed array: a Map keyed by pairs cost 1.7 s at 10M rows
  const inter = new Float64Array(K * K);
  const approved = Uint8Array.from(rules, (r) => (r.approved ? 1 : 0));
  const deployed = Uint8Array.from(rules, (r) => (r.deployed ? 1 : 0));
  const judged = Uint8Array.from(rules, (r) => (r.deployed || r.extra ? 1 : 0));
  const incremental = new Float64Array(K);
  // hits by rule i and by no deployed rule other than i, per label slot
  const outside = new Float64Array(K * 3);
  // false positives of rule i hit by k judged rules, at [i * (K + 1) + k]: integer counts, so
  // that each rule's share (the sum over k of count / k) does not depend on the rows' order
  const fpByShare = new Float64Array(K * (K + 1));
  const base: Tally = [0, 0, 0];
  const all: Tally = [0, 0, 0];
  // the rules that hit one mask row, in increasing order (reused: no allocation per row)
  const set = new Int32Array(K);
  /** Count one mask row: label slot s (0 bot, 1 human, 2 other), `len` rules in `set`, n sessions. */
  const add = (s: 0 | 1 | 2, len: number, n: number): void => {
    let nApproved = 0;
    let nDeployed = 0;
    let nJudged = 0;
    for (let a = 0; a < len; a++) {
      const i = set[a]!;
      hits[i]! += n;
      for (let b = a + 1; b < len; b++) inter[i * K + set[b]!]! += n;
      nApproved += approved[i]!;
      nDeployed += deployed[i]!;
      nJudged += judged[i]!;
    }
    if (nDeployed) base[s] += n;
    if (nJudged) all[s] += n;
    for (let a = 0; a < len; a++) {
      const i = set[a]!;
      // caught by i and by no approved rule other than i itself
      if (s === 0 && (nApproved === 0 || (nApproved === 1 && approved[i]))) incremental[i]! += n;
      if (nDeployed === 0 || (nDeployed === 1 && deployed[i])) outside[i * 3 + s]! += n;
      if (s === 1 && judged[i]) fpByShare[i * (K + 1) + nJudged]! += n;
    }
  };
  if (chunks && p.dialect === 'duckdb') {
    // each mask as two 32-bit words; the label as its slot
    const words = blocks.map((_, bi) => `CAST(m${bi} & 4294967295 AS UINTEGER) AS l${bi}, CAST(m${bi} >> 32 AS UINTEGER) AS u${bi}`).join(', ');
    const sql =
      `SELECT CAST(CASE WHEN lbl = 1 THEN 0 WHEN lbl = 0 THEN 1 ELSE 2 END AS UTINYINT) AS s, ${words}, CAST(${n} AS DOUBLE) AS n ` +
      `FROM ${from} WHERE ${any} GROUP BY ALL`;
    for await (const chunk of chunks(sql, params)) {
      const sv = chunk.columns[0]!.values as Uint8Array;
      const wv = chunk.columns.slice(1, -1).map((c) => c.values as Uint32Array);
      const nv = chunk.columns.at(-1)!.values as Float64Array;
      for (let r = 0; r < chunk.rows; r++) {
        let len = 0;
        for (let w = 0; w < wv.length; w++) {
          const offset = (w >> 1) * BLOCK + (w & 1) * 32;
          for (let x = wv[w]![r]!; x !== 0; x &= x - 1) set[len++] = offset + 31 - Math.clz32(x & -x);
        }
        add(sv[r] as 0 | 1 | 2, len, nv[r]!);
      }
    }
  } else {
    const groupBy = p.dialect === 'duckdb' ? 'ALL' : `lbl, ${cols}`;
    const rows = await db.all<Record<string, number | null>>(`SELECT lbl, ${cols}, ${n} AS n FROM ${from} WHERE ${any} GROUP BY ${groupBy}`, params);
    for (const row of rows) {
      let len = 0;
      blocks.forEach((b, bi) => {
        let m = Number(row[`m${bi}`] ?? 0);
        for (let j = 0; j < b.length && m > 0; j++) {
          if (m % 2 === 1) set[len++] = bi * BLOCK + j;
          m = Math.floor(m / 2);
        }
      });
      add(slot(row['lbl']), len, Number(row['n']));
    }
  }
  const fpShare = (i: number): number => {
    let share = 0;
    for (let k = 1; k <= K; k++) share += fpByShare[i * (K + 1) + k]! / k;
    return share;
  };
  results.forEach((res, i) => {
    res.incremental_recall = bots > 0 ? incremental[i]! / bots : null;
    res.overlap = [];
    const inc: Tally = [outside[i * 3]!, outside[i * 3 + 1]!, outside[i * 3 + 2]!];
    // a deployed rule is already in the set; any other rule adds exactly its hits outside it
    const withT: Tally = deployed[i] ? [...base] : [base[0] + inc[0], base[1] + inc[1], base[2] + inc[2]];
    const w = setMetrics([], withT, totals);
    res.set = {
      incremental_tp: inc[0],
      incremental_fp: inc[1],
      incremental_recall: ratio(inc[0], totals.bots),
      incremental_fpr: ratio(inc[1], totals.humans),
      fp_share: fpShare(i),
      with: { counts: w.counts, fpr: w.fpr, fpr_upper95: w.fpr_upper95, recall: w.recall },
    };
  });
  for (let a = 0; a < K; a++) {
    for (let b = a + 1; b < K; b++) {
      const n = inter[a * K + b]!;
      if (n === 0) continue;
      const j = n / (hits[a]! + hits[b]! - n);
      results[a]!.overlap!.push({ id: rules[b]!.id, jaccard: j });
      results[b]!.overlap!.push({ id: rules[a]!.id, jaccard: j });
    }
  }
  for (const r of results) r.overlap!.sort((x, y) => y.jaccard - x.jaccard);
  return {
    deployed: setMetrics(
      rules.filter((r) => r.deployed).map((r) => r.id),
      base,
      totals,
    ),
    judged: setMetrics(
      rules.filter((r) => r.deployed || r.extra).map((r) => r.id),
      all,
      totals,
    ),
  };
}
