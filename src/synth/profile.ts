/**
 * The vocabulary of a synthetic population: the shape of its distribution parameters and the
 * outcome sets (countries, UA families, TLS classes, network kinds) its weights may name.
 * archetypes.ts fills these in per population; generate.ts turns them into SQL.
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
