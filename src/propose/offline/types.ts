/** The inducer's public result types, and the values its stages pass to each other. */
import type { OnProgress } from '../../progress.js';
import type { RuleResult } from '../../backtest/engine.js';
import type { Catalog } from '../../catalog/schema.js';
import type { CompiledQuery } from '../../compile/compile.js';
import type { Store } from '../../db/store.js';
import type { Window } from '../../db/window.js';
import type { Expr } from '../../rule/ast.js';
import type { InduceAtom } from '../atoms.js';
import type { SliceCounts, SliceGate } from '../covering.js';
import type { AtomCounter } from './bins.js';
import type { Evaluator } from '../../backtest/engine-types.js';

export interface InducedRule {
  ast: Expr;
  condition: string;
  terms: number;
  /** Metrics on the full train window. */
  train: RuleResult;
  /** What each term adds, in words (validation slice), e.g. "removes 66 of 102 false positives". */
  term_notes: string[];
  /** Counts on the validation slice: bots it adds to the set, bots, false positives, humans. */
  validation: { tp_new: number; tp: number; fp: number; humans: number; union_fpr_upper95: number };
}

/** Per bot family found by the covering loop: the rule, and the features that best separate what was left. */
export interface Family {
  step: number;
  /** The rule kept for this family, or null where the search stopped. */
  condition: string | null;
  /** Bots on the fit slice not covered before this step. */
  bots_left: number;
  /** Labelled humans on the fit slice (the base of each feature's `fp`). */
  humans: number;
  /** Each feature's best single condition for the bots left: `tp` of them caught, `fp` humans hit. */
  features: { feature: string; atom: string; tp: number; fp: number }[];
}

export interface InduceResult {
  rules: InducedRule[];
  /** Candidate rules scored. */
  searched: number;
  sampleRows: number;
  window: Window;
  seconds: number;
  /** Why fewer rules than asked for, what was skipped, and why: one sentence each. */
  notes: string[];
  /** Rules not proposed because their hits repeat an existing rule's. */
  skipped: { condition: string; duplicate_of: string; jaccard: number }[];
  families: Family[];
  /** Features left out, and why (sensitive, possible label leak). */
  excluded: { feature: string; reason: string }[];
  /** The labelled humans that come with even the purest large group of bots; absent when no group was large enough to tell. */
  floor?: NoiseFloor;
}

/**
 * The noise floor of the labels, as the search saw it on the fit slice: `condition` is the
 * purest candidate holding at least FLOOR_SUPPORT of the bots (`tp` bots, `fp` labelled
 * humans). If every bot came with humans at that rate, a set catching all bots would have an
 * FPR of `fpr`; within the set gate at most `reachable` of the bots (0..1) can be caught.
 */
export interface NoiseFloor {
  condition: string;
  tp: number;
  fp: number;
  fpr: number;
  reachable: number;
  /** True when the floor keeps most bots out of reach of the set gate (reachable < 0.5): propose says so. */
  binding: boolean;
}

export interface InduceOptions {
  count: number;
  /** Conditions of existing rules (approved, candidate, rejected): never proposed again, by hit-set Jaccard. */
  exclude?: ReadonlySet<string>;
  onStep?: (m: string) => void;
  /** Rules found of the count asked for, for a progress line. */
  onProgress?: OnProgress;
  /** Changes the search sample and the fit/validation split (default 0). */
  seed?: number;
  /** Only the families (the model path's context): one covering run at the first price, no confirmation on the train window, no rules returned. */
  familiesOnly?: boolean;
  /** How the kept rules are confirmed on the train window: the kernel (default on the embedded store) or SQL. */
  evaluator?: Evaluator;
}

/** An atom with its predicate compiled once. */
export interface Term {
  atom: InduceAtom;
  pred: CompiledQuery;
}

/** An existing rule; `hits` is its hit count on the sample, its hit column is `"_rg_e<index>"`. */
export interface ExistingRule {
  condition: string;
  pred: CompiledQuery;
  hits: number;
}

/** A rule kept by the covering loop, before confirmation on the train window. */
export interface Chosen {
  terms: Term[];
  ast: Expr;
  pred: CompiledQuery;
  notes: string[];
  validation: InducedRule['validation'];
}

/** The validation slice's gate: `minSupport` new bots (no earlier rule's), `minCatch` bots in all. */
export interface ValGate extends SliceGate {
  minCatch: number;
}

/** Bots and humans of one slice of the sample. */
export interface SliceSize {
  bots: number;
  humans: number;
}

/** What the covering runs share: the sample's slices, the atoms and their counter, the gates. */
export interface SearchContext {
  store: Store;
  catalog: Catalog;
  terms: Term[];
  counter: AtomCounter;
  /** Every atom's counts on the fit slice with nothing covered. */
  firstCounts: SliceCounts[];
  /** Numeric features whose every value is an integer (thresholds are rounded to integers). */
  integer: ReadonlySet<string>;
  existing: ExistingRule[];
  fit: SliceSize;
  val: SliceSize;
  /** The fit slice's gate at FIT_MARGIN (`minSupport` new bots, `minCatch` bots in all, as on validation); a run may widen its maxFpr to `powerFitMaxFpr`. */
  fitGate: ValGate;
  /** The fit slice's FPR bound from the validation slice's power (offline/power.ts). */
  powerFitMaxFpr: number;
  valGate: ValGate;
  setMax: number;
  maxJaccard: number;
  count: number;
  step: (m: string) => void;
  progress: OnProgress;
}
