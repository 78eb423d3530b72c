/**
 * The populations of synthetic traffic, as data. generate.ts turns every number here into a
 * SQL constant; nothing about a population is decided in code, so tuning the realism of the
 * data set means editing this table and nothing else.
 *
 * Five bot populations and six human ones. The last three human populations are deliberate
 * false-positive traps: each looks like a bot on one or two features (no pointer movement,
 * hundreds of sessions per IP, no referrer and blocked telemetry), so a rule built on a single
 * feature pays for it in false positives.
 */

/** Relative weights over named outcomes; they need not sum to 1 (they are normalised). */
export type Weights = Readonly<Record<string, number>>;

/** Log-normal: `median * exp(sigma * z)`. */
export interface LogNormal {
  readonly median: number;
  readonly sigma: number;
}

/** Logit-normal share in (0, 1): `logistic(logit(median) + spread * z)`. */
export interface Share {
  readonly median: number;
  readonly spread: number;
}

/**
 * When in the span a population is active.
 * - diurnal: local daytime, fewer sessions at weekends (people)
 * - night: local night, every day (bots that try to stay under the radar while nobody watches)
 * - flat: uniform over the span (most automation)
 * - campaign: mostly inside a few short bursts, the rest uniform (credential stuffing)
 */
export type Activity = 'diurnal' | 'night' | 'flat' | 'campaign';

/** Every distribution parameter of one population; the SQL reads these and nothing else. */
export interface Profile {
  readonly activity: Activity;
  readonly countries: Weights;
  /** Browser family claimed by the user agent (the `ua_family` feature). */
  readonly ua: Weights;
  /** Probability that the TLS fingerprint is the one the claimed browser would produce. */
  readonly tlsMatchesUa: number;
  /** TLS fingerprint class when it does not match the user agent. */
  readonly tls: Weights;
  readonly asn: Weights;
  /** Requests per minute before the request count is rounded. */
  readonly rpm: LogNormal;
  readonly durationS: LogNormal;
  readonly staticAssetRatio: Share;
  readonly interarrivalCv: LogNormal;
  /** Distinct paths as a share of page requests. */
  readonly distinctPathShare: Share;
  /** Probability of any HEAD request, and their share when there are some. */
  readonly head: { readonly p: number; readonly ratio: Share };
  /** 4xx responses other than 401/403 (mostly 404s), as a share of requests. */
  readonly otherErrorShare: Share;
  /** Probability of any login POST, how many, and the share of them that fail with 401/403. */
  readonly login: { readonly p: number; readonly count: LogNormal; readonly failShare: Share };
  readonly jsExecuted: number;
  /** Probability that client-side telemetry is blocked although JavaScript ran. */
  readonly telemetryBlocked: number;
  /** Probability of zero pointer events when telemetry is present, and the count otherwise. */
  readonly pointer: { readonly zero: number; readonly count: LogNormal };
  readonly keyboardNavRatio: Share;
  readonly webdriver: number;
  /** Probability that the browser reports no plugins (headless, mobile, anti-fingerprinting). */
  readonly noPlugins: number;
  readonly cookies: number;
  readonly referrer: number;
  readonly robotsTxt: number;
  readonly acceptLanguage: number;
  readonly nightShare: Share;
  readonly sessionsPerIp: LogNormal;
  /** Risk score of the client IP as a share of 100 (0 clean, 100 known abusive). */
  readonly ipRisk: Share;
  /** Size of the pool the client IPs come from (a NAT gateway); absent: effectively unique IPs. */
  readonly ipPool?: number;
  /** Behaviour change from a point in the span on (a fraction, e.g. 2/3). */
  readonly drift?: { readonly from: number; readonly rpmFactor: number; readonly staticAssetRatio: Share };
}

/** One population: `share` of all sessions, ground-truth `label` (1 bot, 0 human). */
export interface Archetype {
  readonly name: string;
  readonly label: 0 | 1;
  readonly share: number;
  readonly description: string;
  readonly profile: Profile;
}

/** The country codes a profile may weight, with their UTC offset in hours (for local time). */
export const COUNTRY_UTC_OFFSET: Readonly<Record<string, number>> = {
  US: -5,
  CA: -5,
  BR: -3,
  GB: 0,
  FR: 1,
  DE: 1,
  NL: 1,
  RU: 3,
  IN: 5.5,
  SG: 8,
  CN: 8,
  JP: 9,
  AU: 10,
};

/** The browser a UA family belongs to decides the TLS fingerprint a genuine client shows. */
export const UA_NATIVE_TLS: Readonly<Record<string, string>> = {
  chrome: 'chromium',
  edge: 'chromium',
  chrome_mobile: 'chromium',
  headless_chrome: 'chromium',
  firefox: 'firefox',
  safari: 'safari',
  mobile_safari: 'safari',
  python_requests: 'python',
  go_http: 'go',
  curl: 'curl',
  crawler: 'other',
  other: 'other',
};

export const UA_FAMILIES = Object.keys(UA_NATIVE_TLS);
export const TLS_CLASSES = ['chromium', 'firefox', 'safari', 'python', 'go', 'curl', 'java', 'other'];
export const ASN_TYPES = ['residential', 'mobile', 'business', 'education', 'hosting'];

const PEOPLE_COUNTRIES: Weights = { US: 30, DE: 10, GB: 10, FR: 8, IN: 10, BR: 7, JP: 6, CA: 6, NL: 4, AU: 5, SG: 2, RU: 2 };
const HOSTING_COUNTRIES: Weights = { US: 40, NL: 12, DE: 12, SG: 10, RU: 8, CN: 10, GB: 4, FR: 4 };
const PROXY_COUNTRIES: Weights = { US: 30, BR: 15, IN: 15, RU: 10, CN: 10, DE: 10, GB: 10 };

/** The defaults people share; each human population overrides what makes it different. */
const PERSON: Profile = {
  activity: 'diurnal',
  countries: PEOPLE_COUNTRIES,
  ua: { chrome: 55, edge: 15, firefox: 12, safari: 15, other: 3 },
  tlsMatchesUa: 0.995,
  // The rare mismatch: antivirus or an app embedding a browser view terminates TLS itself.
  tls: { other: 70, java: 15, go: 10, python: 5 },
  asn: { residential: 75, business: 15, education: 5, mobile: 2, hosting: 3 },
  rpm: { median: 3.5, sigma: 0.75 },
  durationS: { median: 420, sigma: 1.1 },
  staticAssetRatio: { median: 0.6, spread: 1.0 },
  interarrivalCv: { median: 1.3, sigma: 0.35 },
  distinctPathShare: { median: 0.75, spread: 1.0 },
  head: { p: 0.01, ratio: { median: 0.02, spread: 0.5 } },
  otherErrorShare: { median: 0.01, spread: 0.8 },
  login: { p: 0.12, count: { median: 1.1, sigma: 0.3 }, failShare: { median: 0.15, spread: 1.0 } },
  jsExecuted: 0.995,
  telemetryBlocked: 0.02,
  pointer: { zero: 0.03, count: { median: 180, sigma: 1.0 } },
  keyboardNavRatio: { median: 0.04, spread: 1.0 },
  webdriver: 0.002,
  noPlugins: 0.03,
  cookies: 0.97,
  referrer: 0.75,
  robotsTxt: 0.002,
  acceptLanguage: 0.995,
  nightShare: { median: 0.06, spread: 0.9 },
  sessionsPerIp: { median: 1.6, sigma: 0.6 },
  ipRisk: { median: 0.08, spread: 1.0 },
};

/** The defaults automation shares; each bot population overrides what makes it different. */
const BOT: Profile = {
  ...PERSON,
  activity: 'flat',
  countries: HOSTING_COUNTRIES,
  tlsMatchesUa: 0.3,
  tls: { python: 45, go: 35, curl: 10, java: 10 },
  asn: { hosting: 80, residential: 15, business: 5 },
  interarrivalCv: { median: 0.45, sigma: 0.5 },
  head: { p: 0.05, ratio: { median: 0.05, spread: 0.8 } },
  otherErrorShare: { median: 0.03, spread: 0.8 },
  login: { p: 0.02, count: { median: 1, sigma: 0.3 }, failShare: { median: 0.3, spread: 1.0 } },
  jsExecuted: 0.1,
  telemetryBlocked: 0,
  pointer: { zero: 0.9, count: { median: 3, sigma: 0.7 } },
  keyboardNavRatio: { median: 0.02, spread: 1.0 },
  webdriver: 0.3,
  noPlugins: 0.8,
  cookies: 0.5,
  referrer: 0.2,
  robotsTxt: 0.03,
  acceptLanguage: 0.5,
  nightShare: { median: 0.25, spread: 0.4 },
  sessionsPerIp: { median: 4, sigma: 0.9 },
  ipRisk: { median: 0.45, spread: 1.0 },
};

/** Shares sum to 1; bots are 30% of sessions. */
export const ARCHETYPES: readonly Archetype[] = [
  {
    name: 'fast_scraper',
    label: 1,
    share: 0.09,
    description:
      'Scripted HTTP clients copying pages fast; no JavaScript, almost no static assets. Late in the span they slow down and fetch a few assets to look less obvious.',
    profile: {
      ...BOT,
      ua: { chrome: 35, python_requests: 25, go_http: 15, curl: 5, firefox: 10, other: 10 },
      rpm: { median: 80, sigma: 0.6 },
      durationS: { median: 600, sigma: 1.0 },
      staticAssetRatio: { median: 0.01, spread: 1.0 },
      distinctPathShare: { median: 0.85, spread: 0.8 },
      head: { p: 0.4, ratio: { median: 0.08, spread: 0.8 } },
      otherErrorShare: { median: 0.06, spread: 0.8 },
      jsExecuted: 0.08,
      webdriver: 0.1,
      noPlugins: 0.9,
      cookies: 0.35,
      referrer: 0.12,
      robotsTxt: 0.08,
      acceptLanguage: 0.35,
      sessionsPerIp: { median: 6, sigma: 1.0 },
      ipRisk: { median: 0.55, spread: 1.0 },
      drift: { from: 2 / 3, rpmFactor: 0.3, staticAssetRatio: { median: 0.06, spread: 0.8 } },
    },
  },
  {
    name: 'credential_stuffer',
    label: 1,
    share: 0.05,
    description: 'Replays leaked username/password pairs: bursts of login POSTs, most answered 401/403, through residential proxies and cloud hosts.',
    profile: {
      ...BOT,
      activity: 'campaign',
      countries: PROXY_COUNTRIES,
      ua: { chrome: 55, firefox: 10, python_requests: 10, go_http: 10, other: 15 },
      tlsMatchesUa: 0.35,
      tls: { go: 40, python: 30, chromium: 20, java: 10 },
      asn: { residential: 45, hosting: 45, mobile: 10 },
      rpm: { median: 25, sigma: 0.6 },
      durationS: { median: 240, sigma: 0.9 },
      staticAssetRatio: { median: 0.03, spread: 1.2 },
      interarrivalCv: { median: 0.35, sigma: 0.5 },
      distinctPathShare: { median: 0.08, spread: 0.6 },
      otherErrorShare: { median: 0.01, spread: 0.8 },
      login: { p: 0.97, count: { median: 18, sigma: 0.8 }, failShare: { median: 0.9, spread: 1.0 } },
      jsExecuted: 0.15,
      pointer: { zero: 0.95, count: { median: 3, sigma: 0.7 } },
      webdriver: 0.25,
      noPlugins: 0.7,
      cookies: 0.6,
      referrer: 0.3,
      robotsTxt: 0.01,
      acceptLanguage: 0.5,
      nightShare: { median: 0.3, spread: 0.5 },
      sessionsPerIp: { median: 2.5, sigma: 0.7 },
      ipRisk: { median: 0.6, spread: 1.2 },
    },
  },
  {
    name: 'headless_browser',
    label: 1,
    share: 0.06,
    description:
      'Automated real browsers (Puppeteer, Playwright, Selenium): human-like request rates and assets, but automation fingerprints and very regular timing.',
    profile: {
      ...BOT,
      ua: { chrome: 75, headless_chrome: 20, edge: 5 },
      tlsMatchesUa: 0.9,
      tls: { go: 50, other: 50 },
      asn: { hosting: 65, residential: 30, business: 5 },
      rpm: { median: 7, sigma: 0.5 },
      durationS: { median: 300, sigma: 0.8 },
      staticAssetRatio: { median: 0.25, spread: 0.8 },
      interarrivalCv: { median: 0.12, sigma: 0.35 },
      distinctPathShare: { median: 0.7, spread: 0.8 },
      jsExecuted: 0.98,
      pointer: { zero: 0.55, count: { median: 8, sigma: 0.7 } },
      webdriver: 0.7,
      noPlugins: 0.75,
      cookies: 0.9,
      referrer: 0.35,
      robotsTxt: 0.05,
      acceptLanguage: 0.8,
      sessionsPerIp: { median: 4, sigma: 0.9 },
      ipRisk: { median: 0.4, spread: 1.0 },
    },
  },
  {
    name: 'low_and_slow',
    label: 1,
    share: 0.04,
    description: 'Patient scrapers that keep a human request rate behind residential proxies, with near-constant gaps between requests, mostly at night.',
    profile: {
      ...BOT,
      activity: 'night',
      countries: PROXY_COUNTRIES,
      ua: { chrome: 45, firefox: 20, safari: 15, mobile_safari: 10, other: 10 },
      tlsMatchesUa: 0.55,
      tls: { python: 40, go: 40, other: 20 },
      asn: { residential: 70, mobile: 15, hosting: 15 },
      rpm: { median: 1.8, sigma: 0.5 },
      durationS: { median: 1500, sigma: 0.7 },
      staticAssetRatio: { median: 0.04, spread: 1.0 },
      interarrivalCv: { median: 0.07, sigma: 0.4 },
      distinctPathShare: { median: 0.9, spread: 0.8 },
      jsExecuted: 0.2,
      webdriver: 0.3,
      noPlugins: 0.8,
      cookies: 0.5,
      referrer: 0.2,
      robotsTxt: 0.02,
      acceptLanguage: 0.6,
      nightShare: { median: 0.62, spread: 0.6 },
      sessionsPerIp: { median: 1.3, sigma: 0.4 },
      ipRisk: { median: 0.35, spread: 1.0 },
    },
  },
  {
    name: 'good_crawler',
    label: 1,
    share: 0.06,
    description: 'Declared search-engine crawlers: say what they are in the user agent and fetch robots.txt. Automation, but usually allowed.',
    profile: {
      ...BOT,
      countries: { US: 85, DE: 5, CN: 5, RU: 5 },
      ua: { crawler: 95, other: 5 },
      tlsMatchesUa: 0.3,
      tls: { go: 50, other: 30, java: 20 },
      asn: { hosting: 95, business: 5 },
      rpm: { median: 12, sigma: 0.7 },
      durationS: { median: 900, sigma: 1.0 },
      staticAssetRatio: { median: 0.05, spread: 1.0 },
      interarrivalCv: { median: 0.6, sigma: 0.5 },
      distinctPathShare: { median: 0.9, spread: 1.0 },
      head: { p: 0.5, ratio: { median: 0.1, spread: 0.8 } },
      otherErrorShare: { median: 0.05, spread: 0.8 },
      login: { p: 0, count: { median: 1, sigma: 0.3 }, failShare: { median: 0.5, spread: 1.0 } },
      // Search engines render pages, so some sessions carry telemetry (without any pointer).
      jsExecuted: 0.3,
      pointer: { zero: 1, count: { median: 1, sigma: 0.1 } },
      webdriver: 0.05,
      noPlugins: 0.95,
      cookies: 0.1,
      referrer: 0.02,
      robotsTxt: 0.95,
      acceptLanguage: 0.2,
      nightShare: { median: 0.25, spread: 0.3 },
      sessionsPerIp: { median: 40, sigma: 1.0 },
      ipRisk: { median: 0.15, spread: 0.8 },
    },
  },
  {
    name: 'human_desktop',
    label: 0,
    share: 0.33,
    description: 'People on desktop browsers during their day: irregular pacing, assets loaded, mouse movement, a referrer most of the time.',
    profile: PERSON,
  },
  {
    name: 'human_mobile',
    label: 0,
    share: 0.24,
    description: 'People on phones and tablets: touch events instead of a mouse, no plugins reported, carrier NAT shares one IP among many subscribers.',
    profile: {
      ...PERSON,
      ua: { chrome_mobile: 50, mobile_safari: 45, other: 5 },
      asn: { mobile: 70, residential: 28, hosting: 2 },
      rpm: { median: 3, sigma: 0.7 },
      durationS: { median: 240, sigma: 1.0 },
      staticAssetRatio: { median: 0.55, spread: 1.0 },
      interarrivalCv: { median: 1.4, sigma: 0.35 },
      login: { p: 0.08, count: { median: 1.1, sigma: 0.3 }, failShare: { median: 0.15, spread: 1.0 } },
      jsExecuted: 0.99,
      pointer: { zero: 0.05, count: { median: 90, sigma: 1.0 } },
      keyboardNavRatio: { median: 0.01, spread: 1.0 },
      webdriver: 0.001,
      noPlugins: 0.85,
      cookies: 0.96,
      referrer: 0.7,
      robotsTxt: 0.001,
      acceptLanguage: 0.99,
      nightShare: { median: 0.08, spread: 0.9 },
      sessionsPerIp: { median: 6, sigma: 0.9 },
      ipRisk: { median: 0.15, spread: 1.0 },
    },
  },
  {
    name: 'power_user',
    label: 0,
    share: 0.04,
    description: 'Experienced people working fast (opening many tabs, keyboard shortcuts): scraper-like request rates, but assets load and the mouse moves.',
    profile: {
      ...PERSON,
      ua: { chrome: 60, firefox: 25, edge: 10, safari: 5 },
      tlsMatchesUa: 0.99,
      asn: { residential: 60, business: 35, education: 5 },
      rpm: { median: 28, sigma: 0.6 },
      durationS: { median: 1200, sigma: 0.8 },
      staticAssetRatio: { median: 0.45, spread: 0.8 },
      interarrivalCv: { median: 0.8, sigma: 0.35 },
      distinctPathShare: { median: 0.6, spread: 1.0 },
      head: { p: 0.02, ratio: { median: 0.02, spread: 0.5 } },
      otherErrorShare: { median: 0.02, spread: 0.8 },
      login: { p: 0.2, count: { median: 1.1, sigma: 0.3 }, failShare: { median: 0.1, spread: 1.0 } },
      jsExecuted: 1,
      telemetryBlocked: 0.01,
      pointer: { zero: 0.01, count: { median: 600, sigma: 0.8 } },
      keyboardNavRatio: { median: 0.25, spread: 0.8 },
      webdriver: 0.01,
      noPlugins: 0.04,
      cookies: 0.99,
      referrer: 0.5,
      robotsTxt: 0.01,
      acceptLanguage: 1,
      nightShare: { median: 0.12, spread: 0.8 },
      sessionsPerIp: { median: 1.8, sigma: 0.6 },
      ipRisk: { median: 0.1, spread: 1.0 },
    },
  },
  {
    name: 'assistive_tech',
    label: 0,
    share: 0.02,
    description:
      'People using screen readers or keyboard-only navigation: no pointer movement at all and a steady pace, like a headless browser on those two signals.',
    profile: {
      ...PERSON,
      ua: { chrome: 45, firefox: 25, edge: 15, safari: 15 },
      asn: { residential: 85, business: 10, education: 5 },
      rpm: { median: 2.5, sigma: 0.6 },
      durationS: { median: 600, sigma: 0.9 },
      staticAssetRatio: { median: 0.5, spread: 0.9 },
      interarrivalCv: { median: 0.55, sigma: 0.35 },
      distinctPathShare: { median: 0.7, spread: 1.0 },
      login: { p: 0.1, count: { median: 1.1, sigma: 0.3 }, failShare: { median: 0.15, spread: 1.0 } },
      jsExecuted: 0.99,
      telemetryBlocked: 0.01,
      pointer: { zero: 0.92, count: { median: 4, sigma: 0.6 } },
      keyboardNavRatio: { median: 0.9, spread: 0.9 },
      webdriver: 0.01,
      noPlugins: 0.05,
      cookies: 0.97,
      referrer: 0.6,
      robotsTxt: 0.002,
      acceptLanguage: 0.99,
      nightShare: { median: 0.08, spread: 0.9 },
      sessionsPerIp: { median: 1.5, sigma: 0.6 },
    },
  },
  {
    name: 'corporate_nat',
    label: 0,
    share: 0.04,
    description: 'Employees behind one corporate gateway: hundreds of sessions per IP, a TLS-intercepting proxy changes the fingerprint, office hours only.',
    profile: {
      ...PERSON,
      ua: { chrome: 50, edge: 40, firefox: 5, safari: 5 },
      tlsMatchesUa: 0.6,
      tls: { other: 50, java: 30, go: 20 },
      asn: { business: 90, hosting: 10 },
      rpm: { median: 4, sigma: 0.7 },
      durationS: { median: 360, sigma: 1.0 },
      staticAssetRatio: { median: 0.4, spread: 1.0 },
      interarrivalCv: { median: 1.2, sigma: 0.35 },
      distinctPathShare: { median: 0.7, spread: 1.0 },
      login: { p: 0.15, count: { median: 1.1, sigma: 0.3 }, failShare: { median: 0.15, spread: 1.0 } },
      jsExecuted: 0.98,
      telemetryBlocked: 0.05,
      pointer: { zero: 0.04, count: { median: 150, sigma: 1.0 } },
      keyboardNavRatio: { median: 0.05, spread: 1.0 },
      webdriver: 0.005,
      noPlugins: 0.05,
      cookies: 0.95,
      referrer: 0.65,
      robotsTxt: 0.002,
      acceptLanguage: 0.99,
      nightShare: { median: 0.03, spread: 0.9 },
      sessionsPerIp: { median: 60, sigma: 0.8 },
      ipRisk: { median: 0.3, spread: 1.0 },
      ipPool: 40,
    },
  },
  {
    name: 'privacy_browser',
    label: 0,
    share: 0.03,
    description:
      'People with privacy tools (Tor Browser, strict tracking protection, VPNs): no referrer, telemetry blocked, cookies often refused, VPN exit IPs in data centres.',
    profile: {
      ...PERSON,
      ua: { firefox: 60, other: 20, chrome: 10, safari: 10 },
      tlsMatchesUa: 0.95,
      tls: { other: 1 },
      asn: { hosting: 40, residential: 55, mobile: 5 },
      rpm: { median: 3.5, sigma: 0.8 },
      durationS: { median: 360, sigma: 1.0 },
      staticAssetRatio: { median: 0.45, spread: 1.0 },
      interarrivalCv: { median: 1.2, sigma: 0.35 },
      login: { p: 0.08, count: { median: 1.1, sigma: 0.3 }, failShare: { median: 0.15, spread: 1.0 } },
      jsExecuted: 0.8,
      telemetryBlocked: 0.9,
      pointer: { zero: 0.03, count: { median: 150, sigma: 1.0 } },
      keyboardNavRatio: { median: 0.05, spread: 1.0 },
      webdriver: 0.002,
      noPlugins: 0.5,
      cookies: 0.45,
      referrer: 0.04,
      robotsTxt: 0.003,
      acceptLanguage: 0.85,
      nightShare: { median: 0.12, spread: 0.9 },
      sessionsPerIp: { median: 3, sigma: 1.0 },
      ipRisk: { median: 0.45, spread: 1.0 },
    },
  },
];

/** Bot share of sessions implied by the table (0.30). */
export function configuredBotShare(archetypes: readonly Archetype[] = ARCHETYPES): number {
  return archetypes.filter((a) => a.label === 1).reduce((s, a) => s + a.share, 0);
}
