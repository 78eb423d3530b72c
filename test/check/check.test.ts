import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { tmpDir } from '../helpers/tmp.js';

/** A "billion laughs": 9^6 strings from six lines. */
const BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...['b', 'c', 'd', 'e', 'f'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcde'[i]}`).join(',')}]`)].join('\n') + '\n';
const junitOf = (f: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(f, 'utf8')).testsuites.testsuite;

let ws: string;
beforeAll(async () => {
  ws = await exampleWorkspace();
});

const candidate = (id: string, condition: string) => `id: ${id}
title: Candidate ${condition}
status: candidate
action: challenge
level: medium
condition: ${condition}
description: A candidate for the test.
rationale: Testing the gate.
falsepositives: [Unknown]
`;

describe('rulegen check', () => {
  it('passes the repository example rules and writes JUnit and Markdown', async () => {
    const r = await runCli(['-C', ws, 'check', '--junit', 'out/check.xml', '--summary', 'out/summary.md'], ws);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('gate: 3 of 3 rules pass');
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(join(ws, 'out/check.xml'), 'utf8'));
    const suite = junit.testsuites.testsuite;
    expect(suite.tests).toBe('3');
    expect(suite.failures).toBe('0');
    const cases = suite.testcase as { name: string; classname: string; failure?: unknown }[];
    expect(cases).toHaveLength(3);
    expect(cases.every((c) => c.classname === 'rulegen.approved' && !c.failure)).toBe(true);
    expect(cases.map((c) => c.name).join('\n')).toContain('Fast sessions that barely load static assets');
    const md = readFileSync(join(ws, 'out/summary.md'), 'utf8');
    expect(md).toMatch(/^## rulegen check: passed/);
    expect(md.match(/\| ✅ \|/g)).toHaveLength(3);
  });

  it('fails a candidate that breaks the gate with every reason, exit 1, in JUnit too', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, 'webdriver_flag'));
    try {
      const plain = await runCli(['-C', ws, 'check'], ws);
      expect(plain.code).toBe(0); // candidates are gated only on request
      const r = await runCli(['-C', ws, 'check', '--candidates', '--junit', 'out/fail.xml'], ws);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL 11111111 .*\n\s+- FPR upper 95% bound .* exceeds max_fpr 0\.100%/);
      expect(r.stdout).toMatch(/precision .* is below min_precision/);
      const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(join(ws, 'out/fail.xml'), 'utf8'));
      expect(junit.testsuites.testsuite.failures).toBe('1');
      const failed = (junit.testsuites.testsuite.testcase as { name: string; failure?: { message: string } }[]).filter((c) => c.failure);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.name).toContain(id);
      expect(failed[0]!.failure!.message).toMatch(/exceeds max_fpr/);
    } finally {
      writeFileSync(join(ws, 'candidates', `${id}.yaml`), '');
      (await import('node:fs')).rmSync(join(ws, 'candidates', `${id}.yaml`));
    }
  });

  it('invalid rule files: every finding listed, exit 2', async () => {
    const id = '22222222-2222-4333-8444-555555555555';
    const f = join(ws, 'candidates', `${id}.yaml`);
    writeFileSync(f, candidate(id, 'no_such_feature > 3 and webdriver_flag > 2').replace('action: challenge', 'action: nuke'));
    try {
      const r = await runCli(['-C', ws, 'check'], ws);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/action/);
      expect(r.stderr).toMatch(/no_such_feature/);
      expect(r.stderr).toMatch(new RegExp(`${id}\\.yaml:\\d+:\\d+`));
    } finally {
      (await import('node:fs')).rmSync(f);
    }
  });
});

describe('one bad candidate file', () => {
  it('check lists it as an invalid failure, still gates the rest, exit 2, and writes JUnit and Markdown', async () => {
    const f = join(ws, 'candidates', 'bomb.yaml');
    writeFileSync(f, BOMB);
    try {
      const r = await runCli(['-C', ws, 'check', '--junit', 'out/bomb.xml', '--summary', 'out/bomb.md'], ws);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/internal error|ReferenceError/);
      expect(r.stderr).toMatch(/bomb\.yaml.*too many alias expansions/);
      expect(r.stdout).toMatch(/^INVALID bomb\.yaml .*bomb\.yaml: 1 error$/m);
      expect(r.stdout).toContain('gate: 3 of 3 rules pass; 1 invalid rule file');
      const suite = junitOf(join(ws, 'out/bomb.xml'));
      expect([suite.tests, suite.failures]).toEqual(['4', '1']);
      const bad = (suite.testcase as { classname: string; failure?: { message: string; type: string } }[]).filter((c) => c.failure);
      expect(bad.map((c) => [c.classname, c.failure!.type])).toEqual([['rulegen.invalid', 'lint']]);
      expect(bad[0]!.failure!.message).toMatch(/too many alias expansions/);
      const md = readFileSync(join(ws, 'out/bomb.md'), 'utf8');
      expect(md).toMatch(/^## rulegen check: FAILED/);
      expect(md).toMatch(/### ❌ 1 invalid rule file\n\n\*\*bomb\.yaml\*\*\n\n- .*too many alias expansions/);
      expect(md.match(/\| ✅ \|/g)).toHaveLength(3);
    } finally {
      rmSync(f);
    }
  });

  it('review lists it as invalid with its reason and reviews the others', async () => {
    const f = join(ws, 'candidates', 'bomb.yaml');
    const id = '44444444-2222-4333-8444-555555555555';
    const good = join(ws, 'candidates', `${id}.yaml`);
    writeFileSync(f, BOMB);
    writeFileSync(good, candidate(id, 'webdriver_flag'));
    try {
      const r = await runCli(['-C', ws, 'review'], ws);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/^FAIL 44444444 /m);
      expect(r.stdout).toMatch(/^INVALID .*bomb\.yaml: invalid YAML: too many alias expansions/m);
      expect(r.stderr).not.toMatch(/internal error/);
      const j = JSON.parse((await runCli(['-C', ws, '--json', 'review'], ws)).stdout);
      expect(j.candidates).toHaveLength(1);
      expect(j.invalid.map((x: { file: string }) => x.file)).toEqual([f]);
    } finally {
      rmSync(f);
      rmSync(good);
    }
  });

  it('check writes its reports when the workspace itself cannot be read (exit 2)', async () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'rulegen.yaml'), 'data:\n  table: sessions\n');
    writeFileSync(join(dir, 'features.yaml'), BOMB);
    mkdirSync(join(dir, 'rules'));
    const r = await runCli(['-C', dir, 'check', '--junit', 'ci/junit.xml', '--summary', 'ci/summary.md'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/features\.yaml.*too many alias expansions/);
    const suite = junitOf(join(dir, 'ci/junit.xml'));
    expect([suite.tests, suite.errors]).toEqual(['1', '1']);
    expect(suite.testcase.error.message).toMatch(/too many alias expansions/);
    expect(readFileSync(join(dir, 'ci/summary.md'), 'utf8')).toMatch(/^## rulegen check: FAILED\n\nThe check could not run:\n\n- .*features\.yaml.*too many alias/);
  });
});

describe('rulegen backtest', () => {
  it('backtests an expression, a rule id prefix and a rule file in one run', async () => {
    const r = await runCli(['-C', ws, '--json', 'backtest', 'requests_per_minute > 40', '3b0d6c2e', join(ws, 'rules', '5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32.yaml'), '--variations'], ws);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rules.map((x: { id: string }) => x.id)).toEqual(['expr-1', '3b0d6c2e-8f4a-4c1e-9a57-2d1f0e6b7a11', '5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32']);
    expect(out.rules[1].counts).toEqual({ tp: 386, fp: 2, tn: 11262, fn: 5116, unlabeled_hits: 36 });
    // the rule with the stricter threshold catches a subset of the expression's hits
    expect(out.rules[1].counts.tp).toBeLessThan(out.rules[0].counts.tp);
    const v = out.variations['3b0d6c2e-8f4a-4c1e-9a57-2d1f0e6b7a11'];
    expect(v.length).toBeGreaterThanOrEqual(5);
    expect(v.filter((x: { current: boolean }) => x.current)).toHaveLength(2); // one per threshold
    // approved rules are not rewritten without --update
    expect(readFileSync(join(ws, 'rules', '3b0d6c2e-8f4a-4c1e-9a57-2d1f0e6b7a11.yaml'), 'utf8')).not.toContain('backtest:');
  });

  it('writes the evidence block into a candidate file, keeping the rest', async () => {
    const id = '33333333-2222-4333-8444-555555555555';
    const f = join(ws, 'candidates', `${id}.yaml`);
    writeFileSync(f, '# a comment that must survive\n' + candidate(id, 'login_post_count >= 10 and error_4xx_ratio > 0.5'));
    try {
      const r = await runCli(['-C', ws, '--quiet', 'backtest', id], ws);
      expect(r.code).toBe(0);
      const text = readFileSync(f, 'utf8');
      expect(text).toContain('# a comment that must survive');
      expect(text).toMatch(/backtest:\n  as_of: .*\n  data:\n    rows: \d+/);
      expect(text).toMatch(/fpr_upper95: 0\.\d+/);
      expect(text).toMatch(/worst_day: "?2026-01-1\d/);
      const lint = await runCli(['-C', ws, 'lint', f], ws);
      expect(lint.code).toBe(0);
    } finally {
      (await import('node:fs')).rmSync(f);
    }
  });

  it('bad input: unknown id, bad expression, bad window, unknown segment -> exit 2', async () => {
    for (const args of [['deadbeef-0000'], ['requests_per_minute >> 3'], ['--window', 'later', 'webdriver_flag'], ['--by', 'planet', 'webdriver_flag']]) {
      const r = await runCli(['-C', ws, 'backtest', ...args], ws);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/expected/);
    }
  });
});
