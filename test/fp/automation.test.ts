/**
 * `fp` points at false positives that look like automation labelled human — far outside the
 * labelled humans' ranges on several features — as relabelling candidates, and never relabels.
 * Planted: credential stuffers with 30+ login POSTs are relabelled human (a simulated weak label).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

let ws: string;
beforeAll(async () => {
  ws = await exampleWorkspace({ rules: false });
  const r = await runCli(
    ['-C', ws, '-q', 'relabel', '--where', 'login_post_count >= 30', '--as', 'human', '--reviewer', 'test', '--reason', 'planted mislabel'],
    ws,
  );
  expect(r.code, r.stderr).toBe(0);
});

describe('rulegen fp and mislabelled automation', () => {
  it('flags the scenario of bots labelled human and suggests a relabel a reviewer may record', async () => {
    const r = await runCli(['-C', ws, '-q', '--json', 'fp', 'login_post_count >= 20'], ws);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const top = report.scenarios[0];
    expect(top.condition).toBe('login_post_count >= 30');
    expect(top.automation.flagged).toBe(true);
    expect(top.automation.share).toBeGreaterThanOrEqual(0.5);
    const text = await runCli(['-C', ws, '-q', 'fp', 'login_post_count >= 20'], ws);
    expect(text.stdout).toContain('looks like automation labelled human');
    expect(text.stdout).toContain('rulegen relabel --where "login_post_count >= 30" --as bot');
    // nothing was relabelled by fp itself: labels.yaml holds only the planted correction
    expect(readFileSync(join(ws, 'labels.yaml'), 'utf8').match(/- where:/g)).toHaveLength(1);
  });

  it("does not flag people who are merely unusual (synth's human traps)", async () => {
    const r = await runCli(['-C', ws, '-q', '--json', 'fp', 'webdriver_flag'], ws);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.scenarios.length).toBeGreaterThan(0);
    for (const s of report.scenarios) expect(s.automation.flagged, s.condition).toBe(false);
  });
});
