/** The engine's issue-12 outputs on a 14-row fixture, every figure hand-computed. */
import { describe, expect, it } from 'vitest';
import { runBacktest, type EngineRule } from '../../src/backtest/engine.js';
import { applyCandidateSetGate, applySetGate, topContributors } from '../../src/backtest/gate.js';
import { wilson } from '../../src/backtest/stats.js';
import { resolveWindow } from '../../src/db/window.js';
import { DuckDbEngine } from '../../src/engine/duckdb.js';
import { BACKTEST_CONFIG, fourteenSessions } from '../helpers/backtest.js';

/** The 14 sessions of test/helpers/backtest.ts: a..d train, e..n test (cutoff 2026-01-02 13:30). */
const config = BACKTEST_CONFIG;
const fixture = fourteenSessions;

const gt = (v: number) => ({ sql: '("rpm" > ?::DOUBLE)', parameters: [v] });
const lt = (v: number) => ({ sql: '("rpm" < ?::DOUBLE)', parameters: [v] });

describe('set metrics, populations and the train series', () => {
  it('match hand-computed figures', async () => {
    const s = await fixture();
    const test = await resolveWindow(s, config, 'test');
    const train = await resolveWindow(s, config, 'train');
    const rules: EngineRule[] = [
      { id: 'A', predicate: gt(100), approved: true, deployed: true }, // test hits e g j
      { id: 'B', predicate: gt(80), approved: true, deployed: true }, // e g j k l
      { id: 'C', predicate: lt(4.5), approved: true }, // log rule (shadow): h i m n
      { id: 'D', predicate: { sql: '("rpm" between ?::DOUBLE and ?::DOUBLE)', parameters: [2.5, 3.5] }, extra: true }, // h
    ];
    const populations = [
      { name: 'slow', predicate: lt(10) }, // test: h i m (humans), n
      { name: 'nobody', predicate: gt(10_000) },
    ];
    const r = await runBacktest(s, config, test, rules, { daily: true, segments: ['country'], overlap: true, set: true, populations, train });
    const [A, B, C, D] = r.rules;

    // the deployed union (A, B): e g j k l -> tp e k, fp g l, unlabelled j; 5 humans, 3 bots
    expect(r.set!.deployed.ids).toEqual(['A', 'B']);
    expect(r.set!.deployed.counts).toEqual({ tp: 2, fp: 2, tn: 3, fn: 1, unlabeled_hits: 1 });
    expect(r.set!.deployed.fpr).toBeCloseTo(0.4);
    expect(r.set!.deployed.fpr_upper95).toBeCloseTo(0.7693, 4); // Wilson(2, 5)
    // judged = deployed + D: adds h
    expect(r.set!.judged.counts).toMatchObject({ tp: 2, fp: 3, unlabeled_hits: 1 });
    // incremental: A's hits are all B's too; B alone catches k and hits l
    expect(A!.set).toMatchObject({ incremental_tp: 0, incremental_fp: 0, incremental_recall: 0, incremental_fpr: 0, fp_share: 0.5 });
    expect(B!.set).toMatchObject({ incremental_tp: 1, incremental_fp: 1, fp_share: 1.5 });
    expect(B!.set!.incremental_recall).toBeCloseTo(1 / 3);
    expect(B!.set!.incremental_fpr).toBeCloseTo(1 / 5);
    // the log rule is not in the set and takes no share; no deployed rule hits h i m n
    expect(C!.set).toMatchObject({ incremental_fp: 3, fp_share: 0 });
    // D added to the set: g l h of 5 humans
    expect(D!.set).toMatchObject({ incremental_fp: 1, incremental_tp: 0, fp_share: 1 });
    expect(D!.set!.with.counts).toEqual({ tp: 2, fp: 3, tn: 2, fn: 1, unlabeled_hits: 1 });
    expect(D!.set!.with.fpr_upper95).toBeCloseTo(0.8824, 4); // Wilson(3, 5)
    // a deployed rule's "with" is the deployed set itself
    expect(A!.set!.with.counts.fp).toBe(2);

    // gates: at set_max_fpr 0.8 the deployed set passes (76.9%), with D it fails (88.2%)
    const g = { ...config.gate, set_max_fpr: 0.8 };
    expect(applySetGate(r.set!.deployed, g).pass).toBe(true);
    expect(applyCandidateSetGate(D!, g).reasons).toEqual([
      'with this rule the deployed set hits 3 of 5 humans (1 only by this rule): FPR upper 95% bound 88.2% exceeds set_max_fpr 80.0%',
    ]);
    expect(applySetGate(r.set!.deployed, config.gate).reasons).toEqual([
      'the deployed set (2 rules) hits 2 of 5 humans: FPR upper 95% bound 76.9% exceeds set_max_fpr 0.100%',
    ]);
    expect(topContributors(r.rules, r.set!.deployed.ids)).toEqual([
      { id: 'B', fp_share: 1.5, incremental_fp: 1 },
      { id: 'A', fp_share: 0.5, incremental_fp: 0 },
    ]);

    // populations: slow holds h i m n (3 humans); C hits all three, D hits h
    expect(r.populations).toEqual({ slow: { rows: 4, humans: 3, bots: 0 }, nobody: { rows: 0, humans: 0, bots: 0 } });
    expect(r.warnings).toContain('population "nobody" matches no session in the test window');
    expect(C!.populations!['slow']).toMatchObject({ humans: 3, fp: 3, hits: 4, fpr: 1 });
    expect(D!.populations!['slow']).toMatchObject({ humans: 3, fp: 1, fpr: 1 / 3, fpr_lower95: wilson(1, 3).lower });
    expect(D!.populations!['nobody']).toMatchObject({ humans: 0, fp: 0, fpr: null });
    // core counts are unchanged by the population columns
    expect(A!.counts).toEqual({ tp: 1, fp: 1, tn: 4, fn: 2, unlabeled_hits: 1 });
    expect(A!.segments!['country=DE']).toMatchObject({ humans: 2, fp: 1, fpr: 0.5, fpr_lower95: wilson(1, 2).lower });

    // train: a b c d; A (rpm > 100) catches d of a, d: recall 1/2
    expect(A!.train).toEqual({ counts: { tp: 1, fp: 0, tn: 2, fn: 1, unlabeled_hits: 0 }, recall: 0.5, fpr: 0 });
    expect(A!.daily!.series.map((p) => [p.day, p.window, p.bots, p.tp, p.humans, p.fp, p.hits, p.recall])).toEqual([
      ['2026-01-01', 'train', 1, 0, 2, 0, 0, 0],
      ['2026-01-02', 'train', 1, 1, 0, 0, 1, 1],
      ['2026-01-03', 'test', 2, 1, 3, 1, 3, 0.5],
      ['2026-01-04', 'test', 1, 0, 2, 0, 0, 0],
    ]);
    // worst day is still judged on the test window only
    expect(A!.daily).toMatchObject({ worst_fpr: 1 / 3, worst_day: '2026-01-03', days: 2 });
    s.close();
  });

  it('the one-evaluation path (masks materialised) agrees with the plain scans past one mask block', async () => {
    const s = await fixture();
    const w = await resolveWindow(s, config, 'all');
    const rules: EngineRule[] = Array.from({ length: 120 }, (_, i) => ({ id: `r${i}`, predicate: gt(i * 3), deployed: i % 2 === 0 }));
    const plain = await runBacktest(s, config, w, rules, { daily: true, segments: ['country'] });
    const masked = await runBacktest(s, config, w, rules, {
      daily: true,
      segments: ['country'],
      overlap: true,
      set: true,
      populations: [{ name: 'slow', predicate: lt(10) }],
    });
    expect(masked.rules.map((r) => r.counts)).toEqual(plain.rules.map((r) => r.counts));
    expect(masked.rules.map((r) => r.segments)).toEqual(plain.rules.map((r) => r.segments));
    expect(masked.rules.map((r) => r.daily)).toEqual(plain.rules.map((r) => r.daily));
    // r33 (rpm > 99) hits a d e g j of all 14 rows; r0 (rpm > 0) hits all: Jaccard 5/14
    expect(masked.rules[0]!.overlap!.find((o) => o.id === 'r33')!.jaccard).toBeCloseTo(5 / 14);
    // r100 (rpm > 300) hits nothing; r66 (rpm > 198) hits d j: 2 rows in r60..r66's block at bits 10..16 of m1
    expect(masked.rules[66]!.counts).toMatchObject({ tp: 1, unlabeled_hits: 1 });
    // the union of the even rules is r0's hits: every row; slow holds b h i m n (rpm < 10): r0 hits all 5
    expect(masked.set!.deployed.counts).toMatchObject({ tp: 5, fp: 7, unlabeled_hits: 2 });
    expect(masked.rules[0]!.populations!['slow']).toMatchObject({ rows: 5, humans: 4, fp: 4 });
    s.close();
  });

  it('mask rows read as typed arrays (the store) and as row objects (an engine) give the same set, shares and overlaps', async () => {
    const s = await fixture();
    const w = await resolveWindow(s, config, 'all');
    const rules: EngineRule[] = Array.from({ length: 120 }, (_, i) => ({
      id: `r${i}`,
      predicate: i % 3 ? gt(i * 2) : lt(i),
      approved: i % 4 === 0,
      deployed: i % 2 === 0,
      extra: i === 7,
    }));
    const opts = { daily: true, segments: ['country'], overlap: true, set: true };
    const typed = await runBacktest(s, config, w, rules, opts);
    const objects = await runBacktest(s, config, w, rules, { ...opts, engine: new DuckDbEngine(s) });
    expect(typed.set).toEqual(objects.set);
    for (const [i, r] of typed.rules.entries()) {
      expect(r.set).toEqual(objects.rules[i]!.set);
      expect(r.overlap).toEqual(objects.rules[i]!.overlap);
      expect(r.incremental_recall).toEqual(objects.rules[i]!.incremental_recall);
    }
    // bits above 32 of a block (rules 32..49, 82..99) are read from the upper word
    expect(typed.rules[40]!.overlap!.length).toBeGreaterThan(0);
    s.close();
  });
});
