import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Ranking } from '../../src/rank/types.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

describe('rulegen rank (in-process, example workspace)', () => {
  let ws: string;
  let ranking: Ranking;
  beforeAll(async () => {
    ws = await exampleWorkspace({ rules: false });
    const r = await runCli(['-C', ws, 'rank', '--json'], ws);
    expect(r.code, r.stderr).toBe(0);
    ranking = JSON.parse(r.stdout) as Ranking;
  });

  it('--json carries every catalog feature, best first, with plausible separators on top', () => {
    expect(ranking.features).toHaveLength(27);
    expect(ranking.bots).toBeGreaterThan(1000);
    expect(ranking.humans).toBeGreaterThan(1000);
    const top = ranking.features.slice(0, 10).map((f) => f.feature);
    expect(top.some((f) => ['pointer_events', 'static_asset_ratio', 'webdriver_flag', 'requests_per_minute', 'js_executed'].includes(f))).toBe(true);
    const imp = ranking.features.map((f) => f.importance);
    expect([...imp].sort((a, b) => b - a)).toEqual(imp);
    const rpm = ranking.features.find((f) => f.feature === 'requests_per_minute')!;
    expect(rpm).toMatchObject({ direction: 'higher' });
    expect(rpm.auc!).toBeGreaterThan(0.7);
    expect(rpm.quantiles!.bot.p50!).toBeGreaterThan(rpm.quantiles!.human.p50!);
    const wd = ranking.features.find((f) => f.feature === 'webdriver_flag')!;
    expect(wd.categories![0]).toMatchObject({ value: 'true' });
    expect(wd.categories![0]!.lift!).toBeGreaterThan(5);
    expect(ranking.features.find((f) => f.feature === 'ip_reputation_score')!.sensitive).toBe(true);
    expect(ranking.method?.['auc']).toMatch(/ties/);
  });

  it('prints a table of the top N with the imported importance side by side', async () => {
    const imp = join(ws, 'shap.csv');
    writeFileSync(imp, 'feature,importance,std\nrequests_per_minute,0.9,0.05\nwebdriver_flag,0.4,\nno_such_feature,1,0\npointer_events,oops,1\n');
    const r = await runCli(['-C', ws, 'rank', '--top', '5', '--import', 'shap.csv'], ws);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^train window .* sessions, .* labelled \(.* bots, .* humans, base rate .*%\)$/);
    expect(lines[2]).toMatch(/^#\s+feature\s+type\s+score\s+AUC\s+dir\s+KS\s+IV\s+coverage\s+bot p50\s+human p50\s+top value by lift\s+imported\s+imp #$/);
    const body = lines.slice(3, 8);
    expect(body.map((l) => l.trim().split(/\s+/)[0])).toEqual(['1', '2', '3', '4', '5']);
    expect(lines[8]).toMatch(/^\(22 more features: --top 27 or --json shows all\)$/);
    // the imported rows' features may rank below 5: show all to see them
    expect(r.stderr).toMatch(/shap\.csv:4 \(feature\): warning: row left out: unknown feature "no_such_feature"/);
    expect(r.stderr).toContain(
      'shap.csv:5 (importance): warning: row left out: the importance of "pointer_events" is not a number\n' +
        '  expected: a finite number such as 0.042\n  found:    oops',
    );
    const all = await runCli(['-C', ws, '--quiet', 'rank', '--top', '27', '--import', 'shap.csv'], ws);
    expect(all.stderr).toBe('');
    const rpm = all.stdout.split('\n').find((l) => /^\s*\d+\s+requests_per_minute\s/.test(l))!;
    expect(rpm).toMatch(/0\.9 ±0\.05\s+1$/);
    const wd = all.stdout.split('\n').find((l) => /^\s*\d+\s+webdriver_flag\s/.test(l))!;
    expect(wd).toMatch(/true x[\d.]+\s+0\.4\s+2$/);
    expect(all.stdout).toMatch(/ip_reputation_score \*/);
    expect(all.stdout).toMatch(/\* sensitive: ranked here, never shown to a model/);
  });

  it('bad usage exits 2 with a clear message', async () => {
    const top = await runCli(['-C', ws, 'rank', '--top', '0'], ws);
    expect(top.code).toBe(2);
    expect(top.stderr).toMatch(/\(--top\): error: invalid --top\n {2}expected: a whole number >= 1\n {2}found: {4}0/);
    const missing = await runCli(['-C', ws, 'rank', '--import', 'nope.json'], ws);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: error: cannot read the importance file: ENOENT/);
  });
});
