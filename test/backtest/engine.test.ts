import { describe, expect, it } from 'vitest';
import { runBacktest, type EngineRule } from '../../src/backtest/engine.js';
import { wilson } from '../../src/backtest/stats.js';
import { resolveWindow } from '../../src/db/window.js';
import { BACKTEST_CONFIG, fourteenSessions } from '../helpers/backtest.js';

/** The 14 sessions of test/helpers/backtest.ts: a..d train, e..n test (cutoff 2026-01-02 13:30). */
const config = BACKTEST_CONFIG;
const fixture = fourteenSessions;

const rule = (id: string, sql: string, parameters: number[], approved = false): EngineRule => ({ id, predicate: { sql, parameters }, approved });

describe('backtest engine', () => {
  it('matches hand-computed counts, daily and segment FPR, overlap and incremental recall', async () => {
    const s = await fixture();
    const w = await resolveWindow(s, config, 'test');
    // span 2026-01-01 00:00 .. 2026-01-04 03:00 (75 h); cutoff at 37.5 h = 2026-01-02 13:30
    expect(w.cutoff).toBe('2026-01-02T13:30:00.000Z');
    expect(w.rows).toBe(10); // e..n
    const rules = [
      rule('fast', '("rpm" > ?::DOUBLE)', [100]), // test hits: e(bot) g(human) j(unl)
      rule('medium', '("rpm" > ?::DOUBLE)', [80], true), // e g j k l
      rule('none', '("rpm" > ?::DOUBLE)', [1000]),
    ];
    const r = await runBacktest(s, config, w, rules, { daily: true, segments: ['country'], overlap: true });
    expect([r.rows, r.bots, r.humans, r.unlabeled]).toEqual([10, 3, 5, 2]);
    const [fast, medium, none] = r.rules;
    expect(fast!.counts).toEqual({ tp: 1, fp: 1, tn: 4, fn: 2, unlabeled_hits: 1 });
    expect(fast!.precision).toBeCloseTo(0.5);
    expect(fast!.recall).toBeCloseTo(1 / 3);
    expect(fast!.fpr).toBeCloseTo(1 / 5);
    expect(fast!.fpr_upper95).toBeCloseTo(wilson(1, 5).upper);
    expect(fast!.hit_rate).toBeCloseTo(3 / 10);
    expect(medium!.counts).toEqual({ tp: 2, fp: 2, tn: 3, fn: 1, unlabeled_hits: 1 });
    expect(none!.counts).toEqual({ tp: 0, fp: 0, tn: 5, fn: 3, unlabeled_hits: 0 });
    expect(none!.precision).toBeNull();
    // daily: day 3 humans g h i (fast fp g: 1/3); day 4 humans l m (fast fp 0; medium fp l: 1/2)
    expect(fast!.daily).toMatchObject({ worst_fpr: 1 / 3, worst_day: '2026-01-03', days: 2 });
    expect(medium!.daily).toMatchObject({ worst_fpr: 1 / 2, worst_day: '2026-01-04' });
    // segments: DE humans g m (fast fp g); US humans h i l
    expect(fast!.segments!['country=DE']).toMatchObject({ humans: 2, fp: 1, fpr: 0.5, hits: 1 });
    expect(fast!.segments!['country=US']).toMatchObject({ humans: 3, fp: 0, fpr: 0, hits: 2 });
    // overlap: fast hits {e,g,j}, medium {e,g,j,k,l}: jaccard 3/5
    expect(fast!.overlap).toEqual([{ id: 'medium', jaccard: 3 / 5 }]);
    expect(none!.overlap).toEqual([]);
    // incremental recall: medium is approved and catches e,k; fast catches nothing new
    expect(fast!.incremental_recall).toBe(0);
    expect(medium!.incremental_recall).toBeCloseTo(2 / 3);
    s.close();
  });

  it('warns and reports n/a when a window has no labels', async () => {
    const s = await fixture();
    await s.run('UPDATE sessions SET label = NULL');
    const w = await resolveWindow(s, config, 'all');
    const r = await runBacktest(s, config, w, [rule('x', '("rpm" > ?::DOUBLE)', [10])]);
    expect(r.warnings[0]).toMatch(/no labelled sessions/);
    expect(r.rules[0]).toMatchObject({ precision: null, recall: null, fpr: null, fpr_upper95: null });
    expect(r.rules[0]!.hit_rate).toBeCloseTo(9 / 14);
    s.close();
  });

  it('a window with no humans: FPR is n/a with a warning, recall still computed', async () => {
    const s = await fixture();
    await s.run('UPDATE sessions SET label = NULL WHERE label = 0');
    const w = await resolveWindow(s, config, 'test');
    const r = await runBacktest(s, config, w, [rule('x', '("rpm" > ?::DOUBLE)', [100])], { daily: true, segments: ['country'] });
    expect(r.warnings[0]).toMatch(/no sessions labelled human: FPR is n\/a/);
    expect(r.rules[0]).toMatchObject({ fpr: null, fpr_upper95: null, precision: 1 });
    expect(r.rules[0]!.recall).toBeCloseTo(1 / 3);
    expect(r.rules[0]!.daily!.worst_fpr).toBeNull();
    s.close();
  });

  it('an empty window is a clear error', async () => {
    const s = await fixture();
    await expect(resolveWindow(s, { ...config, split: { test_fraction: 0.3, test_from: '2030-01-01' } }, 'test')).rejects.toThrow(/test window is empty/);
    s.close();
  });

  it('handles more rules than one mask block', async () => {
    const s = await fixture();
    const w = await resolveWindow(s, config, 'all');
    const rules = Array.from({ length: 120 }, (_, i) => rule(`r${i}`, '("rpm" > ?::DOUBLE)', [i * 3]));
    const r = await runBacktest(s, config, w, rules, { overlap: true });
    // r0 (rpm > 0) hits all 14 rows; r100 (rpm > 300) none; r33 (rpm > 99) hits a d e g j
    const r33 = r.rules[33]!;
    expect(r33.counts.tp + r33.counts.fp + r33.counts.unlabeled_hits).toBe(5);
    expect(r.rules[0]!.overlap!.find((o) => o.id === 'r33')!.jaccard).toBeCloseTo(5 / 14);
    s.close();
  });
});
