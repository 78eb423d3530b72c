/**
 * The kernel's data shapes: blocks of typed columns in, the plan every thread shares, and the
 * additive partial result (summed across blocks and threads). No node modules: workers load it.
 */
import type { AtomSpec, ColumnKind, Instr } from './plan.js';

/** Rows per block; 65,536 measured best for streaming from DuckDB (issue 13). */
export const BLOCK_ROWS = 65_536;

/** Label codes in the label column: 0 human, 1 bot, 2 NULL, 3 any other value. */
export const LABEL = { human: 0, bot: 1, none: 2, other: 3 } as const;

export type ColumnValues = Float64Array | Int32Array | Uint8Array;
/** One column of a block: values and a validity bitmap (`null` = no NULL in the block). */
export interface ColumnData {
  values: ColumnValues;
  valid: Uint32Array | null;
}
export interface Block {
  rows: number;
  cols: ColumnData[];
}

/** A time window over the time column's epoch microseconds: `ge`/`lt` the cutoff, or every row. */
export interface SideSpec {
  kind: 'all' | 'ge' | 'lt';
  cutoff: number;
}

/** Everything a worker needs; structured-clonable. */
export interface KernelPlan {
  /** Rows a thread's block buffers hold: BLOCK_ROWS, or fewer for a smaller table (a multiple of 128). */
  blockRows: number;
  kinds: ColumnKind[];
  atoms: AtomSpec[];
  program: Instr[];
  slots: number;
  /** Root slot per rule (K) and per population (P). */
  rules: number[];
  pops: number[];
  labelCol: number;
  timeCol: number;
  /** -1 without the daily breakdown. */
  dayCol: number;
  minDay: number;
  nDays: number;
  segCols: number[];
  /** Dictionary size of each segment column (codes 0..size-1; NULL is slot `size`). */
  segSizes: number[];
  /** Side 0: the judged window; side 1: the train window (or null). */
  window: SideSpec;
  train: SideSpec | null;
  overlap: boolean;
  approved: Uint8Array;
  deployed: Uint8Array;
  judged: Uint8Array;
}

/** Additive results: plain typed arrays, summed across blocks and threads. */
export interface Partial {
  /** rows per (side, day slot, label): index (side * DS + d) * 4 + label. */
  groups: Float64Array;
  /** hits per rule: k * (2 * DS * 4) + the groups index. */
  ruleGroups: Float64Array;
  segTotals: Float64Array[];
  segHits: Float64Array[];
  popTotals: Float64Array;
  popHits: Float64Array;
  inter: Float64Array;
  incremental: Float64Array;
  outside: Float64Array;
  /** FP rows hit by judged rule i while m judged rules hit it: i * (J + 1) + m. */
  fpShare: Float64Array;
  base: Float64Array;
  all: Float64Array;
}

export function daySlots(p: KernelPlan): number {
  return p.dayCol >= 0 ? p.nDays + 1 : 1;
}

export function emptyPartial(p: KernelPlan): Partial {
  const K = p.rules.length;
  const DS = daySlots(p);
  const J = p.judged.reduce((a, b) => a + b, 0);
  const ov = p.overlap ? K : 0;
  return {
    groups: new Float64Array(2 * DS * 4),
    ruleGroups: new Float64Array(K * 2 * DS * 4),
    segTotals: p.segSizes.map((v) => new Float64Array((v + 1) * 4)),
    segHits: p.segSizes.map((v) => new Float64Array(K * (v + 1) * 4)),
    popTotals: new Float64Array(p.pops.length * 4),
    popHits: new Float64Array(K * p.pops.length * 4),
    inter: new Float64Array(ov * ov),
    incremental: new Float64Array(ov),
    outside: new Float64Array(ov * 3),
    fpShare: new Float64Array(ov * (J + 1)),
    base: new Float64Array(3),
    all: new Float64Array(3),
  };
}

export function addPartial(into: Partial, p: Partial): void {
  const add = (a: Float64Array, b: Float64Array) => {
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
  };
  add(into.groups, p.groups);
  add(into.ruleGroups, p.ruleGroups);
  into.segTotals.forEach((a, j) => add(a, p.segTotals[j]!));
  into.segHits.forEach((a, j) => add(a, p.segHits[j]!));
  add(into.popTotals, p.popTotals);
  add(into.popHits, p.popHits);
  add(into.inter, p.inter);
  add(into.incremental, p.incremental);
  add(into.outside, p.outside);
  add(into.fpShare, p.fpShare);
  add(into.base, p.base);
  add(into.all, p.all);
}
