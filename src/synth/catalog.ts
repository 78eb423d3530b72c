/**
 * The feature catalog of the synthetic data set. It is also the starter features.yaml that
 * `rulegen init` writes, so the descriptions are written for an operations reader, not for the
 * generator. generate.ts must produce exactly these columns: its expression table is typed by
 * `SynthFeatureName`, so adding a feature here does not compile until it is generated.
 */
import { Document, isPair, isScalar, isSeq, visit } from 'yaml';
import type { Feature } from '../catalog/schema.js';
import { ASN_TYPES, TLS_CLASSES, UA_FAMILIES } from './archetypes.js';

type FeatureInput<N extends string> = Omit<Feature, 'name' | 'sensitive'> & { name: N; sensitive?: boolean };

function feature<const N extends string>(f: FeatureInput<N>): Feature & { name: N } {
  return { ...f, sensitive: f.sensitive ?? false };
}

const FEATURES = [
  feature({
    name: 'requests_per_minute',
    label: 'requests per minute',
    type: 'number',
    unit: 'requests/min',
    description: 'Requests in the session divided by its length in minutes. People rarely sustain more than 30; scripts often do.',
    range: [0, null],
  }),
  feature({
    name: 'request_count',
    label: 'requests',
    type: 'number',
    unit: 'requests',
    description: 'All HTTP requests in the session, pages and static assets together.',
    range: [1, null],
  }),
  feature({
    name: 'session_duration_s',
    label: 'session duration',
    type: 'number',
    unit: 'seconds',
    description: 'Time from the first to the last request of the session (capped at 4 hours).',
    range: [1, 14400],
  }),
  feature({
    name: 'pages_per_session',
    label: 'pages requested',
    type: 'number',
    unit: 'pages',
    description: 'Requests for pages (HTML documents or API calls), excluding static assets and HEAD requests.',
    range: [1, null],
  }),
  feature({
    name: 'static_asset_ratio',
    label: 'static asset requests',
    type: 'number',
    unit: 'share',
    description: 'Share of requests that fetch images, scripts, stylesheets or fonts. A real browser loads them; a simple script does not.',
    range: [0, 1],
  }),
  feature({
    name: 'mean_interarrival_ms',
    label: 'mean gap between requests',
    type: 'number',
    unit: 'milliseconds',
    description: 'Average gap between two consecutive requests of the session. Empty for single-request sessions.',
    range: [0, null],
  }),
  feature({
    name: 'interarrival_cv',
    label: 'irregularity of request timing',
    type: 'number',
    unit: 'ratio',
    description:
      'How irregular the gaps between requests are (standard deviation divided by mean). People are irregular (around 1 or more); timers are ' +
      'not (near 0). A two-request session has one gap and so 0; empty for single-request sessions.',
    range: [0, null],
  }),
  feature({
    name: 'distinct_paths',
    label: 'distinct paths',
    type: 'number',
    unit: 'paths',
    description: 'Different URL paths requested in the session, query strings ignored.',
    range: [1, null],
  }),
  feature({
    name: 'login_post_count',
    label: 'login requests',
    type: 'number',
    unit: 'requests',
    description: 'POST requests to the login endpoint in the session.',
    range: [0, null],
  }),
  feature({
    name: 'status_401_403_count',
    label: 'refused responses (401/403)',
    type: 'number',
    unit: 'responses',
    description: 'Responses with status 401 (not authenticated) or 403 (forbidden): failed logins and refused requests.',
    range: [0, null],
  }),
  feature({
    name: 'error_4xx_ratio',
    label: '4xx responses',
    type: 'number',
    unit: 'share',
    description: 'Share of requests answered with any 4xx status (not found, forbidden, failed login, ...).',
    range: [0, 1],
  }),
  feature({
    name: 'head_request_ratio',
    label: 'HEAD requests',
    type: 'number',
    unit: 'share',
    description: 'Share of requests using the HEAD method (checking a page without downloading it), common for link checkers and crawlers.',
    range: [0, 1],
  }),
  feature({
    name: 'pointer_events',
    label: 'pointer events',
    type: 'number',
    unit: 'events',
    description: 'Mouse or touch movements reported by the page script. Empty when the script did not run or its telemetry was blocked.',
    range: [0, null],
  }),
  feature({
    name: 'keyboard_nav_ratio',
    label: 'keyboard navigation',
    type: 'number',
    unit: 'share',
    description: 'Share of navigation done with the keyboard (Tab, arrows, shortcuts) rather than the pointer. Empty when telemetry is missing.',
    range: [0, 1],
  }),
  feature({
    name: 'plugins_count',
    label: 'browser plugins',
    type: 'number',
    unit: 'plugins',
    description:
      'Browser plugins reported by the page script. Headless browsers, phones and anti-fingerprinting browsers report none. Empty when telemetry is missing.',
    range: [0, 10],
  }),
  feature({
    name: 'night_activity_ratio',
    label: 'night-time sessions',
    type: 'number',
    unit: 'share',
    description:
      "Share of this client's sessions in the past 7 days that started between midnight and 6 am local time. Empty for clients seen for the first time.",
    range: [0, 1],
  }),
  feature({
    name: 'sessions_per_ip',
    label: 'sessions per day from the same IP address',
    type: 'number',
    unit: 'sessions/day',
    description:
      'Sessions seen from the same IP address over the past 24 hours. High for scrapers, but also for offices and mobile carriers that put many ' +
      'people behind one address.',
    range: [1, null],
  }),
  feature({
    name: 'ip_reputation_score',
    label: 'IP risk score',
    type: 'number',
    unit: 'score 0-100',
    description:
      'Risk score of the client IP from the threat-intelligence feed (0 clean, 100 known abusive). Empty when the lookup failed. Derived from ' +
      'the IP address, so never shown to a model.',
    range: [0, 100],
    sensitive: true,
  }),
  feature({
    name: 'referrer_present',
    label: 'referrer',
    type: 'boolean',
    description: 'The first page request carried a Referer header (the visitor came from a link or a search).',
  }),
  feature({
    name: 'webdriver_flag',
    label: 'webdriver flag',
    type: 'boolean',
    description: 'The browser reported navigator.webdriver, the flag automation tools such as Selenium and Puppeteer set. Empty when telemetry is missing.',
  }),
  feature({
    name: 'js_executed',
    label: 'page script execution',
    type: 'boolean',
    description: 'The page script ran and reported back at least once.',
  }),
  feature({
    name: 'cookies_enabled',
    label: 'returned session cookie',
    type: 'boolean',
    description: 'The client returned the session cookie it was given.',
  }),
  feature({
    name: 'robots_txt_fetched',
    label: 'robots.txt request',
    type: 'boolean',
    description: 'The client requested /robots.txt during the session, as declared crawlers do.',
  }),
  feature({
    name: 'accept_language_present',
    label: 'Accept-Language header',
    type: 'boolean',
    description: 'Requests carried an Accept-Language header; every mainstream browser sends one.',
  }),
  feature({
    name: 'ua_family',
    label: 'claimed browser',
    type: 'category',
    description: 'Browser family claimed by the User-Agent header. A claim only: scripts often pretend to be Chrome.',
    values: [...UA_FAMILIES],
  }),
  feature({
    name: 'tls_fingerprint_class',
    label: 'TLS client family',
    type: 'category',
    description:
      'Client family recognised from the TLS handshake (JA4-style fingerprint). A mismatch with ua_family suggests a script posing as a ' +
      'browser. Empty when not captured.',
    values: [...TLS_CLASSES],
  }),
  feature({
    name: 'asn_type',
    label: 'network type',
    type: 'category',
    description:
      'Kind of network the client connects from: home broadband, mobile carrier, business, education or hosting (data centre, cloud, VPN). ' +
      'Empty when the network is unknown.',
    values: [...ASN_TYPES],
  }),
];

/** Name of a feature of the synthetic catalog. */
export type SynthFeatureName = (typeof FEATURES)[number]['name'];
export type SynthFeature = (typeof FEATURES)[number];

/** The synthetic catalog, a fresh copy per call so callers may change it. */
export function synthCatalog(): Feature[] {
  return structuredClone(FEATURES) as Feature[];
}

/** The synthetic catalog, typed by name; read-only for the generator. */
export const SYNTH_FEATURES: readonly SynthFeature[] = FEATURES;

const HEADER = `Feature catalog: the columns that rules may use, and what they mean.

One entry per feature:
  name         column name in the sessions table (lower case, digits, underscores)
  type         number | boolean | category
  label        short noun phrase for plain-English readings, no leading article: after the
               value when it names the unit or what a share counts ("120 requests per minute",
               "5% static asset requests"), else before it ("session duration under 3 seconds");
               a boolean's label is a noun: "<label>" when true, "no <label>" when false
  unit         what a number counts or measures
  description  plain words for reviewers; rule documentation quotes it
  range        [min, max] a number can take (null: unbounded); values outside are rejected
  values       the categories a category feature can take
  sensitive    true: the feature is never shown to a model, not even as an aggregate

An empty value (NULL) means the signal was not observed. A rule comparison on an empty
value is false, so "pointer_events = 0" does not match sessions whose telemetry is missing.`;

/** features.yaml text: a header explaining the file, then one block per feature. */
export function renderCatalogYaml(features: readonly Feature[]): string {
  const doc = new Document(features.map((f) => ({ ...f })));
  doc.commentBefore = HEADER.split('\n')
    .map((l) => (l ? ` ${l}` : ''))
    .join('\n');
  // Short lists on one line read better: range: [0, 1], values: [a, b, c].
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && (pair.key.value === 'range' || pair.key.value === 'values') && isSeq(pair.value)) {
        pair.value.flow = true;
      }
    },
  });
  if (isSeq(doc.contents)) {
    doc.contents.items.forEach((item, i) => {
      if (i > 0 && item && typeof item === 'object') (item as { spaceBefore?: boolean }).spaceBefore = true;
    });
  }
  return doc.toString({ lineWidth: 100, flowCollectionPadding: false });
}
