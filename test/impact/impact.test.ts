/** `rulegen impact`: the approved set with and without the given rules, hand-computed on the tiny workspace. */
import { describe, expect, it } from 'vitest';
import type { ImpactReport } from '../../src/impact/impact.js';
import { runCli } from '../helpers/cli.js';
import { IDS, tinyWorkspace } from './tiny.js';

// Test window e..n: bots e f k, humans g h i l m, unlabelled j n.
// Without (A block e g j; L log h i m n): blocked 3, challenged 0, logged 4; humans hit g (1 of 5); bots stopped e.
// With D (challenge h) and E (block e g j k l): blocked e g j k l, challenged h, logged i m n;
// humans hit g h l (3 of 5), bots stopped e k.
describe('rulegen impact', () => {
  it('reports totals, days, segments and populations with the differences', async () => {
    const dir = await tinyWorkspace();
    const r = await runCli(['-C', dir, '--json', 'impact', IDS.D, IDS.E], dir);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as ImpactReport;
    expect(rep.baseline.map((b) => [b.id, b.action])).toEqual([
      [IDS.A, 'block'],
      [IDS.L, 'log'],
    ]);
    expect(rep.added.map((b) => [b.id, b.action])).toEqual([
      [IDS.D, 'challenge'],
      [IDS.E, 'block'],
    ]);
    const t = rep.total;
    expect([t.rows, t.humans, t.bots]).toEqual([10, 5, 3]);
    expect(t.without).toMatchObject({ blocked: 3, challenged: 0, logged: 4, humans_affected: 1, humans_affected_rate: 0.2, bots_stopped: 1 });
    expect(t.with).toMatchObject({ blocked: 5, challenged: 1, logged: 3, humans_affected: 3, humans_affected_rate: 0.6, bots_stopped: 2 });
    expect(t.with.humans_affected_upper95).toBeCloseTo(0.8824, 4); // Wilson(3, 5)
    expect(t.with.humans_affected_lower95).toBeCloseTo(0.2307, 4);
    expect(t.diff).toMatchObject({ blocked: 2, challenged: 1, logged: -1, humans_affected: 2, bots_stopped: 1 });
    expect(t.diff.humans_affected_rate).toBeCloseTo(0.4);
    expect(t.diff.bots_stopped_rate).toBeCloseTo(1 / 3);
    // 01-03: e f g h i j; 01-04: k l m n
    expect(
      rep.daily.map((d) => [
        d.key,
        d.rows,
        d.without.humans_affected,
        d.with.humans_affected,
        d.without.bots_stopped,
        d.with.bots_stopped,
        d.with.blocked,
        d.with.challenged,
        d.with.logged,
      ]),
    ).toEqual([
      ['2026-01-03', 6, 1, 2, 1, 1, 3, 1, 1],
      ['2026-01-04', 4, 0, 1, 0, 1, 2, 0, 2],
    ]);
    // DE: f g m n; US: e h i j k l
    expect(rep.segments.map((s) => [s.key, s.protected, s.humans, s.without.humans_affected, s.with.humans_affected, s.diff.bots_stopped])).toEqual([
      ['country=DE', false, 2, 1, 1, 0],
      ['country=US', false, 3, 0, 2, 1],
    ]);
    // slow (rpm < 10, protected): h i m n; D challenges h
    expect(rep.populations).toHaveLength(1);
    expect(rep.populations[0]).toMatchObject({
      key: 'slow',
      protected: true,
      where: 'rpm < 10',
      rows: 4,
      humans: 3,
      without: { logged: 4, humans_affected: 0 },
      with: { challenged: 1, logged: 3, humans_affected: 1 },
      diff: { humans_affected: 1 },
    });
  }, 20_000);

  it('prints a table; an expression takes --action; no arguments means every candidate', async () => {
    const dir = await tinyWorkspace();
    const text = await runCli(['-C', dir, 'impact', IDS.D, IDS.E], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('humans affected (blocked or challenged): 1 -> 3 (+2; rate 20.000% -> 60.000%, +40.000%; upper 95% 88.238%)');
    expect(text.stdout).toContain('bots stopped: 1 -> 2 (+1; 33.3% -> 66.7%)');
    expect(text.stdout).toMatch(/slow \*\s+4\s+3\s+0\s+1\s+\+1/);

    // rpm > 80 as a challenge: A still blocks e g j; k l are challenged; humans hit g l
    const expr = JSON.parse((await runCli(['-C', dir, '--json', 'impact', 'rpm > 80', '--action', 'challenge'], dir)).stdout) as ImpactReport;
    expect(expr.added).toEqual([{ id: 'expr-1', title: 'rpm > 80', action: 'challenge' }]);
    expect(expr.total.with).toMatchObject({ blocked: 3, challenged: 2, logged: 4, humans_affected: 2, bots_stopped: 2 });

    const all = JSON.parse((await runCli(['-C', dir, '--json', 'impact'], dir)).stdout) as ImpactReport;
    expect(all.added.map((a) => a.id).sort()).toEqual([IDS.D, IDS.E, IDS.F, IDS.G].sort());

    const bad = await runCli(['-C', dir, 'impact', IDS.D, '--action', 'ban'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --action[\s\S]*expected: log, challenge, block[\s\S]*found: +ban/);

    // an approved rule is in both scenarios: nothing changes, and it says so
    const same = JSON.parse((await runCli(['-C', dir, '--json', 'impact', IDS.A], dir)).stdout) as ImpactReport;
    expect(same.added).toEqual([]);
    expect(same.total.diff).toMatchObject({ blocked: 0, humans_affected: 0, bots_stopped: 0 });
    expect(same.warnings[0]).toBe(`${IDS.A} is already approved: it is in both scenarios`);
  }, 30_000);
});
