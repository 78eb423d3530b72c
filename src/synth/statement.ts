/**
 * The one statement that generates the data set. The populations and their distributions live
 * in archetypes.ts; this file only translates them into SQL: per-population parameters become
 * per-row columns looked up by archetype number, and every value is a vectorised expression
 * over them (no per-row JS). Each CTE layer adds a few columns computed from the layer before,
 * in dependency order.
 */
import { ARCHETYPES, ASN_TYPES, COUNTRY_UTC_OFFSET, TLS_CLASSES, UA_FAMILIES, UA_NATIVE_TLS, type Archetype, type Profile } from './archetypes.js';
import { SYNTH_FEATURES, type SynthFeatureName } from './catalog.js';
import { choose, Draws, lognormal, lookup, num, Params, share } from './sql-helpers.js';
import { userAgentSql } from './user-agent.js';

/** Share of sessions whose label is unknown, and the two directions of wrong labels. */
export const LABEL_NOISE = { unlabelled: 0.1, botAsHuman: 0.01, humanAsBot: 0.002 } as const;

/**
 * Features that are sometimes missing for reasons unrelated to the population (a failed
 * lookup, a client never seen before). Telemetry features are missing by behaviour instead:
 * whenever JavaScript did not run or the client blocked the telemetry call.
 */
export const MISSING_AT_RANDOM: Partial<Record<SynthFeatureName, number>> = {
  night_activity_ratio: 0.04,
  ip_reputation_score: 0.03,
  tls_fingerprint_class: 0.015,
  asn_type: 0.01,
};

/** The raw, non-feature columns written before the catalog features. */
export const SYNTH_BASE_COLUMNS = ['session_id', 'ts', 'label', 'country', 'device_class', 'archetype', 'client_ip', 'user_agent'] as const;

const DEVICE_OF_UA: Readonly<Record<string, string>> = {
  chrome: 'desktop',
  edge: 'desktop',
  firefox: 'desktop',
  safari: 'desktop',
  headless_chrome: 'desktop',
  other: 'desktop',
  chrome_mobile: 'mobile',
  mobile_safari: 'mobile',
  python_requests: 'bot',
  go_http: 'bot',
  curl: 'bot',
  crawler: 'bot',
};

/** Blocks of 10.x.0.0/16 per network kind: synthetic addresses must never point at a real host. */
const ASN_SECOND_OCTET: Readonly<Record<string, [base: number, width: number]>> = {
  hosting: [0, 64],
  residential: [64, 96],
  mobile: [160, 40],
  business: [200, 40],
  education: [240, 16],
};

export interface SynthSqlOptions {
  sessions: number;
  days: number;
  seed: number;
  start: Date;
  /**
   * A table holding the row ids 0..N-1 in order, to read instead of `range(N)`: a table scan
   * reports DuckDB query progress, `range()` does not. The values and their order are the same.
   */
  idsTable?: string;
}

/**
 * The SELECT that produces the data set, rows in row-id order. Exported so tests and other
 * stages can run it without writing a file. Options must already be validated: they are
 * integers written into the statement (COPY cannot take bound parameters).
 */
export function synthSql(opts: SynthSqlOptions, arch: readonly Archetype[] = ARCHETYPES): string {
  const { sessions: N, days: D, seed: S } = opts;
  const span = D * 86400;
  const startUs = BigInt(opts.start.getTime()) * 1000n;
  const dow0 = opts.start.getUTCDay();
  const r = new Draws();
  const pa = new Params(arch.length);
  /** One parameter of every archetype, in archetype order. */
  const P = <T>(f: (p: Profile) => T): T[] => arch.map((a) => f(a.profile));
  const prob = (f: (p: Profile) => number): string => pa.of(P(f));

  // --- who: cumulative shares, normalised so rounding in the table cannot leave a gap
  const total = arch.reduce((s, a) => s + a.share, 0);
  const uArch = r.u('arch');
  let acc = 0;
  const cuts = arch.slice(0, -1).map((a, i) => `WHEN ${uArch} < ${num((acc += a.share / total))} THEN ${i + 1}`);
  const who = `CASE ${cuts.join(' ')} ELSE ${arch.length} END AS a`;

  // --- where and when: country, local time of day, weekday preference, campaign bursts
  const countries = Object.keys(COUNTRY_UTC_OFFSET);
  const actCode = { diurnal: 0, night: 1, flat: 2, campaign: 3 } as const;
  const placed = [
    `${pa.of(P((p) => actCode[p.activity]))} AS act`,
    `${choose(
      pa,
      P((p) => p.countries),
      countries,
      r.u('country'),
    )} AS ci`,
  ];
  const uDay1 = r.u('day1');
  const uDay2 = r.u('day2');
  const uWeekend = r.u('weekend');
  const uBackground = r.u('background');
  const uHour = r.u('hour');
  const zHour = r.z('hour');
  const uFlat = r.u('flat');
  const uCampaign = r.u('campaign');
  const day1 = `floor(${uDay1} * ${D})`;
  const weekend1 = `((${dow0} + ${day1}::BIGINT) % 7 IN (0, 6))`;
  // A weekend day is redrawn (once) with probability 0.45: roughly a third fewer sessions on
  // Saturdays and Sundays for people; automation keeps no weekends.
  const day = `CASE WHEN act = 0 AND ${weekend1} AND ${uWeekend} < 0.45 THEN floor(${uDay2} * ${D}) ELSE ${day1} END`;
  const tz = lookup(
    countries.map((c) => COUNTRY_UTC_OFFSET[c]!),
    'ci',
  );
  // People: mostly between 8 am and 9 pm local time (peak mid-afternoon), 8% at any hour.
  const diurnalHour = `CASE WHEN ${uBackground} < 0.08 THEN ${uHour} * 24 ELSE 14.5 + 4.2 * ${zHour} END`;
  // Night bots keep to the site's (UTC) small hours, whatever country their proxy is in.
  const nightHour = `3.0 + 1.8 * ${zHour}`;
  // Three bursts of six hours per seed; a quarter of the sessions fall outside them.
  const campaignCentre = `((hash(${S}, 7001 + floor(${uCampaign} * 3)::BIGINT) % 1000003)::DOUBLE / 1000003)`;
  const secRaw = `CASE act
      WHEN 0 THEN (${day}) * 86400 + (${diurnalHour} - ${tz}) * 3600
      WHEN 1 THEN (${day}) * 86400 + (${nightHour}) * 3600
      WHEN 2 THEN ${uFlat} * ${span}
      ELSE CASE WHEN ${uBackground} < 0.75 THEN ${campaignCentre} * ${span} + (${uHour} - 0.5) * 21600 ELSE ${uFlat} * ${span} END
    END`;
  const timed = [`${secRaw} AS sec_raw`, `${tz} AS tz`];
  const wrapped = [
    // Wrap into [0, span): a session that would start before the span or after it moves round.
    `floor((sec_raw - ${span} * floor(sec_raw / ${span})) * 1000)::BIGINT AS ms`,
    // The client's own clock decides what counts as night for night_activity_ratio.
    `(sec_raw / 3600 + tz) - 24 * floor((sec_raw / 3600 + tz) / 24) AS local_hour`,
  ];

  // --- latent behaviour
  const drifted = `(ms >= ${pa.of(P((p) => (p.drift ? Math.round(p.drift.from * span * 1000) : span * 1000 + 1)))})`;
  const rpmFactor = prob((p) => p.drift?.rpmFactor ?? 1);
  const zStatic = r.z('static');
  const latent = [
    `least(14400, greatest(1, ${lognormal(
      pa,
      P((p) => p.durationS),
      r.z('duration'),
    )})) AS dur`,
    `${lognormal(
      pa,
      P((p) => p.rpm),
      r.z('rpm'),
    )} * CASE WHEN ${drifted} THEN ${rpmFactor} ELSE 1 END AS rpm`,
    `CASE WHEN ${drifted} THEN ${share(
      pa,
      P((p) => p.drift?.staticAssetRatio ?? p.staticAssetRatio),
      zStatic,
    )} ELSE ${share(
      pa,
      P((p) => p.staticAssetRatio),
      zStatic,
    )} END AS static_share`,
    `CASE WHEN ${r.u('head')} < ${prob((p) => p.head.p)} THEN ${share(
      pa,
      P((p) => p.head.ratio),
      r.z('head'),
    )} ELSE 0 END AS head_share`,
    `${choose(
      pa,
      P((p) => p.ua),
      UA_FAMILIES,
      r.u('ua'),
    )} AS ua`,
    `${choose(
      pa,
      P((p) => p.asn),
      ASN_TYPES,
      r.u('asn'),
    )} AS asn`,
    `${r.u('js')} < ${prob((p) => p.jsExecuted)} AS js`,
    `${r.u('blocked')} < ${prob((p) => p.telemetryBlocked)} AS blocked`,
  ];

  // --- counts that must agree with each other: pages + assets + HEADs = requests
  const counted = [`greatest(1, round(rpm * dur / 60)) AS req`, `js AND NOT blocked AS telemetry`];
  const pages = `greatest(1, round(req * greatest(0, 1 - static_share - head_share)))`;
  const assets = `round((req - pages) * static_share / (static_share + head_share + 1e-9))`;
  const loginCount = `CASE WHEN ${r.u('login')} < ${prob((p) => p.login.p)} THEN least(pages, greatest(1, round(${lognormal(
    pa,
    P((p) => p.login.count),
    r.z('login'),
  )}))) ELSE 0 END`;
  const loginFails = `round(login * ${share(
    pa,
    P((p) => p.login.failShare),
    r.z('login_fail'),
  )})`;
  const otherErrors = `round(pages * ${share(
    pa,
    P((p) => p.otherErrorShare),
    r.z('errors'),
  )})`;

  const uaNativeTls = lookup(
    UA_FAMILIES.map((u) => TLS_CLASSES.indexOf(UA_NATIVE_TLS[u]!)),
    'ua',
  );
  const tlsIndex = `CASE WHEN ${r.u('tls_match')} < ${prob((p) => p.tlsMatchesUa)} THEN ${uaNativeTls} ELSE ${choose(
    pa,
    P((p) => p.tls),
    TLS_CLASSES,
    r.u('tls'),
  )} END`;
  const mar = (f: SynthFeatureName, expr: string): string => `CASE WHEN ${r.u(`missing_${f}`)} < ${num(MISSING_AT_RANDOM[f] ?? 0)} THEN NULL ELSE ${expr} END`;
  const ifTelemetry = (expr: string): string => `CASE WHEN telemetry THEN ${expr} END`;

  const features: Record<SynthFeatureName, string> = {
    requests_per_minute: `round(req * 60 / dur, 2)`,
    request_count: `req`,
    session_duration_s: `round(dur, 1)`,
    pages_per_session: `pages`,
    static_asset_ratio: `round(assets / req, 4)`,
    // One request has no gap; two have one gap and so no variation: short human sessions look
    // perfectly regular, which is what makes a bare interarrival_cv threshold risky.
    mean_interarrival_ms: `CASE WHEN req > 1 THEN round(dur * 1000 / (req - 1)) END`,
    interarrival_cv: `CASE WHEN req > 2 THEN round(${lognormal(
      pa,
      P((p) => p.interarrivalCv),
      r.z('cv'),
    )}, 3) WHEN req = 2 THEN 0 END`,
    distinct_paths: `greatest(1, round(pages * ${share(
      pa,
      P((p) => p.distinctPathShare),
      r.z('paths'),
    )}))`,
    login_post_count: `login`,
    status_401_403_count: `login_fails`,
    error_4xx_ratio: `round(least(1, (login_fails + other_errors) / req), 4)`,
    head_request_ratio: `round((req - pages - assets) / req, 4)`,
    pointer_events: ifTelemetry(
      `CASE WHEN ${r.u('pointer_zero')} < ${prob((p) => p.pointer.zero)} THEN 0 ELSE greatest(1, round(${lognormal(
        pa,
        P((p) => p.pointer.count),
        r.z('pointer'),
      )})) END`,
    ),
    keyboard_nav_ratio: ifTelemetry(
      `round(${share(
        pa,
        P((p) => p.keyboardNavRatio),
        r.z('keyboard'),
      )}, 3)`,
    ),
    // Current browsers report their five built-in PDF viewers; a few older ones fewer.
    plugins_count: ifTelemetry(
      `CASE WHEN ${r.u('plugins')} < ${prob((p) => p.noPlugins)} THEN 0 WHEN ${r.u('plugins_n')} < 0.85 THEN 5 ELSE 1 + floor(${r.u('plugins_k')} * 4) END`,
    ),
    // A client active at night now is more likely to be active at night in general.
    night_activity_ratio: mar(
      'night_activity_ratio',
      `round(${share(
        pa,
        P((p) => p.nightShare),
        r.z('night'),
        `CASE WHEN local_hour < 6 THEN 0.8 ELSE 0 END`,
      )}, 3)`,
    ),
    sessions_per_ip: `greatest(1, round(${lognormal(
      pa,
      P((p) => p.sessionsPerIp),
      r.z('per_ip'),
    )}))`,
    ip_reputation_score: mar(
      'ip_reputation_score',
      `round(100 * ${share(
        pa,
        P((p) => p.ipRisk),
        r.z('ip_risk'),
      )}, 1)`,
    ),
    referrer_present: `${r.u('referrer')} < ${prob((p) => p.referrer)}`,
    webdriver_flag: ifTelemetry(`${r.u('webdriver')} < ${prob((p) => p.webdriver)}`),
    js_executed: `js`,
    cookies_enabled: `${r.u('cookies')} < ${prob((p) => p.cookies)}`,
    robots_txt_fetched: `${r.u('robots')} < ${prob((p) => p.robotsTxt)}`,
    accept_language_present: `${r.u('accept_language')} < ${prob((p) => p.acceptLanguage)}`,
    ua_family: lookup(UA_FAMILIES, 'ua'),
    tls_fingerprint_class: mar('tls_fingerprint_class', lookup(TLS_CLASSES, `(${tlsIndex})::BIGINT`)),
    asn_type: mar('asn_type', lookup(ASN_TYPES, 'asn')),
  };

  // --- raw, non-feature columns
  const idWidth = Math.max(8, String(N - 1).length);
  const truth = pa.of(arch.map((a) => a.label));
  const uLabel = r.u('label');
  const uFlip = r.u('label_flip');
  const label = `CASE WHEN ${uLabel} < ${num(LABEL_NOISE.unlabelled)} THEN NULL
      WHEN ${truth} = 1 AND ${uFlip} < ${num(LABEL_NOISE.botAsHuman)} THEN 0
      WHEN ${truth} = 0 AND ${uFlip} < ${num(LABEL_NOISE.humanAsBot)} THEN 1
      ELSE ${truth} END`;
  const uaDevice = lookup(
    UA_FAMILIES.map((u) => DEVICE_OF_UA[u]!),
    'ua',
  );
  const device = `CASE WHEN ${uaDevice} = 'mobile' AND ${r.u('tablet')} < 0.12 THEN 'tablet' ELSE ${uaDevice} END`;
  const pool = pa.of(arch.map((a) => a.profile.ipPool ?? 0));
  const uIpNet = r.u('ip_net');
  const uIpHost = r.u('ip_host');
  const second = `(${lookup(
    ASN_TYPES.map((t) => ASN_SECOND_OCTET[t]![0]),
    'asn',
  )} + CASE WHEN ${pool} > 0 THEN 0 ELSE floor(${uIpNet} * ${lookup(
    ASN_TYPES.map((t) => ASN_SECOND_OCTET[t]![1]),
    'asn',
  )}) END)::BIGINT`;
  // 254 hosts per /24 (no .0 network or .255 broadcast address), 256 /24s per /16.
  const host = `(CASE WHEN ${pool} > 0 THEN floor(${uIpHost} * ${pool}) ELSE floor(${uIpHost} * 65024) END)::BIGINT`;
  const clientIp = `'10.' || ${second} || '.' || (${host} // 254) || '.' || (1 + ${host} % 254)`;
  const userAgent = userAgentSql(r.u('ua_version'), r.u('ua_variant'));

  const base: Record<(typeof SYNTH_BASE_COLUMNS)[number], string> = {
    session_id: `'s' || lpad(i::VARCHAR, ${idWidth}, '0')`,
    ts: `make_timestamp(${startUs.toString()} + ms * 1000)`,
    label: `(${label})::INTEGER`,
    country: lookup(countries, 'ci'),
    device_class: device,
    archetype: pa.of(arch.map((a) => a.name)),
    client_ip: clientIp,
    user_agent: userAgent,
  };

  const sqlType = { number: 'DOUBLE', boolean: 'BOOLEAN', category: 'VARCHAR' } as const;
  const select = [
    ...SYNTH_BASE_COLUMNS.map((c) => `${base[c]} AS ${c}`),
    ...SYNTH_FEATURES.map((f) => `CAST(${features[f.name]} AS ${sqlType[f.type]}) AS ${f.name}`),
  ];

  // Each layer selects `*` from the one before, so draws and earlier results flow through;
  // DuckDB prunes whatever the final projection does not use.
  return `WITH
  -- range() is a single-threaded source; reading it back through a sort (of values already in
  -- order, so cheap) gives a parallel, order-preserving scan for everything downstream.
  ids AS (${opts.idsTable ? `SELECT i FROM ${opts.idsTable}` : `SELECT range AS i FROM range(${N}) ORDER BY range`}),
  seeded AS (SELECT i, hash(i, ${S}) AS hs FROM ids),
  hashed AS (SELECT i, ${r.hashColumns().join(', ')} FROM seeded),
  rand AS (SELECT *, ${r.uniformColumns().join(',\n    ')} FROM hashed),
  normal AS (SELECT *, ${r.normalColumns().join(',\n    ')} FROM rand),
  who AS (SELECT *, ${who} FROM normal),
  bound AS (SELECT *, ${pa.columns().join(',\n    ')} FROM who),
  placed AS (SELECT *, ${placed.join(', ')} FROM bound),
  timed AS (SELECT *, ${timed.join(', ')} FROM placed),
  wrapped AS (SELECT *, ${wrapped.join(', ')} FROM timed),
  latent AS (SELECT *, ${latent.join(',\n    ')} FROM wrapped),
  counted AS (SELECT *, ${counted.join(', ')} FROM latent),
  shaped AS (SELECT *, ${pages} AS pages FROM counted),
  detailed AS (SELECT *, ${assets} AS assets, ${loginCount} AS login FROM shaped),
  errors AS (SELECT *, ${loginFails} AS login_fails, ${otherErrors} AS other_errors FROM detailed)
SELECT
  ${select.join(',\n  ')}
FROM errors`;
}
