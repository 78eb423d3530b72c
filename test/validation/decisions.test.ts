/**
 * One CLI test per issue-12 gate decision, through approve, review and check, on the tiny
 * workspace of test/impact/tiny.ts (figures hand-computed there and in test/backtest/cli.test.ts).
 * Each config loosens the per-rule gate so that the decision under test is the one that bites.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CONFIG, IDS, tinyWorkspace } from '../impact/tiny.js';

const loose = (extra: string) => `${CONFIG}gate:\n  max_fpr: 0.8\n  min_precision: 0\n  min_support: 0\n${extra}`;

describe('the set gate', () => {
  it('approve refuses a candidate that breaks the deployed set, with its incremental FPR and recall; --override records it', async () => {
    // deployed: A hits g (1 of 5 humans); D adds h: 2 of 5, Wilson upper 76.9% > 70%
    const dir = await tinyWorkspace(loose('  set_max_fpr: 0.7\n  segment_max_fpr: 1\n'));
    const r = await runCli(['-C', dir, 'approve', IDS.D, '--reviewer', 'ann'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('1 candidate fails the gate');
    expect(r.stderr).toContain('with this rule the deployed set hits 2 of 5 humans (1 only by this rule): FPR upper 95% bound 76.9% exceeds set_max_fpr 70.0%');
    expect(r.stderr).toContain(
      'dddddddd: incremental FPR 20.000% (1 human only this rule would hit), incremental recall 0.0% (0 bots no deployed rule catches)',
    );
    expect(existsSync(join(dir, 'rules', `${IDS.D}.yaml`))).toBe(false);
    const o = await runCli(['-C', dir, 'approve', IDS.D, '--reviewer', 'ann', '--override', 'incident 7'], dir);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toContain('(gate overridden)');
    expect(o.stdout).toContain('  overridden: with this rule the deployed set hits 2 of 5 humans');
    const y = parse(readFileSync(join(dir, 'rules', `${IDS.D}.yaml`), 'utf8'));
    expect(y.review).toMatchObject({ override: 'incident 7' });
    expect(y.review.gate_failures[0]).toMatch(/^with this rule the deployed set hits 2 of 5 humans/);
  }, 20_000);

  it('check fails the approved set as a whole, names the rules behind its false positives, in JUnit and Markdown too', async () => {
    // the log rule L hits 3 of 5 humans (upper 88.2%): loosened further, so only the set fails
    const dir = await tinyWorkspace(loose('  set_max_fpr: 0.5\n  segment_max_fpr: 1\n').replace('  max_fpr: 0.8\n', '  max_fpr: 0.9\n'));
    const r = await runCli(['-C', dir, 'check', '--junit', 'c.xml', '--summary', 's.md'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'deployed set (1 approved block/challenge rule): 1 of 5 humans hit, FPR 20.000% (upper 95% 62.447%), recall 33.3%: FAILS the set gate',
    );
    expect(r.stdout).toContain('most of its false positives come from: aaaaaaaa (share 1.0, 1 only by it)');
    expect(r.stdout).toMatch(/gate: 2 of 2 rules pass; the deployed set FAILS/);
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(join(dir, 'c.xml'), 'utf8')).testsuites.testsuite;
    expect(suite.failures).toBe('1');
    const set = (suite.testcase as { classname: string; failure?: { message: string } }[]).find((c) => c.classname === 'rulegen.set')!;
    expect(set.failure!.message).toBe('the deployed set (1 rule) hits 1 of 5 humans: FPR upper 95% bound 62.4% exceeds set_max_fpr 50.0%');
    expect(readFileSync(join(dir, 's.md'), 'utf8')).toContain('### ❌ The deployed set');
  }, 20_000);
});

describe('a protected population, judged on the lower bound', () => {
  it('approve refuses; review and check --candidates show it; unprotected harm is a note', async () => {
    // D hits h of slow (h i m): 1 of 3, lower 95% bound 6.15% > 5%
    const dir = await tinyWorkspace(loose('  set_max_fpr: 1\n  segment_max_fpr: 0.05\n'));
    const reason = 'FPR on protected population slow is 33.3% (1 of 3 humans): its lower 95% bound 6.15% exceeds segment_max_fpr 5.00%';
    const a = await runCli(['-C', dir, 'approve', IDS.D, '--reviewer', 'ann'], dir);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(reason);
    const rv = await runCli(['-C', dir, 'review'], dir);
    expect(rv.stdout).toMatch(new RegExp(`FAIL dddddddd [^\\n]*\\n(.*\\n)*?\\s+- ${reason.replace(/[.()%]/g, '\\$&')}`));
    expect(rv.stdout).toContain('~ FPR on segment country=US is 33.3% (1 of 3 humans)');
    const c = await runCli(['-C', dir, '--json', 'check', '--candidates'], dir);
    const d = JSON.parse(c.stdout).rules.find((x: { id: string }) => x.id === IDS.D);
    expect(d.pass).toBe(false);
    expect(d.findings.segment).toEqual([reason]);
  }, 20_000);
});

describe('recall across the split', () => {
  it('review marks "recall collapsed on <day>" and check --candidates fails it', async () => {
    // G catches a d on train (100%), e of e f k on test (33.3%)
    const dir = await tinyWorkspace(loose('  set_max_fpr: 1\n  segment_max_fpr: 1\n'));
    const rv = await runCli(['-C', dir, 'review'], dir);
    expect(rv.stdout).toMatch(/FAIL cccccccc [^\n]*\n(.*\n)*?\s+- recall collapsed on 2026-01-03: 33\.3% of bots in the test week/);
    const c = await runCli(['-C', dir, 'check', '--candidates'], dir);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/FAIL cccccccc .*\n\s+- recall collapsed on 2026-01-03/);
  }, 20_000);
});

describe('duplicates by behaviour', () => {
  it('a reordered copy of an approved rule is "duplicate of", one of a rejected rule "repeats rejected": in review, check and docs', async () => {
    const dir = await tinyWorkspace(loose('  set_max_fpr: 1\n  segment_max_fpr: 1\n'));
    const rv = await runCli(['-C', dir, '--json', 'review'], dir);
    const f = JSON.parse(rv.stdout).candidates.find((x: { id: string }) => x.id === IDS.F);
    expect(f.pass).toBe(false);
    expect(f.findings.duplicate).toEqual([
      `duplicate of ${IDS.A} (hit-set Jaccard 1.000)`,
      `repeats rejected ${IDS.R}: hits customers on fast links (hit-set Jaccard 1.000)`,
    ]);
    const text = await runCli(['-C', dir, 'review'], dir);
    expect(text.stdout).toContain(`- duplicate of ${IDS.A} (hit-set Jaccard 1.000)`);
    const c = await runCli(['-C', dir, 'check', '--candidates'], dir);
    expect(c.stdout).toMatch(new RegExp(`FAIL ffffffff .*\\n(.*\\n)*?\\s+- duplicate of ${IDS.A}`));
    const a = await runCli(['-C', dir, 'approve', IDS.F, '--reviewer', 'ann'], dir);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`repeats rejected ${IDS.R}: hits customers on fast links`);
    expect((await runCli(['-C', dir, 'docs'], dir)).code).toBe(0);
    const readme = readFileSync(join(dir, 'docs/rules/README.md'), 'utf8');
    expect(readme).toContain('## Findings on current data');
    expect(readme).toContain(`  - duplicate of ${IDS.A} (hit-set Jaccard 1.000)`);
    expect(readme).toContain('  - recall collapsed on 2026-01-03');
    const html = readFileSync(join(dir, 'docs/report.html'), 'utf8');
    expect(html).toContain(`duplicate of ${IDS.A}`);
    expect(html).toContain('data-chart="stability-');
    expect(html).toContain('<h2>Segments and populations</h2>');
    expect(html).toContain('<h2>Impact</h2>');
  }, 30_000);
});

describe('statistical power', () => {
  it('review, check and approve say once how many humans there are and how many are needed', async () => {
    const dir = await tinyWorkspace();
    const msg = 'the test window has 5 labelled humans; at least 3,838 are needed for a rule to pass max_fpr 0.100% even with zero false positives';
    const rv = await runCli(['-C', dir, 'review'], dir);
    expect(rv.stdout.split(msg).length - 1).toBe(1);
    expect(rv.stdout).toContain(`too few humans to judge: ${msg}`);
    const c = await runCli(['-C', dir, 'check', '--summary', 's.md'], dir);
    expect(c.code).toBe(1);
    expect(c.stdout.split(msg).length - 1).toBe(1);
    expect(readFileSync(join(dir, 's.md'), 'utf8').split(msg).length - 1).toBe(1);
    const a = await runCli(['-C', dir, 'approve', IDS.E, '--reviewer', 'ann'], dir);
    expect(a.code).toBe(1);
    expect(a.stderr.split(msg).length - 1).toBe(1);
    writeFileSync(join(dir, 'unused'), '');
  }, 20_000);
});
