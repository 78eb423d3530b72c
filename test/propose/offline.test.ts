import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyGate } from '../../src/backtest/gate.js';
import { parseConfig } from '../../src/config/load.js';
import { readFileSync } from 'node:fs';
import { chooseProvider } from '../../src/propose/propose.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

let ws: string;
beforeAll(async () => {
  ws = await exampleWorkspace({ rules: false });
});

describe('rulegen propose (offline)', () => {
  it('without credentials or --provider uses the offline inducer and says so', async () => {
    const w = openWorkspace(ws);
    expect(chooseProvider(undefined, w, {}).provider).toBe('offline');
    expect(chooseProvider(undefined, w, { AWS_PROFILE: 'dev' }).provider).toBe('bedrock');
    expect(chooseProvider('offline', w, { AWS_PROFILE: 'dev' }).provider).toBe('offline');
    expect(() => chooseProvider('gpt', w, {})).toThrow(/unknown provider/);
  });

  let planned: string[] = [];
  let out: { candidates: { id: string; condition: string; file: string; train: Parameters<typeof applyGate>[0] }[] };
  it('a dry run writes nothing; the real run writes the same candidates (deterministic)', async () => {
    const dry = await runCli(['-C', ws, '--json', 'propose', '--count', '3', '--dry-run'], ws);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/provider: offline \(no AWS credentials/);
    planned = JSON.parse(dry.stdout).candidates.map((c: { condition: string }) => c.condition);
    expect(readdirSync(join(ws, 'candidates')).filter((f) => f.endsWith('.yaml'))).toEqual([]);

    const r = await runCli(['-C', ws, '--json', 'propose', '--count', '3'], ws);
    expect(r.code, r.stderr).toBe(0);
    out = JSON.parse(r.stdout);
    expect(out.candidates.length).toBeGreaterThanOrEqual(2);
    expect(out.candidates.map((c) => c.condition)).toEqual(planned);
  });

  it('the candidates pass lint and the gate on the train window, re-measured by the backtest', async () => {
    const config = parseConfig(readFileSync(join(ws, 'rulegen.yaml'), 'utf8'), 'rulegen.yaml');
    for (const c of out.candidates) expect(applyGate(c.train, config.gate)).toEqual({ pass: true, reasons: [] });
    const lint = await runCli(['-C', ws, 'lint'], ws);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    const bt = await runCli(['-C', ws, '--json', 'backtest', '--window', 'train', '--no-write', ...out.candidates.map((c) => c.id)], ws);
    expect(bt.code, bt.stderr).toBe(0);
    for (const rule of JSON.parse(bt.stdout).rules) expect(applyGate(rule, config.gate).reasons).toEqual([]);
    const text = readFileSync(out.candidates[0]!.file, 'utf8');
    expect(text).toMatch(/generator: offline:/);
    expect(text).toMatch(/falsepositives:\n  - /);
    expect(text).toMatch(/variations:/);
    // the rationale says what each condition adds where the search did not fit, as the JSON does
    const multi = (out.candidates as unknown as { file: string; condition: string; terms: string[] }[]).find((c) => c.condition.includes(' and '));
    expect(multi, 'a candidate with more than one term').toBeDefined();
    expect(multi!.terms.length).toBe(multi!.condition.split(' and ').length);
    for (const n of multi!.terms) expect(n).toMatch(/removes \d+ of \d+ false positives \(people with .+\) and \d+ of \d+ bots on the validation slice/);
    const doc = readFileSync(multi!.file, 'utf8').replace(/\n +/g, ' ');
    expect(doc).toMatch(/rationale: .*What each condition adds, on the validation slice the search did not fit on: .*removes \d+ of \d+ false positives/);
  });

  it('the text output lists, under each candidate, what each of its conditions adds', async () => {
    const r = await runCli(['-C', ws, 'propose', '--count', '3', '--dry-run'], ws);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\n {12}\S.*: (removes \d+ of \d+ false positives|catches \d+ of \d+ bots)/);
  });

  it('a second run does not propose the same rules again (hit-set Jaccard memory)', async () => {
    const again = await runCli(['-C', ws, '--json', 'propose', '--count', '3', '--dry-run'], ws);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout).candidates.map((c: { condition: string }) => c.condition);
    for (const c of second) expect(planned).not.toContain(c);
  });

  it('bad --count and unknown providers are exit 2', async () => {
    expect((await runCli(['-C', ws, 'propose', '--count', 'many'], ws)).code).toBe(2);
    expect((await runCli(['-C', ws, 'propose', '--provider', 'gpt'], ws)).code).toBe(2);
  });
});
