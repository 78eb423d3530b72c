import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { tmpDir } from '../helpers/tmp.js';

/** A "billion laughs": 9^6 strings from six lines. */
const BOMB =
  [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...['b', 'c', 'd', 'e', 'f'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcde'[i]}`).join(',')}]`),
  ].join('\n') + '\n';
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
    // two approved example rules; 3b0d6c2e is deprecated (its recall collapsed) and not gated
    expect(r.stdout).toContain('gate: 2 of 2 rules pass; the deployed set passes');
    expect(r.stdout).not.toContain('3b0d6c2e');
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(join(ws, 'out/check.xml'), 'utf8'));
    const suite = junit.testsuites.testsuite;
    expect(suite.tests).toBe('3'); // the two rules and the deployed set
    expect(suite.failures).toBe('0');
    const cases = suite.testcase as { name: string; classname: string; failure?: unknown }[];
    expect(cases).toHaveLength(3);
    expect(cases.every((c) => !c.failure)).toBe(true);
    expect(cases.map((c) => c.classname)).toEqual(['rulegen.approved', 'rulegen.approved', 'rulegen.set']);
    expect(cases.map((c) => c.name).join('\n')).toContain('Night-time sessions with clockwork request timing');
    expect(cases.map((c) => c.name).join('\n')).toContain('Automated browsers with regular timing and no pointer movement');
    const md = readFileSync(join(ws, 'out/summary.md'), 'utf8');
    expect(md).toMatch(/^## rulegen check: passed/);
    expect(md.match(/\| ✅ \|/g)).toHaveLength(2);
    expect(md).toContain('### ✅ The deployed set');
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
      // --json: the report is the one document on stdout (no error object after it); the reason stays on stderr
      const j = await runCli(['-C', ws, '--json', 'check'], ws);
      expect(j.code).toBe(2);
      expect((JSON.parse(j.stdout) as { invalid: unknown[] }).invalid).toHaveLength(1);
      expect(j.stderr).toMatch(/rulegen: 1 invalid rule file\n/);
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
      expect(r.stdout).toContain('gate: 2 of 2 rules pass; the deployed set passes; 1 invalid rule file');
      const suite = junitOf(join(ws, 'out/bomb.xml'));
      expect([suite.tests, suite.failures]).toEqual(['4', '1']); // two rules, the deployed set, the invalid file
      const bad = (suite.testcase as { classname: string; failure?: { message: string; type: string } }[]).filter((c) => c.failure);
      expect(bad.map((c) => [c.classname, c.failure!.type])).toEqual([['rulegen.invalid', 'lint']]);
      expect(bad[0]!.failure!.message).toMatch(/too many alias expansions/);
      const md = readFileSync(join(ws, 'out/bomb.md'), 'utf8');
      expect(md).toMatch(/^## rulegen check: FAILED/);
      expect(md).toMatch(/### ❌ 1 invalid rule file\n\n\*\*bomb\.yaml\*\*\n\n- .*too many alias expansions/);
      expect(md.match(/\| ✅ \|/g)).toHaveLength(2);
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
    expect(readFileSync(join(dir, 'ci/summary.md'), 'utf8')).toMatch(
      /^## rulegen check: FAILED\n\nThe check could not run:\n\n- .*features\.yaml.*too many alias/,
    );
  });
});

describe('rulegen backtest', () => {
  it('backtests an expression, a rule id prefix and a rule file in one run', async () => {
    // approved example rules: 5e2a9f71 by id prefix, 9c4e1b28 by file; the expression is 5e2a9f71's first term
    const r = await runCli(
      [
        '-C',
        ws,
        '--json',
        'backtest',
        'night_activity_ratio > 0.8',
        '5e2a9f71',
        join(ws, 'rules', '9c4e1b28-6a7d-4f03-8e52-1b9a3c7d5e43.yaml'),
        '--variations',
      ],
      ws,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rules.map((x: { id: string }) => x.id)).toEqual(['expr-1', '5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32', '9c4e1b28-6a7d-4f03-8e52-1b9a3c7d5e43']);
    expect(out.rules[1].counts).toEqual({ tp: 111, fp: 0, tn: 11264, fn: 5391, unlabeled_hits: 19 });
    // the rule, with one more term, catches a subset of the expression's hits
    expect(out.rules[1].counts.tp).toBeLessThan(out.rules[0].counts.tp);
    const v = out.variations['5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32'];
    expect(v.length).toBeGreaterThanOrEqual(5);
    expect(v.filter((x: { current: boolean }) => x.current)).toHaveLength(2); // one per threshold
    // approved rules are not rewritten without --update, whether named by id or by file
    expect(readFileSync(join(ws, 'rules', '5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32.yaml'), 'utf8')).not.toContain('backtest:');
    expect(readFileSync(join(ws, 'rules', '9c4e1b28-6a7d-4f03-8e52-1b9a3c7d5e43.yaml'), 'utf8')).not.toContain('backtest:');
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
      // what was expected: in rulegen's words, or commander's list of choices for --window
      expect(r.stderr).toMatch(/expected|Allowed choices are train, test, all/);
    }
  });
});
