/** Every listed command appends one run record to .rulegen/runs/, with the frame's fields filled in. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRuns, type RunRecord } from '../../src/runs/record.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

let ws: string;
const runsOf = (): RunRecord[] => readRuns(join(ws, '.rulegen', 'runs')).records;
const last = (): RunRecord => runsOf().at(-1)!;

describe('run records', () => {
  beforeAll(async () => {
    ws = await exampleWorkspace();
  });

  it('propose, backtest, check, fp, approve and reject each append one record', async () => {
    const before = runsOf().length;
    expect(before).toBe(0); // ingest is not a recorded command
    const p = await runCli(['-C', ws, '-q', '--json', 'propose', '--provider', 'offline', '--count', '2'], ws);
    expect(p.code).toBe(0);
    const proposed = (JSON.parse(p.stdout) as { candidates: { id: string }[] }).candidates.map((c) => c.id);
    let r = last();
    expect(r.command).toBe('propose');
    expect(r.options).toMatchObject({ provider: 'offline', count: '2', quiet: true, json: true });
    expect(r.exit_code).toBe(0);
    expect(r.outcome).toBe('ok');
    expect(r.rulegen).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.data).toMatchObject({ table: 'sessions', rows: 60000 });
    expect(r.data!.fingerprint).toMatch(/^[0-9a-f]+$/);
    expect(r.config_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.catalog_sha256).toMatch(/^[0-9a-f]{64}$/);
    // the ids it wrote, found by the frame from the candidate files
    expect(r.ids).toEqual([...proposed].sort());

    expect((await runCli(['-C', ws, '-q', 'backtest', '--core-only', '--no-write'], ws)).code).toBe(0);
    r = last();
    expect([r.command, r.exit_code, r.ids.length]).toEqual(['backtest', 0, 0]);
    // the same data: the same fingerprint (cached against the database file)
    expect(r.data).toEqual(runsOf()[0]!.data);

    const check = await runCli(['-C', ws, '-q', 'check'], ws);
    expect(last().command).toBe('check');
    expect(last().exit_code).toBe(check.code);

    await runCli(['-C', ws, '-q', 'fp', proposed[0]!], ws);
    expect(last().command).toBe('fp');
    expect(last().args).toEqual([proposed[0]]);

    const a = await runCli(['-C', ws, '-q', 'approve', proposed[0]!, '--reviewer', 'tester', '--override', 'test', '--no-docs'], ws);
    r = last();
    expect(r.command).toBe('approve');
    expect(r.exit_code).toBe(a.code);
    if (a.code === 0) expect(r.ids).toContain(proposed[0]);

    const j = await runCli(['-C', ws, '-q', 'reject', proposed[1]!, '--reviewer', 'tester', '--reason', 'test', '--no-docs'], ws);
    r = last();
    expect(r.command).toBe('reject');
    expect([r.exit_code, r.ids]).toEqual([j.code, j.code === 0 ? [proposed[1]] : []]);
    expect(runsOf().map((x) => x.command)).toEqual(['propose', 'backtest', 'check', 'fp', 'approve', 'reject']);
    // one file per month, one line per run
    expect(readdirSync(join(ws, '.rulegen', 'runs')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
  });

  it('a failed run is recorded with its exit code and error; unrecorded commands add nothing', async () => {
    const n = runsOf().length;
    const r = await runCli(['-C', ws, '-q', 'approve', '00000000-dead', '--reviewer', 'x'], ws);
    expect(r.code).toBe(2);
    expect(last()).toMatchObject({ command: 'approve', exit_code: 2, outcome: 'error' });
    expect(last().error).toBeTruthy();
    await runCli(['-C', ws, '-q', 'review'], ws);
    expect(runsOf().length).toBe(n + 1);
  });

  it('eval records its tokens and cost in the workspace it runs from', async () => {
    writeFileSync(
      join(ws, 'suite.yaml'),
      'suite: mini\nversion: 1\ncases:\n  - name: tiny\n    synth: { seed: 5, sessions: 3000, days: 7 }\n    gate: { max_fpr: 0.01, ' +
        'min_support: 5 }\n    count: 1\n',
    );
    const r = await runCli(['-C', ws, '-q', 'eval', 'suite.yaml'], ws);
    expect(r.code).toBe(0);
    expect(last()).toMatchObject({ command: 'eval', provider: 'offline', tokens: { input: 0, output: 0 }, cost_usd: 0, details: { suite: 'mini', cases: 1 } });
  });
});
