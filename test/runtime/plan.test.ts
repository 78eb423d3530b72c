/**
 * The evaluation plan (src/runtime/plan.ts) and the allocation-free entry `decide`, on random
 * rulesets of every size the plan treats differently: rows of 4, 8 and more words, clauses over
 * several features, conditions whose clause form is too large (fallback closures), thresholds
 * that are adjacent doubles, -0, and sessions full of NULLs, off-threshold and on-threshold
 * values. Every decision is checked against the JS reference evaluator.
 */
import { describe, expect, it } from 'vitest';
import { evaluate as reference } from '../../src/rule/evaluate.js';
import { decide, evaluate, loadRuleset, type Decision } from '../../src/runtime/index.js';
import { bundleOf, ruleOf, type RuleSpec } from './helpers.js';
import { mulberry32 as rng } from '../helpers/rng.js'; // seeded, so a failing case can be replayed

const TINY = 1 + Number.EPSILON; // the double right after 1
const NUMS = [-5, -0, 0.5, 1, TINY, 2, 10, 100, 1e6];
const UAS = ['curl', 'python', 'chrome', 'go', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const ASNS = ['residential', 'hosting', 'mobile'];

function atomText(rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const num = () => String(pick(NUMS));
  const f = pick(['rpm', 'ratio']);
  switch (Math.floor(rnd() * 14)) {
    case 0:
      return `${f} ${pick(['<', '<=', '>', '>=', '=', '!='])} ${num()}`;
    case 1: {
      const [a, b] = [pick(NUMS), pick(NUMS)].sort((x, y) => x - y);
      return `${f} between ${a} and ${b}`;
    }
    case 2:
      return `${f} ${pick(['in', 'not in'])} (${num()}, ${num()}, ${num()})`;
    case 3:
      return `${f} is ${pick(['', 'not '])}null`;
    case 4:
      return pick(['webdriver', 'js']);
    case 5:
      return `${pick(['webdriver', 'js'])} ${pick(['=', '!='])} ${pick(['true', 'false'])}`;
    case 6:
      return `${pick(['webdriver', 'js'])} is ${pick(['', 'not '])}null`;
    case 7:
      return `ua ${pick(['=', '!='])} '${pick(UAS)}'`;
    case 8:
      return `ua ${pick(['in', 'not in'])} (${Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => `'${pick(UAS)}'`).join(', ')})`;
    case 9:
      return `ua is ${pick(['', 'not '])}null`;
    case 10:
      return `asn ${pick(['=', '!='])} '${pick(ASNS)}'`;
    case 11:
      return `asn ${pick(['in', 'not in'])} ('${pick(ASNS)}', '${pick(ASNS)}')`;
    case 12:
      return `asn is ${pick(['', 'not '])}null`;
    default:
      return `${f} > ${num()}`;
  }
}

function condition(rnd: () => number, depth: number): string {
  if (depth === 0 || rnd() < 0.3) return atomText(rnd);
  const k = 2 + Math.floor(rnd() * 2);
  const parts = Array.from({ length: k }, () => condition(rnd, depth - 1));
  const joined = parts.map((p) => `(${p})`).join(rnd() < 0.5 ? ' and ' : ' or ');
  return rnd() < 0.2 ? `not (${joined})` : joined;
}

function specs(count: number, seed: number, depth: number): RuleSpec[] {
  const rnd = rng(seed);
  const actions = ['block', 'challenge', 'log'] as const;
  const stages = ['shadow', 'challenge', 'block'] as const;
  return Array.from({ length: count }, (_, i) => ({
    condition: i % 17 === 5 && depth > 0 ? bigDnf(rnd) : condition(rnd, depth),
    action: actions[i % 3]!,
    stage: stages[Math.floor(rnd() * 3)]!,
    title: `rule ${i}`,
  }));
}

/** An or of seven two-atom conjunctions: 128 clauses in clause form, so a fallback closure. */
function bigDnf(rnd: () => number): string {
  return Array.from({ length: 7 }, () => `(${atomText(rnd)} and ${atomText(rnd)})`).join(' or ');
}

function sessions(n: number, seed: number): Record<string, unknown>[] {
  const rnd = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const nums = [null, ...NUMS, -Infinity, Infinity, 1 - Number.EPSILON / 2, TINY + Number.EPSILON, 3, 1e9, -1e9];
  return Array.from({ length: n }, () => ({
    rpm: pick(nums),
    ratio: pick(nums),
    webdriver: pick([null, true, false]),
    js: pick([null, true, false]),
    ua: pick([null, ...UAS, 'other', '']),
    asn: pick([null, ...ASNS]),
  }));
}

describe('the evaluation plan', () => {
  // rows of 4 words (7 rules), 8 (200 one-atom rules; 90 rules with a few clauses over
  // several features) and more (60, 150, 300 rules, many such clauses, some fallbacks)
  for (const [count, seed, depth] of [
    [7, 1, 3],
    [200, 5, 0],
    [90, 6, 1],
    [60, 2, 3],
    [150, 3, 3],
    [300, 4, 3],
  ] as const) {
    it(`${count} random rules nested up to ${depth} deep: evaluate and decide agree with the reference evaluator`, () => {
      const ss = specs(count, seed, depth);
      const rs = loadRuleset(bundleOf(ss));
      const rules = ss.map((s, i) => ruleOf(s, undefined, i));
      const byId = new Map(rs.rules.map((r) => [r.id, r]));
      const rank = { log: 1, challenge: 2, block: 3 } as const;
      let matched = 0;
      for (const s of sessions(1500, seed)) {
        const d = evaluate(rs, s);
        expect(d.errors).toEqual([]);
        const want = rules.filter((r) => reference(r.ast, s as never)).map((r) => r.id);
        expect(
          d.matches.map((m) => m.id),
          JSON.stringify(s),
        ).toEqual(want);
        matched += want.length;
        const best = want.reduce((a, id) => Math.max(a, byId.get(id)!.effective ? rank[byId.get(id)!.effective!] : 0), 0);
        expect(d.action).toBe([null, 'log', 'challenge', 'block'][best]);
        expect(decide(rs, s)).toBe(d.action);
        expect(rs.decide(s)).toBe(d.action);
      }
      expect(matched).toBeGreaterThan(0);
    });
  }

  it('a Decision returned earlier is not changed by later calls', () => {
    const rs = loadRuleset(bundleOf([{ condition: 'rpm > 10' }, { condition: 'webdriver', action: 'log' }, { condition: "ua = 'curl' or rpm < 0" }]));
    const first = evaluate(rs, { rpm: 20, webdriver: true, js: null, ua: 'curl', asn: null, ratio: null });
    const copy: Decision = JSON.parse(JSON.stringify(first));
    evaluate(rs, { rpm: 1, webdriver: false, js: null, ua: null, asn: null, ratio: null });
    decide(rs, { rpm: 50, webdriver: null, js: null, ua: 'go', asn: null, ratio: null });
    evaluate(rs, { rpm: 'bad', webdriver: true, js: null, ua: 'curl', asn: null, ratio: null });
    expect(JSON.parse(JSON.stringify(first))).toEqual(copy);
    expect(first.matches.map((m) => m.id)).toEqual([rs.rules[0]!.id, rs.rules[1]!.id, rs.rules[2]!.id]);
    expect(Object.isFrozen(evaluate(rs, { rpm: 1, webdriver: false, ua: null }))).toBe(true);
  });
});
