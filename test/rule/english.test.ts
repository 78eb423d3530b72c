/**
 * The plain-English renderer: every operator, every feature type, and negation of each, pinned
 * in fixtures/golden/english/*.txt (regenerate with UPDATE_GOLDEN=1 and read the diff as a
 * reviewer would), once with the catalog's labels and once without them (names only). The
 * inline cases pin the readings the issue named as wrong.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { makeCatalog, type Catalog } from '../../src/catalog/schema.js';
import { english, featureLabel, formatNumber, valueText } from '../../src/rule/english.js';
import { parse } from '../../src/rule/parser.js';
import { synthCatalog } from '../../src/synth/catalog.js';
import { goldenIn } from '../helpers/golden.js';

const GOLDEN = 'fixtures/golden/english';
const labelled = loadCatalog('fixtures/workspace/features.yaml');
const unlabelled = makeCatalog(synthCatalog().map(({ label: _, ...f }) => f));
const en = (t: string, c: Catalog = labelled) => english(parse(t), c);

/** Each operator on each type it fits, then the same under `not`, then and/or/not nesting. */
const CONDITIONS = [
  '# number: every comparison',
  'requests_per_minute > 120',
  'requests_per_minute >= 120',
  'requests_per_minute < 120',
  'requests_per_minute <= 120.5',
  'requests_per_minute = 120',
  'requests_per_minute != 120',
  'session_duration_s between 3 and 10.25',
  'pages_per_session in (17)',
  'pages_per_session in (17, 18, 20)',
  'pages_per_session not in (17)',
  'pages_per_session not in (17, 18)',
  'pointer_events is null',
  'pointer_events is not null',
  '# number: units, shares, scales, integers',
  'distinct_paths > 52',
  'request_count > 500',
  'login_post_count >= 3',
  'status_401_403_count > 5',
  'plugins_count = 0',
  'pointer_events = 0',
  'mean_interarrival_ms < 13900',
  'interarrival_cv < 0.1259',
  'ip_reputation_score >= 80',
  'sessions_per_ip > 50',
  'static_asset_ratio < 0.05',
  'night_activity_ratio > 0.529374',
  'error_4xx_ratio between 0.07 and 0.3',
  'head_request_ratio in (0, 1)',
  'keyboard_nav_ratio is null',
  '# number: negated',
  'not requests_per_minute > 120',
  'not session_duration_s between 3 and 10',
  'not pages_per_session in (17, 18)',
  'not pages_per_session not in (17)',
  'not static_asset_ratio < 0.05',
  'not pointer_events is null',
  'not pointer_events is not null',
  '# boolean',
  'webdriver_flag',
  'webdriver_flag = true',
  'webdriver_flag = false',
  'webdriver_flag != true',
  'webdriver_flag != false',
  'webdriver_flag is null',
  'webdriver_flag is not null',
  'accept_language_present',
  '# boolean: negated',
  'not webdriver_flag',
  'not accept_language_present',
  'not webdriver_flag = true',
  'not webdriver_flag = false',
  'not webdriver_flag is null',
  'not not webdriver_flag',
  '# category',
  "ua_family = 'chrome'",
  "ua_family != 'chrome'",
  "ua_family in ('chrome')",
  "ua_family in ('chrome', 'firefox')",
  "ua_family in ('chrome', 'firefox', 'safari')",
  "ua_family not in ('chrome')",
  "ua_family not in ('chrome', 'firefox')",
  'ua_family is null',
  'tls_fingerprint_class is not null',
  "asn_type = 'it''s'",
  '# category: negated',
  "not ua_family = 'chrome'",
  "not ua_family != 'chrome'",
  "not ua_family in ('chrome', 'firefox')",
  'not ua_family is null',
  '# and, or, not, parentheses',
  'requests_per_minute > 120 and static_asset_ratio < 0.05',
  "webdriver_flag or asn_type = 'hosting'",
  'requests_per_minute > 120 and (static_asset_ratio < 0.05 or not js_executed)',
  '(requests_per_minute > 120 and static_asset_ratio < 0.05) or webdriver_flag',
  'not (requests_per_minute > 1 and webdriver_flag)',
  'not (requests_per_minute > 1 and webdriver_flag and cookies_enabled)',
  "not (webdriver_flag or asn_type = 'hosting')",
  "not (webdriver_flag or asn_type = 'hosting' or robots_txt_fetched)",
  "not (asn_type = 'hosting' or js_executed = false)",
  'not (requests_per_minute > 120 or (static_asset_ratio < 0.05 and referrer_present))',
  'not (not webdriver_flag and referrer_present)',
  "not (webdriver_flag or asn_type = 'hosting') and requests_per_minute > 120",
  'requests_per_minute > 120 or not (webdriver_flag and referrer_present)',
  'mean_interarrival_ms < 13900 and interarrival_cv < 0.1259 and static_asset_ratio < 0.05',
];

function render(c: Catalog): string {
  return CONDITIONS.map((t) => (t.startsWith('#') ? `\n${t}\n` : `${t}\n  ${en(t, c)}\n`))
    .join('')
    .trimStart();
}

const golden = goldenIn(GOLDEN);

describe('english: golden readings', () => {
  it('with the catalog labels', () => golden('labelled.txt', render(labelled)));
  it('without labels (names only)', () => golden('unlabelled.txt', render(unlabelled)));

  it('every feature of the synthetic catalog has a label, and no reading keeps a snake_case name', () => {
    expect(labelled.features.filter((f) => !f.label).map((f) => f.name)).toEqual([]);
    for (const c of [labelled, unlabelled])
      expect(
        render(c)
          .split('\n')
          .filter((l) => l.startsWith('  ') && /[a-z]_[a-z]/.test(l)),
      ).toEqual([]);
  });
});

describe('english: the readings the issue named', () => {
  it('says a share once, as a percentage, with what it counts', () => {
    expect(en('night_activity_ratio > 0.529')).toBe('more than 52.9% night-time sessions');
    expect(en('static_asset_ratio < 0.05')).toBe('under 5% static asset requests');
    // without a label the name stands, unpluralised: never "activitys"
    expect(en('night_activity_ratio > 0.529', unlabelled)).toBe('night activity ratio more than 52.9%');
  });

  it('says a counted unit once, after the value', () => {
    expect(en('pages_per_session > 17')).toBe('more than 17 pages requested');
    expect(en('pages_per_session > 17', unlabelled)).toBe('more than 17 pages per session');
    expect(en('distinct_paths between 52 and 60')).toBe('between 52 and 60 distinct paths');
    expect(en('plugins_count = 0', unlabelled)).toBe('exactly 0 plugins');
  });

  it('uses labels, not raw names, for ratios and categories', () => {
    expect(en('interarrival_cv < 0.13')).toBe('irregularity of request timing under 0.13');
    expect(en("ua_family in ('chrome', 'firefox')")).toBe("claimed browser 'chrome' or 'firefox'");
    // the unlabelled fallback spells out abbreviations and drops the unit the value carries
    expect(en("ua_family in ('chrome', 'firefox')", unlabelled)).toBe("user agent family 'chrome' or 'firefox'");
    expect(en('mean_interarrival_ms < 250', unlabelled)).toBe('mean interarrival under 250 milliseconds');
  });

  it('phrases negation in words, not "is not true"', () => {
    expect(en('not accept_language_present')).toBe('no Accept-Language header');
    expect(en('not webdriver_flag')).toBe('no webdriver flag');
    expect(en('not (requests_per_minute > 1 and webdriver_flag)')).toBe('not both more than 1 requests per minute and webdriver flag');
    expect(en("not (webdriver_flag or asn_type = 'hosting')")).toBe("neither webdriver flag nor network type 'hosting'");
    expect(en('not session_duration_s < 3')).toBe('session duration not under 3 seconds');
  });
});

describe('formatNumber', () => {
  it.each([
    [52, '52'],
    [13900, '13900'],
    [1e21, '1000000000000000000000'],
    [0.1259, '0.1259'],
    [0.12594, '0.1259'],
    [52.9374, '52.94'],
    [0.07 * 100, '7'],
    [120.5, '120.5'],
    [0.00012345, '0.0001235'],
    [-3.5, '-3.5'],
    [0, '0'],
  ])('%s -> %s', (v, text) => expect(formatNumber(v)).toBe(text));
});

describe('valueText (evidence values with their unit, said once)', () => {
  const f = (n: string) => labelled.get(n)!;
  it.each([
    ['distinct_paths', 52, '52 distinct paths'],
    ['night_activity_ratio', 0.529, '52.9% night-time sessions'],
    ['mean_interarrival_ms', 13900, '13900 milliseconds'],
    ['interarrival_cv', 0.13, '0.13'],
    ['ip_reputation_score', 80, '80'],
    ['requests_per_minute', 6, '6 requests per minute'],
  ])('%s %s -> %s', (name, v, text) => expect(valueText(f(name), v)).toBe(text));

  it('featureLabel prefers the label and falls back to the name in words', () => {
    expect(featureLabel(f('ua_family'))).toBe('claimed browser');
    expect(featureLabel(unlabelled.get('js_executed')!)).toBe('JavaScript executed');
    expect(featureLabel(unlabelled.get('session_duration_s')!)).toBe('session duration');
  });
});
