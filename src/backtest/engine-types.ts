/** The backtest engine's rule inputs, options and result shapes (the engine itself: engine.ts). */
import type { Param } from '../db/store.js';
import type { Counts, Metrics } from './stats.js';
import type { Engine, EngineInfo } from '../engine/types.js';
import type { Window } from '../db/window.js';
import type { OnProgress } from '../progress.js';

/**
 * A rule as the engine sees it: a predicate with positional `?` parameters, compiled for the
 * dialect of `EngineOptions.engine` (DuckDB without one; `compileBound` for another engine).
 */
export interface EngineRule {
  id: string;
  predicate: Readonly<{ sql: string; parameters: readonly Param[] }>;
  /** Approved rules form the baseline for incremental recall. */
  approved?: boolean;
  /** In the deployed set: approved with action block or challenge (log rules are shadow rules). */
  deployed?: boolean;
  /** Judged together with the deployed set (e.g. the candidates being approved). */
  extra?: boolean;
}

/** A population: a named condition compiled to a DuckDB predicate. */
export interface PopulationPredicate {
  name: string;
  predicate: Readonly<{ sql: string; parameters: readonly Param[] }>;
}

/** One day of one rule. A day that straddles the split appears twice, once per window. */
export interface DailyPoint {
  day: string;
  window: 'train' | 'test' | 'all';
  rows: number;
  humans: number;
  bots: number;
  hits: number;
  tp: number;
  fp: number;
  recall: number | null;
  fpr: number | null;
}

export interface SegmentResult {
  rows: number;
  humans: number;
  hits: number;
  fp: number;
  fpr: number | null;
  fpr_upper95: number | null;
  fpr_lower95: number | null;
}

/** Counts and metrics of a union of rules (a session counts once, whichever rules hit it). */
export interface SetMetrics extends Metrics {
  ids: string[];
  counts: Counts;
}

/** One rule against the deployed set. "Incremental" = hit by this rule and by no other deployed rule. */
export interface RuleSetResult {
  incremental_tp: number;
  incremental_fp: number;
  incremental_recall: number | null;
  incremental_fpr: number | null;
  /** The rule's share of the judged union's false positives: each FP session split evenly among the judged rules that hit it. */
  fp_share: number;
  /** The deployed set plus this rule (for a deployed rule: the deployed set itself). */
  with: { counts: Counts; fpr: number | null; fpr_upper95: number | null; recall: number | null };
}

export interface RuleResult extends Metrics {
  id: string;
  counts: Counts;
  daily?: { worst_fpr: number | null; worst_day: string | null; days: number; series: DailyPoint[] };
  /** Keyed by `<segment column>=<value>`. */
  segments?: Record<string, SegmentResult>;
  /** Share of the window's bots caught by this rule and by no approved rule (other than itself). */
  incremental_recall?: number | null;
  /** Jaccard similarity of hit sets with every other rule that shares a hit. */
  overlap?: { id: string; jaccard: number }[];
  /** Keyed by population name (only the sessions in the population). */
  populations?: Record<string, SegmentResult>;
  /** Counts on the train window (with `train` in the options). */
  train?: { counts: Counts; recall: number | null; fpr: number | null };
  set?: RuleSetResult;
}

export interface BacktestResult {
  window: Window;
  rows: number;
  bots: number;
  humans: number;
  unlabeled: number;
  rules: RuleResult[];
  warnings: string[];
  timings: Record<string, number>;
  /** Sessions, humans and bots of each population in the window. */
  populations?: Record<string, { rows: number; humans: number; bots: number }>;
  /** The deployed set (`deployed` rules) and the judged set (deployed + `extra` rules). */
  set?: { deployed: SetMetrics; judged: SetMetrics };
  /** Where it ran, when run on an explicit engine (issue 18): kind, target, statements' hash, bytes scanned, cost. */
  execution?: EngineInfo;
  /** Which evaluator made it (issue 13): the columnar kernel, or the SQL engine (the reference, and every engine but the embedded store). */
  engine?: EvaluatorName;
  /** The kernel's loops (WebAssembly SIMD or plain JS) and worker threads (0 = in-thread), when the kernel made it. */
  kernel?: { simd: boolean; workers: number };
  /** Why the kernel was not used, when the default (`auto`) fell back to SQL. */
  kernel_fallback?: string;
}

/** The two evaluators of a backtest on the embedded store (issue 13). */
export type EvaluatorName = 'kernel' | 'sql';

/** Which evaluator to use: one of them, or `auto` (the default): the kernel, SQL where the kernel cannot run. */
export type Evaluator = 'auto' | EvaluatorName;

export const EVALUATORS: readonly EvaluatorName[] = ['kernel', 'sql'];

export interface EngineOptions {
  daily?: boolean;
  /** Segment columns present in the table. */
  segments?: readonly string[];
  overlap?: boolean;
  populations?: readonly PopulationPredicate[];
  /** Also evaluate the rules on this (train) window: train counts and train days in the daily series. */
  train?: Window;
  /** Set metrics from the overlap scan (implies `overlap`). */
  set?: boolean;
  /**
   * Run on this engine instead of `store` (issue 18): the statements are written in its
   * dialect (engine/plan.ts), the rules and populations must be compiled for it, and the
   * result carries `engine` (where, the statements' hash, bytes scanned and cost).
   */
  engine?: Engine;
  /** Statements done (the total is not known up front); ticked after each. */
  onProgress?: OnProgress;
}

/** What runBacktest needs of a store or an engine. */
export type Db = Pick<Engine, 'all' | 'run'>;

/** One row of a grouped scan: keys, label, count and per-rule hit sums by column name. */
export type GroupRow = Record<string, string | number | null>;
