/**
 * Session features from access logs: one table that is both the SQL (an aggregate over a
 * session's requests) and the catalog entry written to features.yaml, so the two cannot drift.
 *
 * The aggregates run over the session's requests as narrow per-line columns computed once in
 * sessionize.ts (long strings such as the path, the referrer and the user agent are not carried):
 * `ts`, `seq` (the line's place in the log), `method` (GET|HEAD|POST|other), `status_class`
 * (2xx|3xx|4xx|5xx|other), `bytes`, `version` (the HTTP version: 1.0|1.1|2|3|other), `gap` (seconds since
 * the previous request of the session, NULL for the first), `depth` (non-empty path segments),
 * `ext_class` (html|image|static|document|other), `is_login` (login path), `robots` (/robots.txt),
 * `sitemap` (/sitemap...), `no_referrer`, `insite` (referrer from the site itself), `no_ua`, `night`
 * (local hour < 6). A feature marked `session` is instead an expression over the session's own
 * columns: `requests` (its count), `distinct_paths` and `path_entropy` (from one count per session
 * and path) and `ua`, its user agent (the most common one), read once per session.
 */
import type { Feature } from '../../catalog/schema.js';

export interface LogFeature {
  name: string;
  /** Aggregate SQL over the session's requests, or with `session`, an expression over the session's own columns (see above). */
  sql: string;
  session?: true;
  catalog: Omit<Feature, 'name' | 'sensitive'> & { sensitive?: boolean };
}

const share = (cond: string) => `avg(CASE WHEN ${cond} THEN 1.0 ELSE 0.0 END)`;
const ratio = (name: string, cond: string, label: string, description: string): LogFeature => ({
  name,
  sql: share(cond),
  catalog: { type: 'number', unit: 'share', label, description, range: [0, 1] },
});

/** User-agent families, in the order they are tested (a crawler also says "Mozilla/5.0 ... Chrome"). */
export const UA_FAMILIES = ['none', 'crawler', 'http_library', 'edge', 'opera', 'chrome', 'firefox', 'safari', 'ie', 'other'] as const;

/** The family of a user-agent expression, in SQL. */
export function uaFamilySql(ua: string): string {
  return `CASE WHEN ${ua} IS NULL OR ${ua} = '' THEN 'none'
    WHEN regexp_matches(${ua}, '(?i)(bot|crawl|spider|slurp|archiver|feedfetcher|facebookexternalhit|mediapartners)') THEN 'crawler'
    WHEN regexp_matches(${ua}, '(?i)^(curl|wget|python|java|go-http|okhttp|libwww|lwp|ruby|php|node|axios|apache-httpclient|scrapy|httpie|powershell)')
      THEN 'http_library'
    WHEN regexp_matches(${ua}, 'Edge?/') THEN 'edge'
    WHEN regexp_matches(${ua}, '(OPR/|Opera)') THEN 'opera'
    WHEN regexp_matches(${ua}, '(Chrome|CriOS|Chromium)/') THEN 'chrome'
    WHEN regexp_matches(${ua}, '(Firefox|FxiOS)/') THEN 'firefox'
    WHEN regexp_matches(${ua}, 'Safari/') THEN 'safari'
    WHEN regexp_matches(${ua}, '(MSIE |Trident/)') THEN 'ie'
    ELSE 'other' END`;
}

/** A user agent that no real client sends: too short, or without a product/version token. */
export function uaMalformedSql(ua: string): string {
  return `(${ua} IS NOT NULL AND ${ua} <> '' AND (length(${ua}) < 8 OR NOT regexp_matches(${ua}, '[A-Za-z][A-Za-z0-9._-]*/[0-9]')))`;
}

/** The HTTP versions a request can use (column `version`), oldest first. */
const VERSIONS = ['1.0', '1.1', '2', '3', 'other'];

/**
 * The version most of the session's requests used, from one count per version (cheaper than a
 * mode, which keeps a map per session, and it breaks ties the same way every time: the older);
 * 'none' when no request said.
 */
function mostUsedVersion(): string {
  const counts = `[${VERSIONS.map((v) => `count(*) FILTER (WHERE version = '${v}')`).join(', ')}]`;
  return `CASE WHEN count(version) = 0 THEN 'none' ELSE [${VERSIONS.map((v) => `'${v}'`).join(', ')}][list_position(${counts}, list_max(${counts}))] END`;
}

export const LOG_FEATURES: readonly LogFeature[] = [
  // volume and timing
  {
    name: 'request_count',
    sql: 'count(*)',
    catalog: { type: 'number', unit: 'requests', label: 'requests in the session', description: 'Requests made in the session.', range: [1, null] },
  },
  {
    name: 'duration_s',
    sql: 'epoch(max(ts) - min(ts))',
    catalog: {
      type: 'number',
      unit: 's',
      label: 'session length',
      description: 'Seconds from the first to the last request of the session.',
      range: [0, null],
    },
  },
  {
    name: 'requests_per_minute',
    sql: 'count(*) * 60.0 / greatest(epoch(max(ts) - min(ts)), 60)',
    catalog: {
      type: 'number',
      unit: 'requests/min',
      label: 'requests per minute',
      description: 'Requests divided by the session length in minutes, counting a session shorter than a minute as one minute.',
      range: [0, null],
    },
  },
  {
    name: 'gap_mean_s',
    sql: 'avg(gap)',
    catalog: {
      type: 'number',
      unit: 's',
      label: 'mean pause between requests',
      description: 'Mean seconds between consecutive requests; empty for a single-request session.',
      range: [0, null],
    },
  },
  {
    name: 'gap_stdev_s',
    sql: 'stddev_samp(gap)',
    catalog: {
      type: 'number',
      unit: 's',
      label: 'spread of pauses',
      description: 'Standard deviation of the seconds between consecutive requests; empty with fewer than three requests.',
      range: [0, null],
    },
  },
  {
    name: 'gap_cv',
    sql: 'stddev_samp(gap) / nullif(avg(gap), 0)',
    catalog: {
      type: 'number',
      label: 'irregularity of pauses',
      description: 'Coefficient of variation of the pauses between requests (standard deviation over mean): near 0 is machine-regular timing.',
      range: [0, null],
    },
  },
  {
    name: 'burstiness',
    sql: '(stddev_samp(gap) - avg(gap)) / nullif(stddev_samp(gap) + avg(gap), 0)',
    catalog: {
      type: 'number',
      label: 'burstiness',
      description: 'Burstiness of the pauses, (sd - mean) / (sd + mean): -1 perfectly regular, 0 random, near 1 bursts and long silences.',
      range: [-1, 1],
    },
  },
  ratio('night_share', 'night', 'share of requests at night', 'Share of the requests made between midnight and 6 am in the configured time zone (logs.tz).'),
  // navigation
  {
    name: 'distinct_paths',
    sql: 'distinct_paths',
    session: true,
    catalog: { type: 'number', unit: 'paths', label: 'distinct paths', description: 'Different paths requested in the session.', range: [0, null] },
  },
  {
    name: 'distinct_path_share',
    sql: 'distinct_paths / requests',
    session: true,
    catalog: {
      type: 'number',
      unit: 'share',
      label: 'share of distinct paths',
      description: 'Distinct paths divided by requests: 1 when no path is requested twice.',
      range: [0, 1],
    },
  },
  {
    name: 'revisits',
    sql: 'requests - distinct_paths',
    session: true,
    catalog: {
      type: 'number',
      unit: 'requests',
      label: 'repeated requests',
      description: 'Requests to a path the session had already requested.',
      range: [0, null],
    },
  },
  {
    name: 'path_depth_mean',
    sql: 'avg(depth)',
    catalog: {
      type: 'number',
      unit: 'segments',
      label: 'mean path depth',
      description: 'Mean number of segments in the requested paths (/a/b is 2).',
      range: [0, null],
    },
  },
  {
    name: 'path_depth_max',
    sql: 'max(depth)',
    catalog: { type: 'number', unit: 'segments', label: 'deepest path', description: 'Largest number of segments in a requested path.', range: [0, null] },
  },
  ratio(
    'insite_referrer_share',
    'insite',
    'share of in-site referrers',
    "Share of the requests whose referrer is a page of the site itself (logs.hosts, or the log's most common referring host).",
  ),
  ratio('empty_referrer_share', 'no_referrer', 'share of requests without a referrer', 'Share of the requests that sent no referrer.'),
  {
    name: 'path_entropy',
    sql: 'path_entropy',
    session: true,
    catalog: {
      type: 'number',
      unit: 'bits',
      label: 'path entropy',
      description: 'Shannon entropy of the paths requested in the session: 0 when one path is hit repeatedly, higher for varied browsing.',
      range: [0, null],
    },
  },
  {
    name: 'deep_link_start',
    sql: 'arg_min(depth, (ts, seq)) >= 2',
    catalog: { type: 'boolean', label: 'starts on a deep link', description: 'The first request of the session is for a path two or more segments deep.' },
  },
  // content and protocol
  ratio('html_share', "ext_class = 'html'", 'share of page requests', 'Share of the requests for pages (no file extension, or .html, .php and similar).'),
  ratio('image_share', "ext_class = 'image'", 'share of image requests', 'Share of the requests for images.'),
  ratio('static_share', "ext_class = 'static'", 'share of script and style requests', 'Share of the requests for static assets: scripts, style sheets, fonts.'),
  ratio(
    'document_share',
    "ext_class = 'document'",
    'share of document requests',
    'Share of the requests for documents and archives (pdf, office files, zip and similar).',
  ),
  ratio('head_share', "method = 'HEAD'", 'share of HEAD requests', 'Share of the requests made with the HEAD method.'),
  ratio('post_share', "method = 'POST'", 'share of POST requests', 'Share of the requests made with the POST method.'),
  ratio('other_method_share', "method = 'other'", 'share of other methods', 'Share of the requests made with a method other than GET, HEAD or POST.'),
  ratio('status_2xx_share', "status_class = '2xx'", 'share of successful responses', 'Share of the requests answered with a 2xx status.'),
  ratio('status_3xx_share', "status_class = '3xx'", 'share of redirects', 'Share of the requests answered with a 3xx status.'),
  ratio(
    'status_4xx_share',
    "status_class = '4xx'",
    'share of client errors',
    'Share of the requests answered with a 4xx status (not found, forbidden and similar).',
  ),
  ratio('status_5xx_share', "status_class = '5xx'", 'share of server errors', 'Share of the requests answered with a 5xx status.'),
  {
    name: 'bytes_total',
    sql: 'coalesce(sum(bytes), 0)',
    catalog: { type: 'number', unit: 'bytes', label: 'bytes sent', description: 'Bytes sent to the client over the session.', range: [0, null] },
  },
  {
    name: 'bytes_mean',
    sql: 'avg(bytes)',
    catalog: { type: 'number', unit: 'bytes', label: 'bytes per response', description: 'Mean bytes sent per response.', range: [0, null] },
  },
  {
    name: 'robots_txt_fetched',
    sql: 'bool_or(robots)',
    catalog: { type: 'boolean', label: 'fetched robots.txt', description: 'The session requested /robots.txt, which browsers never do by themselves.' },
  },
  {
    name: 'sitemap_fetched',
    sql: 'bool_or(sitemap)',
    catalog: { type: 'boolean', label: 'fetched a sitemap', description: 'The session requested a sitemap file.' },
  },
  {
    name: 'login_post_count',
    sql: "count(*) FILTER (WHERE method = 'POST' AND is_login)",
    catalog: { type: 'number', unit: 'requests', label: 'login attempts', description: 'POST requests to a login path (logs.login_paths).', range: [0, null] },
  },
  {
    name: 'http_version',
    sql: mostUsedVersion(),
    catalog: {
      type: 'category',
      label: 'HTTP version',
      description: 'The HTTP version most of the session used (the older of two used equally often).',
      values: ['1.0', '1.1', '2', '3', 'none', 'other'],
    },
  },
  // technical: derived from the user agent, which is also where the weak label comes from
  {
    name: 'ua_family',
    sql: uaFamilySql('ua'),
    session: true,
    catalog: {
      type: 'category',
      label: 'browser family',
      description: 'Family of the user agent the session sent (a crawler, an HTTP library, or a browser).',
      values: [...UA_FAMILIES],
      leak: true,
    },
  },
  {
    name: 'ua_missing',
    sql: 'bool_and(no_ua)',
    catalog: { type: 'boolean', label: 'sends no user agent', description: 'The session sent no user agent at all.', leak: true },
  },
  {
    name: 'ua_malformed',
    sql: uaMalformedSql('ua'),
    session: true,
    catalog: {
      type: 'boolean',
      label: 'sends a malformed user agent',
      description: 'The user agent is too short or has no product/version token, as no real browser sends.',
      leak: true,
    },
  },
  {
    name: 'user_agent',
    sql: 'ua',
    session: true,
    catalog: {
      type: 'category',
      label: 'user agent',
      description: 'The user-agent string itself (kept for investigation; never shown to a model).',
      values: 'open',
      sensitive: true,
      leak: true,
    },
  },
];

/** The catalog entries for the log features, in the order above. */
export function logCatalog(): Feature[] {
  return LOG_FEATURES.map((f) => ({ name: f.name, ...f.catalog, sensitive: f.catalog.sensitive ?? false }) as Feature);
}
