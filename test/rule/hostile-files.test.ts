import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, parseCatalog } from '../../src/catalog/load.js';
import { parseConfig } from '../../src/config/load.js';
import { invalidUtf8Offset, readText } from '../../src/config/yaml.js';
import { InputError } from '../../src/errors.js';
import { checkCondition, nextDouble } from '../../src/rule/checks.js';
import { evaluate } from '../../src/rule/evaluate.js';
import { parseRuleFile } from '../../src/rule/file.js';
import { loadRuleDir, loadRuleFile } from '../../src/rules/load.js';
import { parse, parseCondition } from '../../src/rule/parser.js';
import { tmpDir } from '../helpers/cli.js';

const catalog = loadCatalog('fixtures/rules/features.yaml');
const ID = '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed';
const rule = (extra = '', fields: Record<string, string> = {}) =>
  Object.entries({
    id: ID,
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
    .join('\n') +
  '\n' +
  extra;

/** A "billion laughs": 9^6 strings from six lines. */
const BOMB =
  [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...['b', 'c', 'd', 'e', 'f'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcde'[i]}`).join(',')}]`),
  ].join('\n') + '\n';

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('hostile YAML files', () => {
  it('an alias bomb is bad input naming the file and the limit, in rules, the catalog and the config', () => {
    const r = parseRuleFile(BOMB, 'candidates/bomb.yaml', catalog);
    expect(r.rule).toBeUndefined();
    expect(r.problems[0]).toMatchObject({ severity: 'error', where: { file: 'candidates/bomb.yaml' } });
    expect(r.problems[0]!.message).toMatch(/too many alias expansions/);
    expect(r.problems[0]!.expected).toMatch(/at most 100 alias/);
    expect(inputError(() => parseCatalog(BOMB, 'features.yaml')).message).toMatch(/features\.yaml.*too many alias expansions/);
    expect(inputError(() => parseConfig(BOMB, 'rulegen.yaml')).message).toMatch(/rulegen\.yaml.*too many alias expansions/);
  });

  it('a file over the size limit is refused before it is read', () => {
    const dir = tmpDir();
    const big = join(dir, `${ID}.yaml`);
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024); // sparse: 64 MB on paper, nothing to read
    const t0 = performance.now();
    const l = loadRuleFile(big, catalog);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(l.problems[0]).toMatchObject({ message: 'the rule file is too large', expected: 'at most 1 MB', where: { file: big } });
    expect(inputError(() => readText(big, 'the feature catalog')).problems[0]).toMatchObject({
      message: 'the feature catalog is too large',
      expected: 'at most 10 MB',
    });
  });

  it('one bad file in a folder does not stop the others from loading', () => {
    const dir = tmpDir();
    writeFileSync(join(dir, `${ID}.yaml`), rule());
    writeFileSync(join(dir, 'bomb.yaml'), BOMB);
    const loads = loadRuleDir(dir, catalog);
    expect(loads.map((l) => l.rule !== undefined)).toEqual([true, false]);
  });

  it('invalid UTF-8 is refused with its byte offset, not replaced', () => {
    const dir = tmpDir();
    const f = join(dir, `${ID}.yaml`);
    const good = Buffer.from(rule('', { title: 'Café' }));
    const bad = Buffer.concat([good.subarray(0, 60), Buffer.from([0xc3, 0x28]), good.subarray(60)]);
    writeFileSync(f, bad);
    const p = loadRuleFile(f, catalog).problems[0]!;
    expect(p.message).toBe('invalid UTF-8 at byte offset 60');
    expect(p.found).toMatch(/^bytes c3 28/);
    writeFileSync(f, good);
    expect(loadRuleFile(f, catalog).rule?.title).toBe('Café');
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // a surrogate
    expect(invalidUtf8Offset(Buffer.from([0xe0, 0x80, 0x80]))).toBe(0); // overlong
    expect(invalidUtf8Offset(Buffer.from('aé€😀'))).toBeUndefined();
  });

  it('control characters in text fields are refused, tab and newline allowed', () => {
    const nul = parseRuleFile(rule('', { title: '"Fast\\0 sessions"' }), `${ID}.yaml`, catalog);
    expect(nul.rule).toBeUndefined();
    expect(nul.problems.map((p) => p.message)).toEqual(['contains the control character U+0000 at character 5']);
    expect(nul.problems[0]!.where).toMatchObject({ field: 'title', line: 2 });
    const bell = parseRuleFile(rule('', { description: '"a\\u0007b"' }), `${ID}.yaml`, catalog);
    expect(bell.problems[0]!.message).toMatch(/U\+0007/);
    expect(parseRuleFile(rule('', { description: '"a\\tb\\nc"' }), `${ID}.yaml`, catalog).rule).toBeDefined();
  });
});

describe('validation messages of hand-written files', () => {
  it('a missing field is named once, at the document', () => {
    const text = rule().replace('title: T\n', '');
    const ps = parseRuleFile(text, `${ID}.yaml`, catalog).problems;
    expect(ps.map((p) => p.message)).toEqual(['missing required field `title`']);
    expect(ps[0]!.where).toMatchObject({ line: 1, column: 1, field: 'title' });
  });

  it('an unknown key gets a did-you-mean, at the key', () => {
    const text = rule().replace('condition:', 'condtion:');
    const ps = parseRuleFile(text, `${ID}.yaml`, catalog).problems;
    expect(ps.map((p) => p.message)).toEqual(['missing required field `condition`', 'unknown field `condtion` — did you mean `condition`?']);
    expect(ps[1]!.where).toMatchObject({ line: 6, column: 1 });
  });

  it('the catalog and config get the same words', () => {
    const cat = inputError(() => parseCatalog('- name: rpm\n  type: number\n  descripton: x\n', 'features.yaml')).problems.map((p) => p.message);
    expect(cat).toEqual(['missing required field `description`', 'unknown field `descripton` — did you mean `description`?']);
    expect(inputError(() => parseConfig('gaet:\n  max_fpr: 0.1\n', 'rulegen.yaml')).problems[0]!.message).toBe('unknown field `gaet` — did you mean `gate`?');
  });

  it('a category value outside the closed list is an error', () => {
    const r = parseRuleFile(rule('', { condition: "device_class = 'toaster'" }), `${ID}.yaml`, catalog);
    expect(r.rule).toBeUndefined();
    expect(r.problems[0]).toMatchObject({ severity: 'error', where: { line: 6 } });
  });
});

describe('feature names that are keywords', () => {
  it('are refused in the catalog at the name', () => {
    const text = [
      '- name: ok',
      '  type: number',
      '  description: x',
      '- name: select',
      '  type: number',
      '  description: y',
      '- name: "null"',
      '  type: boolean',
      '  description: z',
      '',
    ].join('\n');
    const ps = inputError(() => parseCatalog(text, 'features.yaml')).problems;
    expect(ps.map((p) => [p.message, p.where?.line, p.where?.column])).toEqual([
      ['feature name "select" is a reserved SQL keyword: no condition could use it', 4, 9],
      ['feature name "null" is a word of the condition language: no condition could use it', 7, 9],
    ]);
  });
});

describe('numbers', () => {
  it('literals that overflow or underflow are refused at line:column', () => {
    const over = parseCondition('requests_per_minute > 1\n  or requests_per_minute > 1e400');
    expect(over.ok || over.problem).toMatchObject({ message: 'number out of range (overflows to infinity)', where: { line: 2, column: 28 } });
    const under = parseCondition('requests_per_minute > 1e-400');
    expect(under.ok || under.problem).toMatchObject({ message: 'number out of range (underflows to 0)', where: { line: 1, column: 23 } });
    expect(parse('requests_per_minute > 0e-400')).toBeDefined();
    expect(parse('requests_per_minute > 5e-324')).toBeDefined();
  });

  it('large literals: the checks agree with the evaluator (doubles), no false contradiction', () => {
    const ast = parse('requests_per_minute > 1e20');
    expect(checkCondition(ast, catalog)).toEqual([]);
    expect(evaluate(ast, { requests_per_minute: 2e20 })).toBe(true);
    const never = checkCondition(parse('requests_per_minute > 1e20 and requests_per_minute < 1e20'), catalog);
    expect(never.map((f) => f.message)).toEqual(['contradiction: the condition can never be true']);
    // 2^53 + 1 is not a double: as DuckDB does, both sides compare as 2^53.
    const tight = parse(`requests_per_minute > ${2 ** 53} and requests_per_minute < ${nextDouble(2 ** 53, 1)}`);
    expect(checkCondition(tight, catalog).map((f) => f.message)).toEqual(['contradiction: the condition can never be true']);
    expect(nextDouble(1, 1)).toBe(1 + Number.EPSILON);
    expect(nextDouble(-1, -1)).toBe(-1 - Number.EPSILON);
    expect(nextDouble(0, -1)).toBe(-Number.MIN_VALUE);
  });
});
