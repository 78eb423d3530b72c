import { describe, expect, it } from 'vitest';
import { errorJson, reportError, wantsJson } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/context.js';
import { InputError, ReportedFailure } from '../../src/errors.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

interface ErrorDoc {
  error: {
    exit_code: number;
    message: string;
    problems: { severity: string; message: string; where: Record<string, unknown>; expected: string | null; found: string | null }[];
  };
}

async function workspace(): Promise<string> {
  const dir = tmpDir();
  expect((await runCli(['init'], dir)).code).toBe(0);
  return dir;
}

describe('--json on failure', () => {
  it('prints the error object on stdout for a RulegenError, with the human text still on stderr', async () => {
    const dir = await workspace();
    const r = await runCli(['--json', 'ingest', 'missing.csv'], dir);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as ErrorDoc;
    expect(doc.error.exit_code).toBe(2);
    expect(doc.error.message).toMatch(/cannot read/);
    expect(doc.error.problems[0]).toMatchObject({
      severity: 'error',
      where: { file: expect.stringMatching(/missing\.csv$/), line: null, column: null, field: null, ruleId: null },
      expected: 'a readable file',
    });
    expect(r.stderr).toMatch(/missing\.csv: error: cannot read/);
  });

  it('covers sql and usage errors from commander (exit 2)', async () => {
    const dir = await workspace();
    const sql = await runCli(['sql', '--json', 'no_such_feature > 1'], dir);
    expect(sql.code).toBe(2);
    expect((JSON.parse(sql.stdout) as ErrorDoc).error.problems[0]).toMatchObject({ found: 'no_such_feature' });
    const usage = await runCli(['--json', 'frobnicate'], dir);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { exit_code: 2, message: "unknown command 'frobnicate'", problems: [] } });
    const flag = await runCli(['review', '--bogus', '--json'], dir);
    expect(flag.code).toBe(2);
    expect((JSON.parse(flag.stdout) as ErrorDoc).error.message).toMatch(/unknown option '--bogus'/);
  });

  it('prints nothing on stdout without --json, and help is not an error', async () => {
    const dir = await workspace();
    const r = await runCli(['ingest', 'missing.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const help = await runCli(['--json', '--help'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).not.toMatch(/"error"/);
  });

  it('an internal error is exit 3 with its message and no stack in the JSON', () => {
    let out = '';
    let err = '';
    const io: Io = { stdout: (t) => (out += t), stderr: (t) => (err += t), isTTY: false, cwd: '/', env: {} };
    expect(reportError(new TypeError('x is undefined'), io, true)).toBe(3);
    expect(JSON.parse(out)).toEqual({ error: { exit_code: 3, message: 'internal error: x is undefined', problems: [] } });
    expect(out).not.toMatch(/at /);
    expect(err).toMatch(/TypeError: x is undefined\n\s+at /);
  });

  it('a failure whose report is printed adds no JSON error object, and on stderr only its reason', () => {
    let out = '';
    let err = '';
    const io: Io = { stdout: (t) => (out += t), stderr: (t) => (err += t), isTTY: false, cwd: '/', env: {} };
    expect(reportError(new ReportedFailure(1), io, true)).toBe(1);
    expect([out, err]).toEqual(['', '']);
    expect(reportError(new ReportedFailure(2, '1 invalid rule file', [{ severity: 'error', message: 'bad' }]), io, true)).toBe(2);
    expect([out, err]).toEqual(['', 'rulegen: 1 invalid rule file\nerror: bad\n']);
  });

  it('lint --json on a broken file prints one JSON document, exit 2', async () => {
    const dir = await workspace();
    writeFileSync(join(dir, 'candidates', 'bad.yaml'), 'id: x\n');
    const r = await runCli(['--json', 'lint'], dir);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { errors: number; error?: unknown };
    expect(doc.errors).toBeGreaterThan(0);
    expect(doc.error).toBeUndefined();
  });

  it('uses the headline when there is one, else the problems', () => {
    expect(errorJson(new InputError('bad config', [{ severity: 'error', message: 'x' }]), 2).error.message).toBe('bad config');
    expect(errorJson(InputError.single({ message: 'only this' }), 2).error.message).toBe('only this');
  });

  it('reads --json from argv, not after --', () => {
    expect(wantsJson(['review', '--json'])).toBe(true);
    expect(wantsJson(['sql', '--', '--json'])).toBe(false);
  });
});
