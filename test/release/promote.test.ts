/**
 * The promote lifecycle on the fixture workspace: shadow -> challenge -> block, one stage at a
 * time, the gate re-run on the data since the rule entered its stage; a failing gate refuses
 * (exit 1) unless --override, which is recorded in the rule file with the promotion.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRuleFile } from '../../src/rules/load.js';
import { loadRuleset } from '../../src/runtime/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

const ID = '9c4e1b28-6a7d-4f03-8e52-1b9a3c7d5e43';
let dir: string;
let file: string;
const rollout = () => (parse(readFileSync(file, 'utf8')) as { rollout: { stage: string; since: string; history: Record<string, unknown>[] } }).rollout;

beforeAll(async () => {
  dir = await exampleWorkspace();
  file = join(dir, 'rules', `${ID}.yaml`);
  writeFileSync(file, `# kept across promotions\n${readFileSync(file, 'utf8')}rollout:\n  stage: shadow\n  since: 2026-01-01T00:00:00Z\n`);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rulegen promote', () => {
  it('moves one stage at a time, forward only', async () => {
    const skip = await runCli(['-C', dir, 'promote', ID, '--to', 'block', '--reviewer', 'alice'], dir);
    expect(skip.code).toBe(2);
    expect(skip.stderr).toContain('cannot promote from shadow to block: rules move one stage at a time');
    expect(skip.stderr).toContain('expected: --to challenge');
    const legacy = await runCli(['-C', dir, 'promote', '5e2a9f71', '--to', 'challenge', '--reviewer', 'alice'], dir);
    expect(legacy.code).toBe(2);
    expect(legacy.stderr).toContain('has no staged rollout: it acts in full');
    expect(rollout().stage).toBe('shadow');
  });

  it('promotes when the gate passes on the data since the last stage, and records it', async () => {
    const r = await runCli(['-C', dir, 'promote', ID.slice(0, 8), '--to', 'challenge', '--reviewer', 'alice'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`promoted ${ID}`);
    expect(r.stdout).toContain('shadow -> challenge');
    expect(r.stdout).toMatch(/gate on 60,000 sessions since 2026-01-01T00:00:00.000Z/);
    const ro = rollout();
    expect(ro.stage).toBe('challenge');
    expect(ro.history).toHaveLength(1);
    expect(ro.history[0]).toMatchObject({
      from: 'shadow',
      to: 'challenge',
      reviewer: 'alice',
      override: null,
      judged_since: '2026-01-01T00:00:00.000Z',
      gate: 'pass',
    });
    expect(readFileSync(file, 'utf8')).toMatch(/^# kept across promotions\n/);
    expect(loadRuleFile(file, openWorkspace(dir).catalog).rule?.rollout?.stage).toBe('challenge');
  });

  it('refuses when the gate fails on the data since the last stage (exit 1); --override promotes and is recorded', async () => {
    // the rule entered challenge late on the last day: too few bots caught since then
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^  since: .*$/m, '  since: 2026-01-14T20:00:00.000Z'));
    const before = readFileSync(file, 'utf8');
    const refused = await runCli(['-C', dir, 'promote', ID, '--to', 'block', '--reviewer', 'bob'], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/promotion refused: .* fails the gate on the [\d,]+ sessions since it entered challenge \(2026-01-14T20:00:00.000Z\)/);
    expect(refused.stderr).toMatch(/fewer than min_support 20/);
    expect(readFileSync(file, 'utf8')).toBe(before);

    const forced = await runCli(
      ['-C', dir, 'promote', ID, '--to', 'block', '--reviewer', 'bob', '--override', 'incident 42: blocking now, reviewed by hand'],
      dir,
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('FAILED, overridden: incident 42: blocking now, reviewed by hand');
    const ro = rollout();
    expect(ro.stage).toBe('block');
    expect(ro.history.map((h) => [h['from'], h['to'], h['reviewer'], h['override']])).toEqual([
      ['shadow', 'challenge', 'alice', null],
      ['challenge', 'block', 'bob', 'incident 42: blocking now, reviewed by hand'],
    ]);
    expect(ro.history[1]!['gate']).toContainEqual(expect.stringMatching(/catches \d bots, fewer than min_support 20/));
    const last = await runCli(['-C', dir, 'promote', ID, '--to', 'block', '--reviewer', 'bob'], dir);
    expect(last.code).toBe(2);
    expect(last.stderr).toContain('block is the last stage');
  });

  it('a release carries the stage and its history; the runtime acts on it', async () => {
    const r = await runCli(['-C', dir, '--json', 'release'], dir);
    expect(r.code, r.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, 'releases', '1.0.0', 'ruleset.json'), 'utf8'));
    const rule = bundle.rules.find((x: { id: string }) => x.id === ID);
    expect(loadRuleset(bundle).rules.find((x) => x.id === ID)).toMatchObject({ stage: 'block', action: 'challenge', effective: 'challenge' });
    expect(rule.stage).toBe('block');
    expect(rule.history.map((h: { to: string; override: string | null }) => [h.to, h.override])).toEqual([
      ['challenge', null],
      ['block', 'incident 42: blocking now, reviewed by hand'],
    ]);
  });

  it("the report shows each rule's stage and its history", async () => {
    const r = await runCli(['-C', dir, 'docs'], dir);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'docs', 'report.html'), 'utf8');
    expect(html).toContain('Rollout stage: <strong>block</strong>');
    expect(html).toContain('shadow → challenge on');
    expect(html).toContain('challenge → block on');
    expect(html).toContain('gate overridden: incident 42: blocking now, reviewed by hand');
  });
});
