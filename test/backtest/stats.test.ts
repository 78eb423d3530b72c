import { describe, expect, it } from 'vitest';
import { metrics, wilson } from '../../src/backtest/stats.js';

describe('Wilson score interval', () => {
  // Reference values from Newcombe (1998), "Two-sided confidence intervals for the single
  // proportion", Table I (method 3, Wilson score without continuity correction).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i -> [%f, %f]', (k, n, lo, hi) => {
    const w = wilson(k, n);
    expect(w.lower).toBeCloseTo(lo, 4);
    expect(w.upper).toBeCloseTo(hi, 4);
  });

  it('is [0, 1] with no trials, never NaN', () => {
    expect(wilson(0, 0)).toEqual({ lower: 0, upper: 1 });
  });
});

describe('metrics', () => {
  it('computes from counts', () => {
    const m = metrics({ tp: 8, fp: 2, tn: 88, fn: 2, unlabeled_hits: 5 }, 120);
    expect(m.precision).toBeCloseTo(0.8);
    expect(m.recall).toBeCloseTo(0.8);
    expect(m.fpr).toBeCloseTo(2 / 90);
    expect(m.hit_rate).toBeCloseTo(15 / 120);
    expect(m.fpr_upper95).toBeCloseTo(wilson(2, 90).upper);
  });
  it('is n/a (null) where a denominator is zero', () => {
    const m = metrics({ tp: 0, fp: 0, tn: 0, fn: 0, unlabeled_hits: 3 }, 3);
    expect(m).toMatchObject({ precision: null, recall: null, fpr: null, fpr_upper95: null, hit_rate: 1 });
  });
});
