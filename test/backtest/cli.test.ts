/** The issue-12 findings through `rulegen backtest`, on the tiny workspace (figures in test/impact/tiny.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CONFIG, IDS, tinyWorkspace } from '../impact/tiny.js';

describe('backtest findings', () => {
  it('set, protected population, stability, duplicates and power, each with its reason', async () => {
    const dir = await tinyWorkspace();
    const r = await runCli(['-C', dir, '--json', 'backtest', '--no-write'], dir);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout);
    // targets are candidates and approved rules; the rejected rule is context only
    expect(run.rules.map((x: { id: string }) => x.id)).not.toContain(IDS.R);
    expect(run.context.map((c: { target: { id: string } }) => c.target.id)).toEqual([IDS.R]);
    const f = run.findings;
    // set: deployed = A (L only logs): g of 5 humans; D adds h -> 2 of 5, Wilson upper 76.9%
    expect(run.set.deployed.ids).toEqual([IDS.A]);
    expect(run.set_gate).toEqual({
      pass: false,
      reasons: ['the deployed set (1 rule) hits 1 of 5 humans: FPR upper 95% bound 62.4% exceeds set_max_fpr 0.100%'],
      top: [{ id: IDS.A, fp_share: 1, incremental_fp: 1 }],
    });
    expect(f[IDS.D].set).toEqual([
      'with this rule the deployed set hits 2 of 5 humans (1 only by this rule): FPR upper 95% bound 76.9% exceeds set_max_fpr 0.100%',
    ]);
    // protected population slow (h i m): D hits h: 1 of 3, lower bound 6.15% > 0.3%
    expect(f[IDS.D].segment).toEqual(['FPR on protected population slow is 33.3% (1 of 3 humans): its lower 95% bound 6.15% exceeds segment_max_fpr 0.300%']);
    // unprotected segment: a warning, not a failure
    expect(f[IDS.D].warnings).toEqual(['FPR on segment country=US is 33.3% (1 of 3 humans): its lower 95% bound 6.15% exceeds segment_max_fpr 0.300%']);
    // E hits no slow human: 0 of 3 is too few to judge, never a pass
    expect(f[IDS.E].undetermined).toEqual(['protected population slow: too few humans to judge (n=3; 0 false positives)']);
    // stability: G catches a d on train (100%), e of e f k on test (33.3%)
    expect(f[IDS.G].stability).toEqual([
      'recall collapsed on 2026-01-03: 33.3% of bots in the test week from 2026-01-03 (1 of 3), 33.3% over the test window, against 100% on ' +
        'train (min_recall_ratio 0.5 needs at least 50.0%)',
    ]);
    expect(f[IDS.E].stability).toEqual([]); // train 2/2, test 2/3
    // duplicates: F is A with its terms reordered; R (rejected) hits the same e g j
    expect(f[IDS.F].duplicate).toEqual([
      `duplicate of ${IDS.A} (hit-set Jaccard 1.000)`,
      `repeats rejected ${IDS.R}: hits customers on fast links (hit-set Jaccard 1.000)`,
    ]);
    expect(f[IDS.E].duplicate).toEqual([]);
    // approved rules are not marked as duplicates of each other or of candidates
    expect(f[IDS.A].duplicate).toEqual([]);
    // power: 5 humans in the test window
    expect(run.power).toEqual({ reachable: false, humans: 5, needed: 3838 });
    expect(run.warnings).toContain(
      'the test window has 5 labelled humans; at least 3,838 are needed for a rule to pass max_fpr 0.100% even with zero false positives',
    );
  }, 20_000);

  it('writes the new evidence into the rule file', async () => {
    const dir = await tinyWorkspace();
    const r = await runCli(['-C', dir, '--quiet', 'backtest', IDS.D, IDS.G], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'deployed set (approved block/challenge rules: 1): 1 of 5 humans hit, FPR 20.000% (upper 95% 62.447%), recall 33.3%: FAILS the set gate',
    );
    expect(r.stdout).toContain(`most of its false positives: aaaaaaaa 1.0 (1 only by it)`);
    expect(r.stdout).toMatch(/dddddddd +slow \* +3 +1 +33\.333% +6\.149% +79\.234%/);
    expect(r.stdout).toContain('  dddddddd segment: FPR on protected population slow is 33.3% (1 of 3 humans)');
    expect(r.stdout).toContain('  cccccccc stability: recall collapsed on 2026-01-03');
    expect(r.stdout).toContain('warning: the test window has 5 labelled humans; at least 3,838 are needed');
    const d = parse(readFileSync(join(dir, 'candidates', `${IDS.D}.yaml`), 'utf8')).backtest;
    expect(d.counts).toEqual({ tp: 0, fp: 1, tn: 4, fn: 3, unlabeled_hits: 0 });
    expect(d.daily.split).toBe('2026-01-02T13:30:00.000Z');
    expect(d.daily.series.map((p: { day: string; window: string }) => `${p.day}/${p.window}`)).toEqual([
      '2026-01-01/train',
      '2026-01-02/train',
      '2026-01-03/test',
      '2026-01-04/test',
    ]);
    expect(d.populations.slow).toMatchObject({ protected: true, humans: 3, fp: 1 });
    expect(d.populations.slow.fpr_lower95).toBeCloseTo(0.06149, 5); // Wilson(1, 3)
    expect(d.set).toMatchObject({ deployed_rules: 1, incremental_fp: 1, incremental_tp: 0, with_rule: { fp: 2 } });
    expect(d.gate.segment[0]).toMatch(/^FPR on protected population slow/);
    expect(d.gate.power).toMatch(/^the test window has 5 labelled humans/);
    const g = parse(readFileSync(join(dir, 'candidates', `${IDS.G}.yaml`), 'utf8')).backtest;
    expect(g.train).toMatchObject({ recall: 1, counts: { tp: 2, fn: 0 } });
    expect(g.daily.series[2]).toEqual({ day: '2026-01-03', window: 'test', hits: 2, tp: 1, fp: 1, recall: 0.5, fpr: 0.3333 }); // e and g (human)
    expect(g.gate.stability[0]).toMatch(/^recall collapsed on 2026-01-03/);
  }, 20_000);

  it('bad populations and protected columns are configuration errors (exit 2)', async () => {
    const dir = await tinyWorkspace();
    // unknown feature: pointed at in rulegen.yaml (line 8, the p after the quote)
    writeFileSync(join(dir, 'rulegen.yaml'), CONFIG.replace('where: "rpm < 10"', 'where: "pointer_events = 0"'));
    let r = await runCli(['-C', dir, 'backtest', '--no-write'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rulegen.yaml:8:13 (segments.1.where): error: population "slow": unknown feature');
    // syntax
    writeFileSync(join(dir, 'rulegen.yaml'), CONFIG.replace('where: "rpm < 10"', 'where: "rpm < < 10"'));
    r = await runCli(['-C', dir, 'backtest', '--no-write'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rulegen\.yaml:8:19 \(segments\.1\.where\): error: invalid population condition/);
    // a protected column missing from the table
    writeFileSync(join(dir, 'rulegen.yaml'), CONFIG.replace('  - column: country\n', '  - column: browser\n    protected: true\n'));
    r = await runCli(['-C', dir, 'backtest', '--no-write'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no column "browser" in the sessions table, but segments: marks it protected');
    expect(r.stderr).toContain('expected: one of the columns present: session_id, ts, label, rpm, country');
    // a population that matches no session: a warning
    writeFileSync(join(dir, 'rulegen.yaml'), CONFIG.replace('where: "rpm < 10"', 'where: "rpm > 100000"'));
    r = await runCli(['-C', dir, 'backtest', '--no-write', IDS.D], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: population "slow" matches no session in the test window');
  }, 30_000);
});
