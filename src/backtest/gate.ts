/**
 * The gate that approve and check apply, on the test window: per rule (FPR bound, precision,
 * support), on the deployed set (the union customers feel), on segments and populations
 * (protected ones fail, others are findings), over time (recall across the split), against
 * other rules' behaviour (duplicates), and whether the data can say "pass" at all (power).
 * Every function here is pure: results in, decisions with reasons out.
 */
import { resolveGate, type Config, type ResolvedGate } from '../config/schema.js';
import type { DailyPoint, RuleResult, SetMetrics } from './engine.js';
import { wilson, Z95 } from './stats.js';

export interface GateVerdict {
  pass: boolean;
  /** Why it failed, in words a reviewer can act on; empty when it passed. */
  reasons: string[];
}

type Gate = Config['gate'] | ResolvedGate;
// resolveGate only fills what is missing, so a resolved gate passes through unchanged
const resolved = (g: Gate): ResolvedGate => resolveGate(g);

const pct = (x: number) => `${(100 * x).toPrecision(3)}%`;

export function applyGate(r: RuleResult, gate: Config['gate']): GateVerdict {
  const reasons: string[] = [];
  if (r.fpr_upper95 === null) reasons.push('FPR is n/a: no sessions labelled human in the window');
  else if (r.fpr_upper95 > gate.max_fpr)
    reasons.push(
      `FPR upper 95% bound ${pct(r.fpr_upper95)} exceeds max_fpr ${pct(gate.max_fpr)} (${r.counts.fp} false positives of ${r.counts.fp + r.counts.tn} humans)`,
    );
  if (r.precision === null) reasons.push('precision is n/a: the rule hits no labelled session');
  else if (r.precision < gate.min_precision) reasons.push(`precision ${pct(r.precision)} is below min_precision ${pct(gate.min_precision)}`);
  if (r.counts.tp < gate.min_support) reasons.push(`catches ${r.counts.tp} bots, fewer than min_support ${gate.min_support}`);
  return { pass: reasons.length === 0, reasons };
}

// ------------------------------------------------------------------------------ the set

/** The deployed set (or the set with candidates added): the union's FPR upper bound against set_max_fpr. */
export function applySetGate(set: Pick<SetMetrics, 'counts' | 'fpr_upper95'> & { ids?: readonly string[] }, gate: Gate): GateVerdict {
  const g = resolved(gate);
  const humans = set.counts.fp + set.counts.tn;
  const what = set.ids ? `the deployed set (${set.ids.length} rule${set.ids.length === 1 ? '' : 's'})` : 'the deployed set';
  if (set.fpr_upper95 === null) return { pass: false, reasons: [`${what}: FPR is n/a: no sessions labelled human in the window`] };
  if (set.fpr_upper95 > g.set_max_fpr) {
    return {
      pass: false,
      reasons: [`${what} hits ${set.counts.fp} of ${humans} humans: FPR upper 95% bound ${pct(set.fpr_upper95)} exceeds set_max_fpr ${pct(g.set_max_fpr)}`],
    };
  }
  return { pass: true, reasons: [] };
}

/** A rule (usually a candidate) added to the deployed set: does the set still pass? Needs `r.set` (engine option `set`). */
export function applyCandidateSetGate(r: RuleResult, gate: Gate): GateVerdict {
  if (!r.set) return { pass: true, reasons: [] };
  const g = resolved(gate);
  const w = r.set.with;
  const humans = w.counts.fp + w.counts.tn;
  if (w.fpr_upper95 === null || w.fpr_upper95 <= g.set_max_fpr) return { pass: true, reasons: [] };
  return {
    pass: false,
    reasons: [
      `with this rule the deployed set hits ${w.counts.fp} of ${humans} humans (${r.set.incremental_fp} only by this rule): FPR upper 95% ` +
        `bound ${pct(w.fpr_upper95)} exceeds set_max_fpr ${pct(g.set_max_fpr)}`,
    ],
  };
}

/** The deployed rules that contribute most to the union's false positives, largest share first. */
export function topContributors(
  results: readonly RuleResult[],
  deployedIds: readonly string[],
  n = 5,
): { id: string; fp_share: number; incremental_fp: number }[] {
  const ids = new Set(deployedIds);
  return results
    .filter((r) => ids.has(r.id) && r.set && r.set.fp_share > 0)
    .map((r) => ({ id: r.id, fp_share: r.set!.fp_share, incremental_fp: r.set!.incremental_fp }))
    .sort((a, b) => b.fp_share - a.fp_share || (a.id < b.id ? -1 : 1))
    .slice(0, n);
}

// ------------------------------------------------------------------------------ segments

/** How one rule fares on one segment value or population. */
export interface SegmentJudgement {
  /** `country=DE` or the population's name. */
  key: string;
  kind: 'segment' | 'population';
  protected: boolean;
  /** fail: the LOWER 95% bound exceeds segment_max_fpr; undetermined: too few humans to say it passes. */
  outcome: 'pass' | 'fail' | 'undetermined';
  humans: number;
  fp: number;
  fpr_lower95: number | null;
  fpr_upper95: number | null;
  message: string;
}

export interface SegmentVerdict extends GateVerdict {
  /** Harm on unprotected segments: reported, does not fail the gate. */
  warnings: string[];
  /** Protected segments and populations with too few humans to judge (never a pass). */
  undetermined: string[];
  judgements: SegmentJudgement[];
}

export interface Protection {
  /** Protected segment columns (every value of the column is protected). */
  columns: ReadonlySet<string>;
  /** Protected population names. */
  populations: ReadonlySet<string>;
}

export function judgeCell(key: string, kind: SegmentJudgement['kind'], isProtected: boolean, humans: number, fp: number, gate: Gate): SegmentJudgement {
  const g = resolved(gate);
  const what = `${isProtected ? 'protected ' : ''}${kind === 'population' ? 'population' : 'segment'} ${key}`;
  if (humans === 0)
    return {
      key,
      kind,
      protected: isProtected,
      outcome: 'undetermined',
      humans,
      fp,
      fpr_lower95: null,
      fpr_upper95: null,
      message: `${what}: too few humans to judge (n=0)`,
    };
  const { lower, upper } = wilson(fp, humans);
  const base = { key, kind, protected: isProtected, humans, fp, fpr_lower95: lower, fpr_upper95: upper };
  if (lower > g.segment_max_fpr) {
    return {
      ...base,
      outcome: 'fail',
      message:
        `FPR on ${what} is ${pct(fp / humans)} (${fp} of ${humans} humans): its lower 95% bound ${pct(lower)} exceeds ` +
        `segment_max_fpr ${pct(g.segment_max_fpr)}`,
    };
  }
  if (upper > g.segment_max_fpr)
    return { ...base, outcome: 'undetermined', message: `${what}: too few humans to judge (n=${humans}; ${fp} false positive${fp === 1 ? '' : 's'})` };
  return { ...base, outcome: 'pass', message: `${what}: FPR upper 95% bound ${pct(upper)} within segment_max_fpr ${pct(g.segment_max_fpr)}` };
}

/**
 * Judge a rule on every segment value and population it was measured on. Protected: a failure
 * fails the gate, too few humans is reported as undetermined. Unprotected: a failure is a
 * warning; undetermined cells are not reported (every small segment value would be).
 */
export function applySegmentGate(r: RuleResult, gate: Gate, protection: Protection): SegmentVerdict {
  const judgements: SegmentJudgement[] = [];
  for (const [key, s] of Object.entries(r.segments ?? {})) {
    const column = key.slice(0, key.indexOf('='));
    judgements.push(judgeCell(key, 'segment', protection.columns.has(column), s.humans, s.fp, gate));
  }
  for (const [name, s] of Object.entries(r.populations ?? {}))
    judgements.push(judgeCell(name, 'population', protection.populations.has(name), s.humans, s.fp, gate));
  const reasons = judgements.filter((j) => j.protected && j.outcome === 'fail').map((j) => j.message);
  const warnings = judgements.filter((j) => !j.protected && j.outcome === 'fail').map((j) => j.message);
  const undetermined = judgements.filter((j) => j.protected && j.outcome === 'undetermined').map((j) => j.message);
  return { pass: reasons.length === 0, reasons, warnings, undetermined, judgements };
}

// ------------------------------------------------------------------------------ time

export interface WeekRecall {
  /** First day of the week (weeks start at the first day of the test window). */
  from: string;
  bots: number;
  tp: number;
  recall: number | null;
}

const DAY_MS = 86_400_000;

/** Test days in 7-day buckets from the first test day. */
export function testWeeks(series: readonly DailyPoint[]): WeekRecall[] {
  const test = series.filter((p) => p.window === 'test').sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  if (!test.length) return [];
  const first = Date.parse(`${test[0]!.day}T00:00:00Z`);
  const weeks = new Map<number, WeekRecall>();
  for (const p of test) {
    const w = Math.floor((Date.parse(`${p.day}T00:00:00Z`) - first) / (7 * DAY_MS));
    const cur = weeks.get(w) ?? { from: p.day, bots: 0, tp: 0, recall: null };
    cur.bots += p.bots;
    cur.tp += p.tp;
    weeks.set(w, cur);
  }
  return [...weeks.entries()].sort(([a], [b]) => a - b).map(([, w]) => ({ ...w, recall: w.bots ? w.tp / w.bots : null }));
}

/**
 * Recall across the split: the test window's recall, and every test week's, must be at least
 * min_recall_ratio of the train recall. Needs `r.train` and the daily series (engine option
 * `train`); without them, or without bots on train, there is nothing to compare and it passes.
 */
export function applyStabilityGate(r: RuleResult, gate: Gate): GateVerdict & { weeks: WeekRecall[] } {
  const g = resolved(gate);
  const train = r.train?.recall ?? null;
  const weeks = testWeeks(r.daily?.series ?? []);
  if (train === null || train === 0 || r.recall === null) return { pass: true, reasons: [], weeks };
  const floor = g.min_recall_ratio * train;
  const collapsed = weeks.find((w) => w.recall !== null && w.recall < floor);
  const overall = r.recall < floor;
  if (!collapsed && !overall) return { pass: true, reasons: [], weeks };
  const day = collapsed?.from ?? weeks[0]?.from ?? 'the test window';
  const week = collapsed ? `${pct(collapsed.recall!)} of bots in the test week from ${collapsed.from} (${collapsed.tp} of ${collapsed.bots}), ` : '';
  return {
    pass: false,
    reasons: [
      `recall collapsed on ${day}: ${week}${pct(r.recall)} over the test window, against ${pct(train)} on train ` +
        `(min_recall_ratio ${g.min_recall_ratio} needs at least ${pct(floor)})`,
    ],
    weeks,
  };
}

// ------------------------------------------------------------------------------ duplicates

/** Another rule a candidate is compared with. `order`: earlier rules are the originals. */
export interface Counterpart {
  id: string;
  status: string;
  /** Why it was rejected (for rejected rules). */
  reason?: string;
  order: number;
}

export interface DuplicateFinding {
  id: string;
  jaccard: number;
  kind: 'duplicate' | 'rejected';
  message: string;
}

/**
 * A candidate whose hits overlap another rule's at or above max_jaccard: "duplicate of <id>"
 * (an approved rule, or an earlier candidate — of two look-alike candidates only the later one
 * is marked) or "repeats rejected <id>: <reason>". Needs `r.overlap` (engine option `overlap`).
 */
export function findDuplicates(r: RuleResult, self: { order: number }, others: ReadonlyMap<string, Counterpart>, gate: Gate): DuplicateFinding[] {
  const max = resolved(gate).max_jaccard;
  const out: DuplicateFinding[] = [];
  for (const o of r.overlap ?? []) {
    if (o.jaccard < max) break; // sorted, largest first
    const c = others.get(o.id);
    if (!c) continue;
    const j = o.jaccard.toFixed(3);
    if (c.status === 'rejected')
      out.push({
        id: c.id,
        jaccard: o.jaccard,
        kind: 'rejected',
        message: `repeats rejected ${c.id}: ${c.reason ?? 'no reason recorded'} (hit-set Jaccard ${j})`,
      });
    else if (c.status === 'approved' || (c.status === 'candidate' && c.order < self.order))
      out.push({ id: c.id, jaccard: o.jaccard, kind: 'duplicate', message: `duplicate of ${c.id} (hit-set Jaccard ${j})` });
  }
  return out;
}

// ------------------------------------------------------------------------------ power

export interface GatePower {
  /** Could a rule with zero false positives pass max_fpr on this many humans? */
  reachable: boolean;
  humans: number;
  /** The fewest labelled humans for which zero false positives pass max_fpr. */
  needed: number;
}

/**
 * Zero false positives in n humans has Wilson upper bound z²/(n + z²), which is at most m
 * exactly when n >= z²(1 - m)/m. max_fpr 0 is never reachable (needed: Infinity).
 */
export function gatePower(humans: number, maxFpr: number): GatePower {
  if (maxFpr >= 1) return { reachable: true, humans, needed: 0 };
  if (maxFpr <= 0) return { reachable: false, humans, needed: Number.POSITIVE_INFINITY };
  let needed = Math.ceil((Z95 * Z95 * (1 - maxFpr)) / maxFpr);
  // floating point at the boundary: settle on the exact Wilson function the gate uses
  while (needed > 1 && wilson(0, needed - 1).upper <= maxFpr) needed--;
  while (wilson(0, needed).upper > maxFpr) needed++;
  return { reachable: humans >= needed, humans, needed };
}

export function powerMessage(p: GatePower, maxFpr: number): string {
  return (
    `the test window has ${p.humans.toLocaleString('en-US')} labelled humans; at least ${p.needed.toLocaleString('en-US')} are needed for a rule ` +
    `to pass max_fpr ${pct(maxFpr)} even with zero false positives`
  );
}

// ------------------------------------------------------------------------------ everything

/** Every issue-12 finding about one rule; the failure lists each fail the gate. */
export interface RuleFindings {
  set: string[];
  segment: string[];
  stability: string[];
  duplicate: string[];
  /** Reported, not failing: harm on unprotected segments. */
  warnings: string[];
  /** Protected segments/populations with too few humans to judge. */
  undetermined: string[];
}

export function failureReasons(f: RuleFindings): string[] {
  return [...f.set, ...f.segment, ...f.stability, ...f.duplicate];
}

/** The per-rule gate and every finding above, as one verdict (reasons = failures; warnings apart). */
export function applyFullGate(r: RuleResult, gate: Config['gate'], findings: RuleFindings): GateVerdict & { warnings: string[] } {
  const base = applyGate(r, gate);
  const reasons = [...base.reasons, ...failureReasons(findings)];
  return { pass: reasons.length === 0, reasons, warnings: [...findings.warnings, ...findings.undetermined] };
}
