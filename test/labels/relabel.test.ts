/**
 * Label corrections: `relabel` records one in labels.yaml after measuring it; every reading
 * command then sees the corrected labels (and says so); the data is never rewritten.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/db/store.js';
import { runCli, tmpDir } from '../helpers/cli.js';

const LOG = join(import.meta.dirname, '../../fixtures/logs/formats/combined.log');

async function logWorkspace(): Promise<string> {
  const dir = tmpDir('rulegen-labels-');
  expect((await runCli(['init', dir, '-q'], dir)).code).toBe(0);
  writeFileSync(join(dir, 'rulegen.yaml'), readFileSync(join(dir, 'rulegen.yaml'), 'utf8').replace(/unlabelled: unknown/, 'unlabelled: human'));
  const r = await runCli(['-C', dir, '-q', 'ingest-logs', LOG], dir);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

async function labels(dir: string): Promise<(number | null)[]> {
  const s = await Store.open(join(dir, '.rulegen', 'rulegen.duckdb'), { readOnly: true });
  try {
    return (await s.all<{ label: number | null }>('SELECT label FROM sessions ORDER BY session_id')).map((r) => r.label);
  } finally {
    s.close();
  }
}

describe('rulegen relabel', () => {
  it('records a correction; backtest and rank read the corrected labels and say so; the data is unchanged', async () => {
    const dir = await logWorkspace();
    // session 4 (an odd agent) is labelled bot by isbot; a reviewer says it is a person
    const before = await runCli(['-C', dir, '--json', 'backtest', "ua_family = 'other'", '--window', 'all', '--no-write'], dir);
    expect(before.code === 0 || before.code === 1, before.stderr).toBe(true);
    expect(JSON.parse(before.stdout).rules[0].counts).toMatchObject({ tp: 1, fp: 0 });

    const r = await runCli(
      ['-C', dir, 'relabel', '--where', "ua_family = 'other'", '--as', 'human', '--reviewer', 'alice', '--reason', 'our partner integration'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('matches 1 sessions, labelled now: 1 bot, 0 human, 0 unknown');
    expect(r.stdout).toContain('labels changed: 1');
    const text = readFileSync(join(dir, 'labels.yaml'), 'utf8');
    expect(text).toContain("where: ua_family = 'other'");
    expect(text).toContain('reviewer: alice');

    const after = await runCli(['-C', dir, '--json', 'backtest', "ua_family = 'other'", '--window', 'all', '--no-write'], dir);
    expect(JSON.parse(after.stdout).rules[0].counts).toMatchObject({ tp: 0, fp: 1 });
    expect(after.stderr).toContain('label corrections from labels.yaml applied: 1 session label changed');
    expect(after.stderr).toContain('alice: our partner integration');
    // --quiet silences the note; the stored data keeps its original labels
    const quiet = await runCli(['-C', dir, '-q', 'backtest', "ua_family = 'other'", '--window', 'all', '--no-write'], dir);
    expect(quiet.stderr).not.toContain('label corrections');
    expect(await labels(dir)).toEqual([0, 1, 1, 1]);
  });

  it('the last correction wins; --dry-run records nothing', async () => {
    const dir = await logWorkspace();
    const add = (as: string, extra: string[] = []) =>
      runCli(['-C', dir, 'relabel', '--where', 'request_count >= 2', '--as', as, '--reviewer', 'bob', '--reason', 'test', ...extra], dir);
    expect((await add('unknown')).code).toBe(0);
    const dry = await add('bot', ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run');
    expect(readFileSync(join(dir, 'labels.yaml'), 'utf8').match(/- where:/g)).toHaveLength(1);
    expect((await add('human')).code).toBe(0);
    const r = await runCli(['-C', dir, '--json', 'backtest', 'request_count >= 2', '--window', 'all', '--no-write'], dir);
    // the three sessions with 2+ requests are human now (the last correction), the fourth keeps its label
    expect(JSON.parse(r.stdout).rules[0].counts).toMatchObject({ tp: 0, fp: 3 });
  });

  it('bad input: an invalid condition, one that matches nothing, a broken labels.yaml (exit 2)', async () => {
    const dir = await logWorkspace();
    const bad = await runCli(['-C', dir, 'relabel', '--where', 'no_such_feature > 1', '--as', 'bot', '--reviewer', 'a', '--reason', 'r'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no_such_feature');
    const none = await runCli(['-C', dir, 'relabel', '--where', 'request_count > 1000', '--as', 'bot', '--reviewer', 'a', '--reason', 'r'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('matches no session');
    const wrongAs = await runCli(['-C', dir, 'relabel', '--where', 'request_count > 1', '--as', 'robot', '--reviewer', 'a', '--reason', 'r'], dir);
    expect(wrongAs.code).toBe(2);
    writeFileSync(
      join(dir, 'labels.yaml'),
      "- where: request_count > 1\n  as: bot\n  reason: r\n  reviewer: a\n  at: now\n- where: 'nope >'\n  as: bot\n  reason: r\n  reviewer: a\n  at: now\n",
    );
    const broken = await runCli(['-C', dir, 'backtest', 'request_count > 1', '--no-write'], dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/labels\.yaml:6:\d+/);
    // a writer (ingest-logs) does not read through the overlay, so a broken file never blocks a reload
    const reload = await runCli(['-C', dir, '-q', 'ingest-logs', '--replace', LOG], dir);
    expect(reload.code, reload.stderr).toBe(0);
  });
});
