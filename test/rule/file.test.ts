import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { formatProblem } from '../../src/errors.js';
import { comparison, and } from '../../src/rule/ast.js';
import { parseRuleFile } from '../../src/rule/file.js';
import { lintTargets, loadRuleDir, loadRuleFile } from '../../src/rules/load.js';
import { print } from '../../src/rule/printer.js';
import { runCli, tmpDir } from '../helpers/cli.js';

const catalog = loadCatalog('fixtures/rules/features.yaml');
const BAD = 'fixtures/rules/bad/55065a7d-85dd-430b-bc76-3df78cff1256.yaml';

const rule = (fields: Record<string, string>) =>
  Object.entries({
    id: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
    title: 'T',
    status: 'candidate',
    action: 'log',
    level: 'low',
    condition: 'requests_per_minute > 120',
    description: 'D',
    rationale: 'R',
    falsepositives: '[Unknown]',
    ...fields,
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n') + '\n';

describe('loading rule files', () => {
  it('loads the good fixtures with their AST and canonical condition', () => {
    const loads = loadRuleDir('fixtures/rules/good', catalog);
    expect(loads).toHaveLength(3);
    for (const l of loads) {
      expect(l.problems).toEqual([]);
      expect(l.rule).toBeDefined();
      expect(l.rule!.condition).toBe(print(l.rule!.ast));
      expect(Object.isFrozen(l.rule)).toBe(true);
    }
    const first = loads.find((l) => l.id === 'f1b372a0-23db-48be-bd10-5782e88648bc')!.rule!;
    expect(first.ast).toEqual(and(comparison('requests_per_minute', '>', 120), comparison('static_asset_ratio', '<', 0.05)));
    expect(first.tags).toEqual(['scraper']);
    expect(first.review?.reviewer).toBe('dana');
    const block = loads.find((l) => l.id === '4903280f-0467-43c7-8d4a-ff81ba700839')!.rule!;
    expect(block.condition).toBe("headless_ua and not js_executed and device_class in ('desktop', 'bot')");
    expect(block.related).toEqual([{ id: 'f1b372a0-23db-48be-bd10-5782e88648bc', type: 'similar' }]);
  });

  it('reports every problem of a bad file at once, each with line:column', () => {
    const load = loadRuleFile(BAD, catalog);
    expect(load.rule).toBeUndefined();
    const lines = load.problems.map((p) => `${p.where?.line}:${p.where?.column} ${p.severity}: ${p.message}`);
    expect(lines).toEqual([
      '1:5 error: must be a UUID such as 7f9c2b1e-3d4a-4c5b-9e6f-0a1b2c3d4e5f',
      '3:9 error: Invalid option: expected one of "candidate"|"approved"|"rejected"|"deprecated"',
      '7:3 error: unknown feature "request_per_minute" (did you mean "requests_per_minute"?)',
      '8:9 error: operator < does not fit "country", a category feature',
      '9:30 error: 5 is outside the range of "static_asset_ratio"',
      '10:9 error: empty list after in for "device_class"',
      '11:9 warning: "asn_org" is marked sensitive in the catalog: a rule that uses it shows it in docs and reviews',
      '14:17 error: name at least one population that could match, or "Unknown"',
    ]);
    for (const p of load.problems) expect(p.where?.file).toBe(BAD);
    const unknown = load.problems[2]!;
    expect(unknown.excerpt).toBe('  request_per_minute > 120\n  ^^^^^^^^^^^^^^^^^^^^^^^^');
    expect(unknown.expected).toMatch(/requests_per_minute/);
  });

  it('places a parse error inside the condition', () => {
    const load = loadRuleFile('fixtures/rules/bad/7ec9dce0-6c84-4fe9-812c-a422d5cb2682.yaml', catalog);
    expect(load.problems).toHaveLength(1);
    expect(load.problems[0]).toMatchObject({ severity: 'error', where: { line: 6, column: 68, field: 'condition' }, found: 'end of input' });
  });

  it('follows quoted and folded scalars to the offending token', () => {
    const file = '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed.yaml';
    const quoted = parseRuleFile(rule({ condition: `"js_executed and country < 'US'"` }), file, catalog);
    expect(quoted.problems[0]!.where).toMatchObject({ line: 6, column: 29 });
    const folded = parseRuleFile(rule({ condition: '>\n  js_executed\n  and zzz > 1' }), file, catalog);
    expect(folded.problems[0]!.where).toMatchObject({ line: 8, column: 7 });
    const escaped = parseRuleFile(rule({ condition: `"country = '\\u00e9' and zzz > 1"` }), file, catalog);
    // Past an escape the walk gives up and falls back to the start of the scalar.
    expect(escaped.problems[0]!.where).toMatchObject({ line: 6, column: 12 });
  });

  it('reports YAML errors, non-mappings, strict keys and file-name mismatches', () => {
    expect(loadRuleFile('fixtures/rules/bad/broken-yaml.yaml', catalog).problems[0]!.message).toMatch(/^invalid YAML/);
    expect(parseRuleFile('- a\n- b\n', 'l.yaml', catalog).problems[0]!.message).toBe('a rule file must be a YAML mapping');
    expect(parseRuleFile('', 'e.yaml', catalog).problems[0]!.found).toBe('an empty document');
    const extra = loadRuleFile('fixtures/rules/bad/02f52c6a-bb6c-4646-8679-ee76cb24dc62.yaml', catalog);
    expect(extra.problems.map((p) => `${p.severity}: ${p.message}`)).toEqual([
      'warning: contradiction: the condition can never be true',
      'error: unknown field `extra_field`',
    ]);
    const named = parseRuleFile(rule({}), 'elsewhere.yaml', catalog);
    expect(named.rule).toBeDefined();
    expect(named.problems.map((p) => p.message)).toEqual(['the file name does not match the rule id']);
    expect(loadRuleFile('fixtures/rules/none.yaml', catalog).problems[0]!.found).toBe('no such file');
  });

  it('finds duplicate ids across files and keeps going', () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'a.yaml'), rule({}));
    writeFileSync(join(dir, 'b.yaml'), rule({ condition: 'zzz > 1' }));
    writeFileSync(join(dir, 'c.yaml'), rule({ title: 'Other' }));
    const loads = loadRuleDir(dir, catalog);
    expect(loads.map((l) => l.rule !== undefined)).toEqual([true, false, false]);
    expect(loads[2]!.problems.at(-1)!.message).toMatch(/^rule id 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed is also used by .*a\.yaml$/);
    expect(loads[2]!.problems.at(-1)!.where?.line).toBe(1);
  });

  it('lintTargets takes files and folders, and flags missing ones only when asked for', () => {
    const r = lintTargets(['fixtures/rules/good', BAD, 'fixtures/rules/missing'], catalog, true);
    expect(r.loads).toHaveLength(4);
    expect(r.problems.map((p) => p.message)).toEqual(['no such file or folder']);
    expect(lintTargets(['fixtures/rules/missing'], catalog, false).problems).toEqual([]);
  });

  it('formats problems as file:line:col', () => {
    const p = loadRuleFile(BAD, catalog).problems[2]!;
    expect(formatProblem(p).split('\n')[0]).toBe(
      `${BAD}:7:3 (condition) [rule not-a-uuid]: error: unknown feature "request_per_minute" (did you mean "requests_per_minute"?)`,
    );
  });
});

function workspace(): string {
  const dir = tmpDir();
  writeFileSync(join(dir, 'rulegen.yaml'), '');
  cpSync('fixtures/rules/features.yaml', join(dir, 'features.yaml'));
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'candidates'));
  cpSync('fixtures/rules/good', join(dir, 'rules'), { recursive: true });
  return dir;
}

describe('rulegen lint', () => {
  it('passes on good rules (default folders) with exit 0', async () => {
    const ws = workspace();
    const r = await runCli(['lint'], ws);
    expect(r.stderr).toBe('3 rule files: 0 errors, 0 warnings\n');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it('reports all errors of several files with line:column and exits 2', async () => {
    const ws = workspace();
    cpSync('fixtures/rules/bad', join(ws, 'candidates'), { recursive: true });
    const r = await runCli(['lint'], ws);
    expect(r.code).toBe(2);
    const headings = r.stdout.split('\n').filter((l) => /^\S/.test(l));
    const bad = 'candidates/55065a7d-85dd-430b-bc76-3df78cff1256.yaml';
    expect(headings).toEqual(
      expect.arrayContaining([
        `${bad}:1:5: error: must be a UUID such as 7f9c2b1e-3d4a-4c5b-9e6f-0a1b2c3d4e5f`,
        `${bad}:3:9: error: Invalid option: expected one of "candidate"|"approved"|"rejected"|"deprecated"`,
        `${bad}:7:3: error: unknown feature "request_per_minute" (did you mean "requests_per_minute"?)`,
        `${bad}:8:9: error: operator < does not fit "country", a category feature`,
        `${bad}:9:30: error: 5 is outside the range of "static_asset_ratio"`,
        `${bad}:10:9: error: empty list after in for "device_class"`,
        `${bad}:11:9: warning: "asn_org" is marked sensitive in the catalog: a rule that uses it shows it in docs and reviews`,
        `${bad}:14:17: error: name at least one population that could match, or "Unknown"`,
        "candidates/7ec9dce0-6c84-4fe9-812c-a422d5cb2682.yaml:6:68: error: invalid condition: expected ')' to close the '(', found end of input",
        'candidates/02f52c6a-bb6c-4646-8679-ee76cb24dc62.yaml:6:12: warning: contradiction: the condition can never be true',
      ]),
    );
    expect(r.stdout).toContain('  expected: a feature of the catalog, such as requests_per_minute\n  found:    request_per_minute\n');
    expect(r.stderr).toBe('7 rule files: 10 errors, 2 warnings\n');
  });

  it('lints the paths given, warnings alone exit 0, --json is machine-readable', async () => {
    const ws = workspace();
    const file = join(ws, 'rules', 'w.yaml');
    writeFileSync(file, rule({ id: '2c5ea4c0-4067-41f2-9c4e-0d2f5a1b1a11', condition: "asn_org = 'x'" }));
    const r = await runCli(['lint', 'rules/w.yaml'], ws);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^\S/.test(l))).toEqual([
      'rules/w.yaml:1:5: warning: the file name does not match the rule id',
      'rules/w.yaml:6:12: warning: "asn_org" is marked sensitive in the catalog: a rule that uses it shows it in docs and reviews',
    ]);
    const j = await runCli(['--json', 'lint', 'rules', 'nowhere'], ws);
    expect(j.code).toBe(2);
    const doc = JSON.parse(j.stdout);
    expect(doc.files).toHaveLength(4);
    expect(doc.errors).toBe(1);
    expect(doc.problems[0].message).toBe('no such file or folder');
  });
});
