import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { and, AstError, between, comparison, featureRef, inList, isNotNull, isNull, measure, not, notInList, num, or, str } from '../../src/rule/ast.js';
import { MAX_DEPTH, MAX_TERMS, parse, parseCondition } from '../../src/rule/parser.js';
import { print } from '../../src/rule/printer.js';
import { anyExpr, HOSTILE_STRINGS } from './arbitrary.js';

function failure(text: string) {
  const r = parseCondition(text);
  if (r.ok) throw new Error(`expected a parse error for ${text}`);
  return r.problem;
}

describe('AST factories', () => {
  it('build frozen, tagged nodes', () => {
    const c = comparison('requests_per_minute', '>', 120);
    expect(c).toEqual({ kind: 'comparison', feature: 'requests_per_minute', op: '>', value: { kind: 'number', value: 120 } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.value)).toBe(true);
    const a = and(c, featureRef('js'));
    expect(Object.isFrozen(a.operands)).toBe(true);
  });

  it('refuse what the printer could not round-trip', () => {
    expect(() => num(NaN)).toThrow(AstError);
    expect(() => num(Infinity)).toThrow(AstError);
    expect(() => and(featureRef('a'))).toThrow(AstError);
    expect(() => or()).toThrow(AstError);
    expect(Object.is(num(-0).value, 0)).toBe(true);
  });

  it('measure terms and depth without recursion', () => {
    let e = featureRef('a') as ReturnType<typeof not> | ReturnType<typeof featureRef>;
    for (let i = 0; i < 100_000; i++) e = not(e);
    expect(measure(e)).toEqual({ terms: 1, depth: 100_001, nodes: 100_001 });
  });
});

describe('parse', () => {
  it('reads every construct of the language', () => {
    expect(parse('requests_per_minute > 120 and static_asset_ratio < 0.05')).toEqual(
      and(comparison('requests_per_minute', '>', 120), comparison('static_asset_ratio', '<', 0.05)),
    );
    expect(parse('x between -1.5 and 2e3')).toEqual(between('x', -1.5, 2000));
    expect(parse("c in ('a', 'it''s')")).toEqual(inList('c', ['a', "it's"]));
    expect(parse('c not in (1, 2)')).toEqual(notInList('c', [1, 2]));
    expect(parse('c in ()')).toEqual(inList('c', []));
    expect(parse('x is null or y is not null')).toEqual(or(isNull('x'), isNotNull('y')));
    expect(parse('not b')).toEqual(not(featureRef('b')));
    expect(parse('b = true and d != false')).toEqual(and(comparison('b', '=', true), comparison('d', '!=', false)));
    expect(parse('x <> 3')).toEqual(comparison('x', '!=', 3));
    expect(parse('x >= .5 and x <= 5.')).toEqual(and(comparison('x', '>=', 0.5), comparison('x', '<=', 5)));
  });

  it('gives and precedence over or, and not over both; flattens chains', () => {
    expect(parse('a or b and c or d')).toEqual(or(featureRef('a'), and(featureRef('b'), featureRef('c')), featureRef('d')));
    expect(parse('not a and b')).toEqual(and(not(featureRef('a')), featureRef('b')));
    expect(parse('not x > 5')).toEqual(not(comparison('x', '>', 5)));
    expect(parse('(a or b) and c')).toEqual(and(or(featureRef('a'), featureRef('b')), featureRef('c')));
    // Parentheses keep a nested conjunction nested: the AST is what was written.
    expect(parse('a and (b and c)')).toEqual(and(featureRef('a'), and(featureRef('b'), featureRef('c'))));
  });

  it('takes keywords in any case and prints them lower-case', () => {
    const e = parse('X BETWEEN 1 AND 2 OR NOT Y IS NOT NULL OR z IN (TRUE, False)');
    expect(print(e)).toBe('X between 1 and 2 or not Y is not null or z in (true, false)');
  });

  it('keeps string literals exactly, quotes and unicode included', () => {
    for (const s of HOSTILE_STRINGS) {
      const text = `c = ${print(str(s))}`;
      expect(parse(text)).toEqual(comparison('c', '=', s));
    }
  });
});

describe('parse errors', () => {
  it('say where, what was expected, what was found, with an excerpt', () => {
    const p = failure('requests_per_minute > 120 and\n  static_asset_ratio <');
    expect(p.where).toEqual({ line: 2, column: 23 });
    expect(p.expected).toMatch(/a literal/);
    expect(p.found).toBe('end of input');
    expect(p.excerpt).toBe('  static_asset_ratio <\n                      ^');
  });

  it('name the token found', () => {
    expect(failure('a > 1 b').message).toBe('expected `and`, `or` or end of input, found feature name b');
    expect(failure('a > b').found).toBe('feature name b');
    expect(failure('(a > 1').message).toMatch(/expected '\)' to close/);
    expect(failure('a > 1)').expected).toMatch(/closes nothing/);
    expect(failure('a between 1 or 2').expected).toMatch(/`and` between the two bounds/);
    expect(failure('a is 5').expected).toMatch(/`null` or `not null`/);
    expect(failure('a in 1, 2').expected).toMatch(/'\(' to open/);
    expect(failure('a in (1 2)').expected).toMatch(/',' or '\)'/);
    expect(failure('and > 1').found).toBe('`and`');
    expect(failure('').message).toBe('the condition is empty');
    expect(failure('   \n ').message).toBe('the condition is empty');
    expect(failure('a > 1e999').message).toBe('number out of range (overflows to infinity)');
    expect(failure('a = "x"').message).toMatch(/strings use single quotes/);
    expect(failure("a = 'x\0y'").message).toMatch(/NUL/);
  });

  it('point at the unexpected character', () => {
    const p = failure('x; drop table sessions');
    expect(p.where).toEqual({ line: 1, column: 2 });
    expect(p.found).toBe("';'");
    expect(p.excerpt).toBe('x; drop table sessions\n ^');
    expect(failure("' or 1=1 --").message).toBe('unterminated string');
    expect(failure('a > 1 -- comment').found).toBe("'-'");
    expect(failure('réquests > 1').found).toBe("'é'");
    expect(failure('a > 1 \u0007').found).toBe('control character U+0007');
  });

  it('cut long lines to a window around the error', () => {
    const text = 'a > 1 and '.repeat(50) + '; ' + 'b > 2 and '.repeat(50) + 'c';
    const p = failure(text);
    expect(p.where?.column).toBe(501);
    const [line, caret] = p.excerpt!.split('\n');
    expect(line!.length).toBeLessThan(90);
    expect(line![caret!.indexOf('^')]).toBe(';');
  });

  it('parse() throws an InputError (exit 2)', () => {
    expect(() => parse('a >')).toThrow(InputError);
    try {
      parse('a >');
    } catch (e) {
      expect((e as InputError).exitCode).toBe(2);
      expect((e as InputError).message).toMatch(/^<condition>:1:4: error: invalid condition/);
    }
  });
});

describe('hostile sizes end in a clean problem, not a crash', () => {
  it(`a 10,000-term expression exceeds the ${MAX_TERMS}-term limit`, () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `f${i % 7} > ${i}`).join(' and ');
    const p = failure(text);
    expect(p.message).toBe(`the condition has more than ${MAX_TERMS} terms`);
    expect(p.where?.line).toBe(1);
    // The same with `or`, and inside `in` lists.
    expect(failure(Array.from({ length: 10_000 }, () => 'b').join(' or ')).message).toMatch(/more than 1000 terms/);
    expect(failure(`c in (${Array.from({ length: 10_000 }, (_, i) => i).join(', ')})`).message).toMatch(/more than 1000 values/);
  });

  it('a 1,000-term expression parses', () => {
    const text = Array.from({ length: MAX_TERMS }, (_, i) => `f${i % 7} > ${i}`).join(' or ');
    const e = parse(text);
    expect(e.kind === 'or' && e.operands.length).toBe(MAX_TERMS);
  });

  it('deep nesting of parentheses or not stops at the depth limit', () => {
    for (const n of [MAX_DEPTH + 1, 10_000, 200_000]) {
      expect(failure('('.repeat(n) + 'a' + ')'.repeat(n)).message).toBe(`the condition nests deeper than ${MAX_DEPTH} levels`);
      expect(failure('not '.repeat(n) + 'a').message).toBe(`the condition nests deeper than ${MAX_DEPTH} levels`);
    }
    expect(parse('('.repeat(MAX_DEPTH) + 'a' + ')'.repeat(MAX_DEPTH))).toEqual(featureRef('a'));
  });

  it('an over-long text is refused before lexing', () => {
    expect(failure('a'.repeat(1_000_001)).message).toMatch(/longer than 1000000 characters/);
  });

  it('random text never throws, it parses or returns a problem', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const r = parseCondition(s);
        if (!r.ok) {
          expect(r.problem.severity).toBe('error');
          expect(r.problem.where?.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('print', () => {
  it('prints canonical text', () => {
    expect(print(parse('  a>1   AND(b OR c)  '))).toBe('a > 1 and (b or c)');
    expect(print(and(featureRef('a'), and(featureRef('b'), featureRef('c'))))).toBe('a and (b and c)');
    expect(print(not(and(featureRef('a'), featureRef('b'))))).toBe('not (a and b)');
    expect(print(not(not(comparison('x', '<', -0.5))))).toBe('not not x < -0.5');
    expect(print(comparison('x', '>', 1e21))).toBe('x > 1e+21');
    expect(print(comparison('x', '>', 1e-7))).toBe('x > 1e-7');
    expect(print(inList('c', ["it's", 'b\\'], true))).toBe("c not in ('it''s', 'b\\')");
  });

  it('round-trips: parse(print(ast)) equals ast', () => {
    fc.assert(
      fc.property(anyExpr, (ast) => {
        expect(parse(print(ast))).toEqual(ast);
      }),
      { numRuns: 1000 },
    );
  });

  it('is idempotent on text: print(parse(print(parse(t)))) is print(parse(t))', () => {
    fc.assert(
      fc.property(anyExpr, (ast) => {
        const once = print(parse(print(ast)));
        expect(print(parse(once))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });
});
