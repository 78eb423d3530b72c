/** `rulegen runs`: the table of recorded runs, pinned by a golden file. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSince } from '../../src/cli/commands/runs.js';
import { initWorkspace } from '../../src/init.js';
import type { RunRecord } from '../../src/runs/record.js';
import { runCli, tmpDir } from '../helpers/cli.js';

const GOLDEN = join(import.meta.dirname, 'runs.golden.txt');

const rec = (over: Partial<RunRecord>): RunRecord => ({
  time: '2026-03-01T10:00:00.000Z',
  command: 'backtest',
  args: [],
  options: {},
  rulegen: '0.1.0',
  workspace: '/ws',
  data: { table: 'sessions', rows: 60000, fingerprint: '1f2e3d4c5b6a' },
  config_sha256: 'a'.repeat(64),
  catalog_sha256: 'b'.repeat(64),
  provider: null,
  models: [],
  prompt: null,
  tokens: null,
  cost_usd: null,
  latency_ms: 2100,
  retries: null,
  exit_code: 0,
  outcome: 'ok',
  error: null,
  ids: [],
  details: null,
  engine: null,
  ...over,
});

function workspaceWithRuns(): string {
  const dir = tmpDir();
  initWorkspace(dir, { cwd: dir });
  const runs = join(dir, '.rulegen', 'runs');
  mkdirSync(runs, { recursive: true });
  const feb = [
    rec({
      time: '2026-02-27T09:15:02.120Z',
      command: 'propose',
      options: { provider: 'replay', count: '5' },
      provider: 'replay',
      models: ['us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
      tokens: { input: 1203, output: 1202, cache_read: 0, cache_write: 2824 },
      cost_usd: 0.033088,
      latency_ms: 17342,
      ids: ['7f9c2b1e-0000-4000-8000-000000000001', '7f9c2b1e-0000-4000-8000-000000000002', '9a8b7c6d-0000-4000-8000-000000000003'],
    }),
  ];
  const mar = [
    rec({ time: '2026-03-01T10:00:00.000Z', command: 'backtest', args: ['7f9c2b1e'] }),
    rec({ time: '2026-03-02T16:40:11.500Z', command: 'approve', args: ['7f9c2b1e'], exit_code: 1, outcome: 'failed', error: 'gate failed', latency_ms: 900 }),
    rec({
      time: '2026-03-03T08:00:00.000Z',
      command: 'eval',
      args: ['eval/suites/default.yaml'],
      data: null,
      provider: 'offline,replay',
      tokens: { input: 12113, output: 3606, cache_read: null, cache_write: null },
      cost_usd: 0.0994,
      latency_ms: 20400,
    }),
  ];
  writeFileSync(join(runs, 'runs-2026-02.jsonl'), feb.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // a torn line (a crash mid-write) is skipped and counted, not fatal
  writeFileSync(join(runs, 'runs-2026-03.jsonl'), mar.map((r) => JSON.stringify(r)).join('\n') + '\n{"time": "2026-03-0\n');
  return dir;
}

describe('rulegen runs', () => {
  it('lists every record, oldest first (golden)', async () => {
    const dir = workspaceWithRuns();
    const r = await runCli(['runs'], dir);
    expect(r.code).toBe(0);
    if (process.env['UPDATE_GOLDEN']) writeFileSync(GOLDEN, r.stdout);
    expect(r.stdout).toBe(readFileSync(GOLDEN, 'utf8'));
    expect(r.stderr).toMatch(/1 line\(s\) .* skipped/);
  });

  it('--since filters, --json gives the records', async () => {
    const dir = workspaceWithRuns();
    const r = await runCli(['--json', 'runs', '--since', '2026-03-02'], dir);
    const out = JSON.parse(r.stdout) as { runs: RunRecord[]; skipped: number };
    expect(out.runs.map((x) => x.command)).toEqual(['approve', 'eval']);
    expect(out.skipped).toBe(1);
    expect(parseSince('7d', new Date('2026-03-10T00:00:00Z')).toISOString()).toBe('2026-03-03T00:00:00.000Z');
    const bad = await runCli(['runs', '--since', 'yesterday'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --since/);
  });
});
