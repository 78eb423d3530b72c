import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tmpDir } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../..');

describe('rulegen eval', () => {
  it('a case whose data cannot be read fails alone; the others run; exit 1 names it', async () => {
    const dir = tmpDir();
    writeFileSync(
      join(dir, 'suite.yaml'),
      [
        'suite: mini',
        'version: 1',
        'cases:',
        '  - name: missing-file',
        '    file: { path: nowhere.parquet, truth: archetype }',
        '  - name: tiny',
        '    synth: { seed: 5, sessions: 4000, days: 7 }',
        '    gate: { max_fpr: 0.01, min_support: 5 }',
        '    count: 2',
      ].join('\n'),
    );
    const r = await runCli(['eval', 'suite.yaml', '--markdown', 'out.md'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/case missing-file FAILED: .*no such data file/);
    expect(r.stdout).toMatch(/^tiny +offline /m);
    expect(r.stderr).toMatch(/failed: case missing-file/);
    const md = readFileSync(join(dir, 'out.md'), 'utf8');
    expect(md).toContain('`rulegen eval suite.yaml`');
    expect(md).toMatch(/\| tiny \| offline \|/);
  });

  it('refuses a baseline from another suite version before running anything', async () => {
    const dir = tmpDir();
    const b = JSON.parse(readFileSync(join(ROOT, 'eval/baselines/default.json'), 'utf8'));
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...b, version: 0 }));
    const r = await runCli(['eval', join(ROOT, 'eval/suites/default.yaml'), '--baseline', 'old.json'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/baseline refused: it was made by suite "default" version 0, this is suite "default" version 1/);
  });

  it('a broken suite file: every problem, file:line:col, exit 2', async () => {
    const dir = tmpDir();
    writeFileSync(
      join(dir, 's.yaml'),
      'suite: x\nversion: 1\ncases:\n  - name: a\n    synth: { seed: 1, sessions: 10, days: 7 }\n  - name: b\n    synth: { seed: 1, sessions: ' +
        '5000, dayz: 7 }\n',
    );
    const r = await runCli(['eval', 's.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/s\.yaml:5:\d+ \(cases\.0\.synth\.sessions\): error: .*>=1000/);
    expect(r.stderr).toMatch(/s\.yaml:7:\d+ \(cases\.1\.synth\.dayz\)?.*error: unknown field `dayz`/);
  });
});
