import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { checkCondition, type Finding } from '../../src/rule/checks.js';
import { english } from '../../src/rule/english.js';
import { evaluate } from '../../src/rule/evaluate.js';
import { and, comparison, featureRef, inList, not } from '../../src/rule/ast.js';
import { parse } from '../../src/rule/parser.js';

const catalog = loadCatalog('fixtures/rules/features.yaml');

describe('evaluate (the reference semantics)', () => {
  const row = { requests_per_minute: 200, static_asset_ratio: null, js_executed: false, country: 'US' };
  const cases: [string, boolean][] = [
    ['requests_per_minute > 120', true],
    ['requests_per_minute between 200 and 200', true],
    ['requests_per_minute in (1, 200)', true],
    ['requests_per_minute not in (1, 200)', false],
    // A comparison on NULL is false, and stays false inside `not`, so `not` of it is true.
    ['static_asset_ratio < 0.05', false],
    ['static_asset_ratio >= 0.05', false],
    ['not static_asset_ratio < 0.05', true],
    ['static_asset_ratio not in (0.5)', false],
    ['not static_asset_ratio in (0.5)', true],
    ['static_asset_ratio is null', true],
    ['static_asset_ratio is not null', false],
    ['static_asset_ratio < 0.05 or requests_per_minute > 1', true],
    ['not (static_asset_ratio < 0.05 and requests_per_minute > 1)', true],
    ['js_executed', false],
    ['not js_executed', true],
    ['js_executed = false', true],
    ['js_executed != true', true],
    // A feature missing from the row is NULL.
    ['headless_ua', false],
    ['not headless_ua', true],
    ['headless_ua = false', false],
    ["country = 'US'", true],
    ["country != 'US'", false],
    ["country in ('DE', 'US')", true],
    ["device_class != 'bot'", false],
  ];
  it.each(cases)('%s -> %s', (text, expected) => {
    expect(evaluate(parse(text), row)).toBe(expected);
  });
});

function messages(text: string): string[] {
  return checkCondition(parse(text), catalog).map((f: Finding) => `${f.severity}: ${f.message}`);
}

describe('checks', () => {
  it('accept a sound condition', () => {
    expect(messages('requests_per_minute > 120 and static_asset_ratio < 0.05')).toEqual([]);
    expect(messages("headless_ua and not js_executed and device_class in ('bot', 'desktop') and country is not null")).toEqual([]);
  });

  it('report unknown features with a suggestion', () => {
    const [f] = checkCondition(parse('request_per_minute > 1'), catalog);
    expect(f).toMatchObject({
      severity: 'error',
      message: 'unknown feature "request_per_minute" (did you mean "requests_per_minute"?)',
      found: 'request_per_minute',
    });
    expect(messages('zzz > 1')).toEqual(['error: unknown feature "zzz"']);
  });

  it('report operators and literals that do not fit the type', () => {
    expect(messages("country < 'US'")).toEqual(['error: operator < does not fit "country", a category feature']);
    expect(messages('js_executed > 1')).toEqual(['error: operator > does not fit "js_executed", a boolean feature']);
    expect(messages('js_executed in (true)')).toEqual(['error: operator in does not fit "js_executed", a boolean feature']);
    expect(messages('country between 1 and 2')).toEqual(['error: operator between does not fit "country", a category feature']);
    expect(messages('requests_per_minute')).toEqual(['error: "requests_per_minute" is a number feature and cannot stand alone as a condition']);
    expect(messages("requests_per_minute > '120'")).toEqual(['error: "requests_per_minute" is a number feature but is compared with a string']);
    expect(messages('country = 1')).toEqual(['error: "country" is a category feature but is compared with a number']);
    expect(messages("js_executed = 'yes'")).toEqual(['error: "js_executed" is a boolean feature but is compared with a string']);
    expect(messages("requests_per_minute in (1, 'a')")).toEqual(['error: "requests_per_minute" is a number feature but is compared with a string']);
  });

  it('report empty lists and literals outside the range', () => {
    expect(messages('country in ()')).toEqual(['error: empty list after in for "country"']);
    expect(messages('static_asset_ratio < 5')).toEqual(['error: 5 is outside the range of "static_asset_ratio"']);
    expect(messages('requests_per_minute between -1 and 5')).toEqual(['error: -1 is outside the range of "requests_per_minute"']);
    expect(messages("device_class = 'toaster'")[0]).toBe(`error: 'toaster' is not one of the values the catalog lists for "device_class"`);
  });

  it('warn about contradictions and tautologies', () => {
    expect(messages('requests_per_minute > 5 and requests_per_minute < 3')).toEqual(['warning: contradiction: the condition can never be true']);
    expect(messages('requests_per_minute between 10 and 5')).toEqual(['warning: contradiction: the condition can never be true']);
    expect(messages("country = 'US' and country = 'DE'")).toEqual(['warning: contradiction: the condition can never be true']);
    expect(messages('js_executed and not js_executed')).toEqual(['warning: contradiction: the condition can never be true']);
    // Within the catalog range [0, 1], above 1 is impossible.
    expect(messages('static_asset_ratio > 1')).toEqual(['warning: contradiction: the condition can never be true']);
    expect(messages('headless_ua or (requests_per_minute > 5 and requests_per_minute < 3)')).toEqual([
      'warning: contradiction: this part of the condition can never be true',
    ]);
    expect(messages('js_executed or not js_executed')).toEqual(['warning: tautology: the condition is always true']);
    expect(messages('country is null or country is not null')).toEqual(['warning: tautology: the condition is always true']);
    expect(messages('requests_per_minute > 5 or requests_per_minute <= 5')).toEqual([
      'warning: tautology: the condition is true for every session where requests_per_minute is known',
    ]);
    expect(messages('requests_per_minute >= 0')).toEqual(['warning: tautology: the condition is true for every session where requests_per_minute is known']);
    // Not a tautology: NULL makes both sides false (and `is not null` alone is not news).
    expect(messages('requests_per_minute > 5 or not requests_per_minute > 5')).toEqual(['warning: tautology: the condition is always true']);
    expect(messages('requests_per_minute is not null')).toEqual([]);
    expect(messages('requests_per_minute > 5 or static_asset_ratio < 0.5')).toEqual([]);
  });

  it('warn about sensitive features, once per feature', () => {
    expect(messages("asn_org = 'a' or asn_org = 'b'")).toEqual([
      'warning: "asn_org" is marked sensitive in the catalog: a rule that uses it shows it in docs and reviews',
    ]);
  });

  it('enforce the size and depth limits on hand-built ASTs too', () => {
    const big = and(...Array.from({ length: 1500 }, (_, i) => comparison('requests_per_minute', '>', i)));
    expect(messages(`requests_per_minute > 1`)).toEqual([]);
    expect(checkCondition(big, catalog).map((f) => f.message)).toEqual(['the condition has 1500 terms']);
    let deep = featureRef('js_executed') as ReturnType<typeof not> | ReturnType<typeof featureRef>;
    for (let i = 0; i < 50_000; i++) deep = not(deep);
    expect(checkCondition(deep, catalog).map((f) => f.message)).toEqual(['the condition nests deeper than 65 levels']);
    expect(
      checkCondition(
        inList(
          'country',
          Array.from({ length: 1001 }, (_, i) => String(i)),
        ),
        catalog,
      ).map((f) => f.message),
    ).toEqual(['the list for "country" has 1001 values']);
  });
});

describe('english', () => {
  const en = (t: string) => english(parse(t), catalog);
  it('renders the design example', () => {
    expect(en('requests_per_minute > 120 and static_asset_ratio < 0.05')).toBe('more than 120 requests per minute and under 5% static assets');
  });
  it('uses labels, units and percentages', () => {
    expect(en('static_asset_ratio between 0.07 and 0.3')).toBe('between 7% and 30% static assets');
    expect(en('error_rate >= 20')).toBe('at least 20% errors');
    expect(en('session_seconds <= 3')).toBe('session length at most 3 s');
    expect(en('mean_interval_ms != 250')).toBe('mean interval other than 250 ms');
    expect(en('requests_per_minute in (60, 120)')).toBe('one of 60 or 120 requests per minute');
    expect(en('requests_per_minute is null')).toBe('requests per minute unknown');
  });
  it('reads boolean features as "<label>" / "no <label>"', () => {
    expect(en('headless_ua')).toBe('headless user agent');
    expect(en('js_executed = false')).toBe('no passed JavaScript challenge');
    expect(en('not js_executed')).toBe('no passed JavaScript challenge');
  });
  it('reads categories and nesting', () => {
    expect(en("country = 'US' or device_class not in ('bot', 'tablet')")).toBe("country 'US' or device class none of 'bot' or 'tablet'");
    expect(en('not (headless_ua or requests_per_minute > 600) and (js_executed or session_seconds < 1)')).toBe(
      '(neither headless user agent nor more than 600 requests per minute) and (passed JavaScript challenge or session length under 1 s)',
    );
  });
});
