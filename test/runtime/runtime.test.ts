/**
 * The runtime evaluator on its own: NULL semantics atom by atom against the JS reference
 * evaluator, stages and the strongest action, bad sessions reported per rule without a throw,
 * and bad bundles refused with the reason.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate as reference } from '../../src/rule/evaluate.js';
import { bundleDigest, canonicalJson, decide, evaluate, loadRuleset, RulesetError, sha256Hex } from '../../src/runtime/index.js';
import { bundleOf, ruleOf, type RuleSpec } from './helpers.js';

const CONDITIONS = [
  'rpm > 100',
  'rpm >= 100',
  'rpm < 10',
  'rpm <= 10',
  'rpm = 100',
  'rpm != 100',
  'rpm between 10 and 100',
  'rpm in (1, 100, -0)',
  'rpm not in (1, 100)',
  'rpm is null',
  'rpm is not null',
  'not rpm > 100',
  'not (rpm > 100 or ratio < 0.1)',
  'webdriver',
  'not webdriver',
  'webdriver = false',
  'webdriver != true',
  'webdriver != false',
  'webdriver is null',
  'js is not null and not js',
  "ua = 'curl'",
  "ua != 'curl'",
  "ua in ('curl', 'python', 'it''s', '日本')",
  "ua not in ('curl', 'python')",
  "ua in ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'curl')",
  "ua not in ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'curl')",
  'ua is null',
  "asn = 'hosting' and (rpm > 50 or webdriver) and ratio between 0 and 0.2",
  "not (asn in ('hosting', 'mobile') and not js)",
  'rpm > 1 and ratio < 1 and webdriver and js',
  'rpm > 1 or ratio < 1 or webdriver or js',
  // shapes outside the plan's clause form (closures over the atom bits) and a long conjunction
  '(rpm > 100 and ratio < 0.1) or (webdriver and js)',
  'not (rpm > 100 or ratio < 0.1) or ua is null',
  "rpm > 1 and ratio < 1 and webdriver and js and ua is not null and asn != 'mobile'",
  "(rpm in (1, 10) or not (ua not in ('curl'))) and (js is null or (asn is not null and not webdriver))",
];

const VALUES = {
  rpm: [null, 0, -0, 1, 10, 100, 100.5, 1e9, Infinity, -Infinity],
  ratio: [null, 0, 0.05, 0.2, 1],
  webdriver: [null, true, false],
  js: [null, true, false],
  ua: [null, 'curl', 'python', "it's", '日本', 'chrome', '', 'CURL'],
  asn: [null, 'hosting', 'residential', 'mobile'],
};

function sessions(n: number): Record<string, unknown>[] {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const s: Record<string, unknown> = {};
    for (const [k, vs] of Object.entries(VALUES)) s[k] = vs[Math.floor(rnd() * vs.length)];
    out.push(s);
  }
  return out;
}

describe('evaluate', () => {
  it('matches the JS reference evaluator on every atom and combination, NULLs included', () => {
    const specs: RuleSpec[] = CONDITIONS.map((condition) => ({ condition }));
    const rs = loadRuleset(JSON.stringify(bundleOf(specs)));
    const rules = specs.map((s, i) => ruleOf(s, undefined, i));
    for (const s of sessions(3000)) {
      const d = evaluate(rs, s);
      expect(d.errors).toEqual([]);
      const got = new Set(d.matches.map((m) => m.id));
      for (const r of rules) expect(got.has(r.id), `${r.condition} on ${JSON.stringify(s)}`).toBe(reference(r.ast, s as never));
      expect(decide(rs, s)).toBe(d.action);
    }
  });

  it('takes the strongest action of the acting matches; a shadow rule is reported, never acted on', () => {
    const rs = loadRuleset(
      bundleOf([
        { condition: 'rpm > 10', action: 'block', stage: 'shadow' },
        { condition: 'rpm > 20', action: 'block', stage: 'challenge' },
        { condition: 'rpm > 30', action: 'log' },
        { condition: 'rpm > 40', action: 'block' },
      ]),
    );
    const at = (rpm: number) => evaluate(rs, { rpm });
    expect(at(5)).toEqual({ action: null, matches: [], errors: [] });
    const shadow = at(15);
    expect(shadow.action).toBeNull();
    expect(shadow.matches.map((m) => [m.stage, m.effective])).toEqual([['shadow', null]]);
    expect(at(25).action).toBe('challenge');
    expect(at(35).action).toBe('challenge');
    expect(at(45).action).toBe('block');
    expect(at(45).matches.map((m) => m.effective)).toEqual([null, 'challenge', 'log', 'block']);
  });

  it('reports a missing or mistyped feature for each rule that names it, without throwing, and goes on with the rest', () => {
    const rs = loadRuleset(
      bundleOf([
        { condition: 'rpm > 10' },
        { condition: 'not webdriver', action: 'challenge' },
        { condition: "ua = 'curl' or rpm > 5", action: 'log' },
        { condition: "asn = 'hosting'" },
      ]),
    );
    const d = evaluate(rs, { rpm: '12', webdriver: false, asn: 'hosting' });
    expect(d.errors).toEqual([
      { rule: rs.rules[0]!.id, feature: 'rpm', problem: 'type', expected: 'a number or null', found: 'string "12"' },
      { rule: rs.rules[2]!.id, feature: 'rpm', problem: 'type', expected: 'a number or null', found: 'string "12"' },
      { rule: rs.rules[2]!.id, feature: 'ua', problem: 'missing', expected: 'a string or null', found: 'nothing' },
    ]);
    expect(d.matches.map((m) => m.id)).toEqual([rs.rules[1]!.id, rs.rules[3]!.id]);
    expect(d.action).toBe('block');
    const nan = evaluate(rs, { rpm: NaN, webdriver: 1, ua: null, asn: ['hosting'] });
    expect(nan.errors.map((e) => [e.feature, e.problem, e.found])).toEqual([
      ['rpm', 'type', 'NaN'],
      ['rpm', 'type', 'NaN'],
      ['webdriver', 'type', 'number 1'],
      ['asn', 'type', 'an array'],
    ]);
    // a feature named like an Object.prototype member is not "present" because of the prototype
    expect(() => evaluate(rs, Object.create(null) as never)).not.toThrow();
    // decide takes the same slow path: the rules naming a bad feature do not act
    expect(decide(rs, { rpm: '12', webdriver: false, asn: 'hosting' })).toBe('block');
    expect(decide(rs, { rpm: 12, webdriver: true, ua: 7, asn: null })).toBe('block');
    expect(decide(rs, { rpm: 'x', webdriver: true, ua: 7, asn: null })).toBeNull();
    expect(decide(rs, Object.create(null) as never)).toBeNull();
  });
});

describe('loadRuleset', () => {
  const good = bundleOf([{ condition: 'rpm > 10' }]);

  it('computes sha256 over RFC 8785 canonical JSON, in plain TypeScript', () => {
    for (const t of ['', 'abc', 'ü日本', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'y'.repeat(1000)]) {
      expect(sha256Hex(t)).toBe(createHash('sha256').update(t, 'utf8').digest('hex'));
    }
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: 1.5, c: -0 } })).toBe('{"a":{"c":0,"d":1.5},"b":[1,"x",null,true]}');
    expect(bundleDigest(good as never)).toBe(good.sha256);
  });

  it('refuses a bundle whose sha256 does not match its content', () => {
    const tampered = JSON.parse(JSON.stringify(good));
    tampered.rules[0].ast.value.value = 1000;
    const e = (() => {
      try {
        loadRuleset(tampered);
      } catch (x) {
        return x as RulesetError;
      }
    })();
    expect(e).toBeInstanceOf(RulesetError);
    expect(e!.reason).toBe('sha256');
    expect(e!.message).toContain('sha256 mismatch');
  });

  it('refuses an unknown schema version, non-JSON, and a bundle whose conditions do not fit their features', () => {
    const reason = (x: unknown) => {
      try {
        loadRuleset(x);
        return 'loaded';
      } catch (e) {
        return (e as RulesetError).reason;
      }
    };
    expect(reason({ ...good, schema: 'rulegen.ruleset/2' })).toBe('schema-version');
    expect(reason('{not json')).toBe('json');
    expect(reason('[]')).toBe('invalid');
    const misfit = JSON.parse(JSON.stringify(good));
    misfit.rules[0].features[0].type = 'category';
    misfit.sha256 = bundleDigest(misfit);
    expect(reason(misfit)).toBe('invalid');
    expect(() => loadRuleset(misfit)).toThrow(/category/);
    const extra = { ...good, surprise: 1 };
    expect(reason({ ...extra, sha256: bundleDigest(extra) })).toBe('invalid');
    expect(reason(JSON.stringify(good))).toBe('loaded');
  });
});

describe('the package', () => {
  it('exports rulegen/runtime, built from src/runtime/index.ts, beside bin and files', () => {
    const pj = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(pj.exports['./runtime']).toMatchObject({ import: './dist/runtime/index.js' });
    expect(pj.bin.rulegen).toBe('bin/rulegen.js');
    expect(pj.files).toContain('dist');
  });

  it('keeps the runtime free of DuckDB, the AWS SDK, commander, node:fs and eval', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      expect(src).not.toMatch(/from '(@duckdb|@aws-sdk|commander|node:fs|fs)|import\(|\bnew Function\(|\beval\(/);
      for (const m of src.matchAll(/from '(\.[^']+)\.js'/g)) visit(join(file, '..', `${m[1]}.ts`));
    };
    visit(join(import.meta.dirname, '../../src/runtime/index.ts'));
    expect([...seen].map((f) => f.replace(/.*\/src\//, 'src/')).sort()).toEqual([
      'src/release/schema.ts',
      'src/runtime/atoms.ts',
      'src/runtime/canonical.ts',
      'src/runtime/evaluator.ts',
      'src/runtime/index.ts',
      'src/runtime/plan-build.ts',
      'src/runtime/plan.ts',
      'src/runtime/read.ts',
    ]);
  });
});
