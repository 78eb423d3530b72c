/** Hand-computed fixtures for every issue-12 gate decision, with its reasons. */
import { describe, expect, it } from 'vitest';
import type { DailyPoint, RuleResult } from '../../src/backtest/engine.js';
import {
  applyCandidateSetGate,
  applySegmentGate,
  applySetGate,
  applyStabilityGate,
  findDuplicates,
  gatePower,
  judgeCell,
  powerMessage,
  testWeeks,
  type Counterpart,
} from '../../src/backtest/gate.js';
import { metrics, wilson, type Counts } from '../../src/backtest/stats.js';
import { DEFAULT_CONFIG, resolveGate } from '../../src/config/schema.js';

const gate = DEFAULT_CONFIG.gate; // max_fpr 0.001 -> set_max_fpr 0.001, segment_max_fpr 0.003

function result(counts: Counts, extra: Partial<RuleResult> = {}): RuleResult {
  return { id: 'r', counts, ...metrics(counts, counts.tp + counts.fp + counts.tn + counts.fn), ...extra };
}

describe('gate defaults', () => {
  it('derives set_max_fpr = max_fpr and segment_max_fpr = 3 x max_fpr unless given', () => {
    expect(resolveGate(gate)).toMatchObject({ set_max_fpr: 0.001, segment_max_fpr: 0.003, min_recall_ratio: 0.5, max_jaccard: 0.9 });
    expect(resolveGate({ ...gate, max_fpr: 0.01, set_max_fpr: 0.02 })).toMatchObject({ set_max_fpr: 0.02, segment_max_fpr: 0.03 });
  });
});

describe('set gate', () => {
  // 6 rules each passing alone; together they hit 12 of 10,000 humans: 0.12%, Wilson upper
  // (12 + 1.92 + 1.96*sqrt(12*9988/10000 + 0.96)) / 10003.84 = 0.2096% > 0.1%
  const union = {
    ids: ['a', 'b', 'c', 'd', 'e', 'f'],
    counts: { tp: 500, fp: 12, tn: 9988, fn: 500, unlabeled_hits: 0 },
    fpr_upper95: wilson(12, 10_000).upper,
  };
  it('fails the union on its upper bound, with the count of humans hit', () => {
    expect(union.fpr_upper95).toBeCloseTo(0.002096, 5);
    const v = applySetGate(union, gate);
    expect(v.pass).toBe(false);
    expect(v.reasons).toEqual(['the deployed set (6 rules) hits 12 of 10000 humans: FPR upper 95% bound 0.210% exceeds set_max_fpr 0.100%']);
  });
  it('passes under a looser set_max_fpr', () => {
    expect(applySetGate(union, { ...gate, set_max_fpr: 0.0025 })).toEqual({ pass: true, reasons: [] });
  });
  it('judges a candidate by the set with it added', () => {
    // deployed set: 1 FP in 10,000 humans; the candidate adds 3 more only it hits -> 4 of 10,000
    const withCounts = { tp: 30, fp: 4, tn: 9996, fn: 70, unlabeled_hits: 0 };
    const r = result(
      { tp: 25, fp: 3, tn: 9997, fn: 75, unlabeled_hits: 0 },
      {
        set: {
          incremental_tp: 5,
          incremental_fp: 3,
          incremental_recall: 0.05,
          incremental_fpr: 0.0003,
          fp_share: 3,
          with: { counts: withCounts, fpr: 0.0004, fpr_upper95: wilson(4, 10_000).upper, recall: 0.3 },
        },
      },
    );
    expect(wilson(4, 10_000).upper).toBeCloseTo(0.001028, 5);
    expect(applyCandidateSetGate(r, gate)).toEqual({
      pass: false,
      reasons: ['with this rule the deployed set hits 4 of 10000 humans (3 only by this rule): FPR upper 95% bound 0.103% exceeds set_max_fpr 0.100%'],
    });
    expect(applyCandidateSetGate(r, { ...gate, set_max_fpr: 0.0011 }).pass).toBe(true);
  });
});

describe('segment gate (lower 95% bound)', () => {
  it('3 false positives of 13 humans: lower bound 8.18% > 0.3% fails', () => {
    const j = judgeCell('country=NZ', 'segment', true, 13, 3, gate);
    expect(j.fpr_lower95).toBeCloseTo(0.0818, 4);
    expect(j.outcome).toBe('fail');
    expect(j.message).toBe('FPR on protected segment country=NZ is 23.1% (3 of 13 humans): its lower 95% bound 8.18% exceeds segment_max_fpr 0.300%');
  });
  it('0 of 13 humans: upper 22.8% leaves it undetermined, never a pass', () => {
    const j = judgeCell('keyboard_only', 'population', true, 13, 0, gate);
    expect(j.fpr_upper95).toBeCloseTo(0.2281, 4);
    expect(j).toMatchObject({ outcome: 'undetermined', message: 'protected population keyboard_only: too few humans to judge (n=13; 0 false positives)' });
    expect(judgeCell('x', 'population', true, 0, 0, gate)).toMatchObject({
      outcome: 'undetermined',
      message: 'protected population x: too few humans to judge (n=0)',
    });
  });
  it('0 of 2,000 humans passes (upper 0.192%); 2 of 2,000 is undetermined (lower 0.027%, upper 0.364%)', () => {
    expect(judgeCell('k', 'population', true, 2000, 0, gate)).toMatchObject({ outcome: 'pass' });
    const j = judgeCell('k', 'population', true, 2000, 2, gate);
    expect(j.fpr_lower95).toBeCloseTo(0.000274, 5);
    expect(j.fpr_upper95).toBeCloseTo(0.003642, 5);
    expect(j.outcome).toBe('undetermined');
  });
  it('protected failures fail the gate; unprotected ones are warnings', () => {
    const seg = (humans: number, fp: number) => ({
      rows: humans,
      humans,
      hits: fp,
      fp,
      fpr: fp / humans,
      fpr_upper95: wilson(fp, humans).upper,
      fpr_lower95: wilson(fp, humans).lower,
    });
    const r = result(
      { tp: 50, fp: 10, tn: 9990, fn: 50, unlabeled_hits: 0 },
      {
        segments: { 'country=NZ': seg(13, 3), 'country=US': seg(5000, 1), 'device_class=tablet': seg(100, 5) },
        populations: { keyboard_only: seg(200, 6), power_users: seg(40, 0) },
      },
    );
    const v = applySegmentGate(r, gate, { columns: new Set(['country']), populations: new Set(['keyboard_only', 'power_users']) });
    expect(v.pass).toBe(false);
    expect(v.reasons).toEqual([
      'FPR on protected segment country=NZ is 23.1% (3 of 13 humans): its lower 95% bound 8.18% exceeds segment_max_fpr 0.300%',
      // 6 of 200: lower bound 1.38%
      'FPR on protected population keyboard_only is 3.00% (6 of 200 humans): its lower 95% bound 1.38% exceeds segment_max_fpr 0.300%',
    ]);
    expect(v.warnings).toEqual(['FPR on segment device_class=tablet is 5.00% (5 of 100 humans): its lower 95% bound 2.15% exceeds segment_max_fpr 0.300%']);
    expect(v.undetermined).toEqual(['protected population power_users: too few humans to judge (n=40; 0 false positives)']);
  });
});

describe('stability gate (recall ratio)', () => {
  const day = (d: string, window: DailyPoint['window'], bots: number, tp: number): DailyPoint => ({
    day: d,
    window,
    rows: bots + 100,
    humans: 100,
    bots,
    hits: tp,
    tp,
    fp: 0,
    recall: bots ? tp / bots : null,
    fpr: 0,
  });
  // train recall 15/100 = 15%; floor 7.5%. Test: week from 01-10 (7 days x 10 bots, 10 caught)
  // = 14.3%; week from 01-17 (7 days x 10 bots, 1 caught) = 1.43%; overall 11/140 = 7.86%.
  const series = [day('2026-01-08', 'train', 50, 8), day('2026-01-09', 'train', 50, 7)];
  for (let i = 0; i < 14; i++) series.push(day(`2026-01-${String(10 + i).padStart(2, '0')}`, 'test', 10, i < 7 ? (i < 3 ? 2 : 1) : i === 7 ? 1 : 0));
  const r = result(
    { tp: 11, fp: 0, tn: 1400, fn: 129, unlabeled_hits: 0 },
    {
      daily: { worst_fpr: 0, worst_day: null, days: 14, series },
      train: { counts: { tp: 15, fp: 0, tn: 200, fn: 85, unlabeled_hits: 0 }, recall: 0.15, fpr: 0 },
    },
  );

  it('weeks start at the first test day', () => {
    expect(testWeeks(series)).toEqual([
      { from: '2026-01-10', bots: 70, tp: 10, recall: 10 / 70 },
      { from: '2026-01-17', bots: 70, tp: 1, recall: 1 / 70 },
    ]);
  });
  it('a test week below the ratio fails even though the whole test window does not', () => {
    expect(r.recall).toBeCloseTo(11 / 140);
    const v = applyStabilityGate(r, gate);
    expect(v.pass).toBe(false);
    expect(v.reasons).toEqual([
      'recall collapsed on 2026-01-17: 1.43% of bots in the test week from 2026-01-17 (1 of 70), 7.86% over the test window, against 15.0% on ' +
        'train (min_recall_ratio 0.5 needs at least 7.50%)',
    ]);
  });
  it('passes with a lower ratio, and when train recall is 0 (nothing to collapse)', () => {
    expect(applyStabilityGate(r, { ...gate, min_recall_ratio: 0.09 }).pass).toBe(true); // floor 1.35% < 1.43%
    expect(applyStabilityGate({ ...r, train: { ...r.train!, recall: 0 } }, gate).pass).toBe(true);
  });
  it('the issue example: 15.0% on train, 0.9% on test fails from the first test week', () => {
    const s2 = [day('2026-01-09', 'train', 100, 15), day('2026-01-10', 'test', 1000, 9)];
    const r2 = result(
      { tp: 9, fp: 0, tn: 100, fn: 991, unlabeled_hits: 0 },
      {
        daily: { worst_fpr: 0, worst_day: null, days: 1, series: s2 },
        train: { counts: { tp: 15, fp: 0, tn: 100, fn: 85, unlabeled_hits: 0 }, recall: 0.15, fpr: 0 },
      },
    );
    expect(applyStabilityGate(r2, gate).reasons[0]).toMatch(/^recall collapsed on 2026-01-10: 0\.900% of bots/);
  });
});

describe('duplicates by behaviour (Jaccard)', () => {
  const others = new Map<string, Counterpart>([
    ['approved-1', { id: 'approved-1', status: 'approved', order: 0 }],
    ['rejected-1', { id: 'rejected-1', status: 'rejected', reason: 'hits customers on VPNs', order: 1 }],
    ['cand-early', { id: 'cand-early', status: 'candidate', order: 2 }],
    ['cand-late', { id: 'cand-late', status: 'candidate', order: 9 }],
  ]);
  const r = result(
    { tp: 1, fp: 0, tn: 1, fn: 0, unlabeled_hits: 0 },
    {
      overlap: [
        { id: 'cand-early', jaccard: 1 },
        { id: 'cand-late', jaccard: 0.99 },
        { id: 'rejected-1', jaccard: 0.947 },
        { id: 'approved-1', jaccard: 0.9 },
        { id: 'other', jaccard: 0.899 },
      ],
    },
  );
  it('marks duplicates of approved and earlier candidates and repeats of rejected rules, at or above max_jaccard', () => {
    expect(findDuplicates(r, { order: 5 }, others, gate).map((d) => d.message)).toEqual([
      'duplicate of cand-early (hit-set Jaccard 1.000)',
      'repeats rejected rejected-1: hits customers on VPNs (hit-set Jaccard 0.947)',
      'duplicate of approved-1 (hit-set Jaccard 0.900)',
    ]);
  });
  it('below max_jaccard nothing is marked', () => {
    expect(findDuplicates(r, { order: 5 }, others, { ...gate, max_jaccard: 0.95 }).map((d) => d.id)).toEqual(['cand-early']);
  });
});

describe('statistical power', () => {
  it('1,200 humans cannot pass 0.1%: 0 FP has upper bound 0.319%; 3,838 are needed', () => {
    expect(wilson(0, 1200).upper).toBeCloseTo(0.00319, 5);
    const p = gatePower(1200, 0.001);
    expect(p).toEqual({ reachable: false, humans: 1200, needed: 3838 });
    // the boundary: 3,838 humans pass (0.09999%), 3,837 do not (0.10002%)
    expect(wilson(0, 3838).upper).toBeLessThanOrEqual(0.001);
    expect(wilson(0, 3837).upper).toBeGreaterThan(0.001);
    expect(powerMessage(p, 0.001)).toBe(
      'the test window has 1,200 labelled humans; at least 3,838 are needed for a rule to pass max_fpr 0.100% even with zero false positives',
    );
  });
  it('reachable at and above the bound', () => {
    expect(gatePower(3838, 0.001).reachable).toBe(true);
    expect(gatePower(5, 0.5)).toEqual({ reachable: true, humans: 5, needed: 4 }); // 3.84/(4+3.84) = 0.49
    expect(gatePower(10, 0).reachable).toBe(false);
  });
});
