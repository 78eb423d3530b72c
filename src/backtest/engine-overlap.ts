/**
 * Overlap, incremental recall and the deployed set, from per-row hit bitmasks grouped by mask:
 * JS sees one row per distinct combination of rules that fired, never the sessions themselves.
 */
import type { Window } from '../db/window.js';
import type { SqlPlan } from '../engine/plan.js';
import { metrics, ratio, type Counts } from './stats.js';
import type { BacktestResult, Db, EngineRule, RuleResult, SetMetrics } from './engine-types.js';

/** A rule's predicate as a 0/1 value, summed for counts and shifted into masks. */
export const hitExpr = (r: EngineRule): string => `(CASE WHEN ${r.predicate.sql} THEN 1 ELSE 0 END)`;

/** One mask column: bit j = rule j of the block hit the row. */
export const maskExpr = (p: SqlPlan, b: readonly EngineRule[]): string => `(${b.map((r, j) => p.maskBit(hitExpr(r), j)).join(p.maskJoin)})`;

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

/** `maskTable`: the rows' masks already materialised by the breakdown scan (else one more scan). */
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
): Promise<BacktestResult['set']> {
  const { bots } = totals;
  const blocks = maskBlocks(rules);
  const any = blocks.map((_, bi) => `m${bi} <> 0`).join(' OR ');
  const cols = blocks.map((_, bi) => `m${bi}`).join(', ');
  const groupBy = p.dialect === 'duckdb' ? 'ALL' : `lbl, ${cols}`;
  const rows = maskTable
    ? await db.all<Record<string, number | null>>(`SELECT lbl, ${cols}, count(*) AS n FROM ${maskTable} WHERE ${any} GROUP BY ALL`)
    : await db.all<Record<string, number | null>>(
        `SELECT lbl, ${cols}, count(*) AS n FROM (SELECT ${label} AS lbl, ${blocks.map((b, bi) => `${maskExpr(p, b)} AS m${bi}`).join(', ')} FROM ${table} WHERE ${window.where}) AS rulegen_m WHERE ${any} GROUP BY ${groupBy}`,
        [...blocks.flatMap((b) => b.flatMap((r) => r.predicate.parameters)), ...window.parameters],
      );
  const K = rules.length;
  const hits = new Float64Array(K);
  // K x K upper triangle in a typed array: a Map keyed by pairs cost 1.7 s at 10M rows
  const inter = new Float64Array(K * K);
  const approved = rules.map((r) => Boolean(r.approved));
  const deployed = rules.map((r) => Boolean(r.deployed));
  const judged = rules.map((r) => Boolean(r.deployed || r.extra));
  const incremental = new Float64Array(K);
  // hits by rule i and by no deployed rule other than i, per label slot
  const outside = new Float64Array(K * 3);
  const fpShare = new Float64Array(K);
  const base: Tally = [0, 0, 0];
  const all: Tally = [0, 0, 0];
  for (const row of rows) {
    const n = Number(row['n']);
    const set: number[] = [];
    blocks.forEach((b, bi) => {
      let m = Number(row[`m${bi}`] ?? 0);
      for (let j = 0; j < b.length && m > 0; j++) {
        if (m % 2 === 1) set.push(bi * BLOCK + j);
        m = Math.floor(m / 2);
      }
    });
    for (let a = 0; a < set.length; a++) {
      hits[set[a]!]! += n;
      for (let b = a + 1; b < set.length; b++) {
        inter[set[a]! * K + set[b]!]! += n;
      }
    }
    if (row['lbl'] === 1) {
      const approvedHits = set.filter((i) => approved[i]);
      for (const i of set) {
        // caught by i and by no approved rule other than i itself
        if (approvedHits.every((a) => a === i)) incremental[i]! += n;
      }
    }
    const s = slot(row['lbl']);
    const d = set.filter((i) => deployed[i]);
    const j = set.filter((i) => judged[i]);
    if (d.length) base[s] += n;
    if (j.length) {
      all[s] += n;
      if (s === 1) for (const i of j) fpShare[i]! += n / j.length;
    }
    for (const i of set) if (d.every((x) => x === i)) outside[i * 3 + s]! += n;
  }
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
      fp_share: fpShare[i]!,
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
