/**
 * Requests -> sessions, in SQL: a visitor key, an inactivity gap (window functions) over narrow
 * per-line rows, then one aggregate per session built from LOG_FEATURES, and a map from each line
 * to its session. Session ids are assigned in order of the session's first request (ties by
 * key), so the same log always gives the same ids.
 */
import { quoteIdent, quoteString, type Param } from '../../db/store.js';
import type { LogsConfig } from '../../config/logs.js';
import { LOG_FEATURES } from './features.js';

/**
 * The visitor key's parts over canonical request columns: the ip and the user agent (NULL and ''
 * are one agent in a key: the same visitor), the ip, or a JSON field's raw value (validated as a
 * field path by the config schema).
 */
function keyParts(key: string): string[] {
  if (key === 'ip+ua') return ['ip', 'ua'];
  if (key === 'ip') return ['ip'];
  return ['key_field'];
}

/** A path's file extension, lower-cased ('' for none): a column `ext` read by EXT_CLASS. */
// a path without a dot has none (the regular expression is not run for it)
const EXT = `CASE WHEN contains(path, '.') THEN lower(regexp_extract(path, '\\.([A-Za-z0-9]{1,8})$', 1)) ELSE '' END`;
const inList = (values: string) => `list_contains([${values}], ext)`;
const EXT_CLASS = `(CASE
    WHEN path = '/robots.txt' THEN 'other'
    WHEN path LIKE '%/' OR ${inList(`'', 'html', 'htm', 'php', 'asp', 'aspx', 'jsp', 'cgi', 'shtml'`)} THEN 'html'
    WHEN ${inList(`'png', 'jpg', 'jpeg', 'gif', 'svg', 'ico', 'webp', 'bmp', 'avif', 'tif', 'tiff'`)} THEN 'image'
    WHEN ${inList(`'css', 'js', 'mjs', 'map', 'woff', 'woff2', 'ttf', 'otf', 'eot'`)} THEN 'static'
    WHEN ${inList(`'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'txt', 'csv', 'zip', 'gz', 'tgz', 'tar', 'rar', '7z'`)} THEN 'document'
    ELSE 'other' END)::ENUM('html', 'image', 'static', 'document', 'other')`;

/**
 * What the features read of the method, the protocol and the status, as DuckDB ENUMs: one byte
 * each through the sessionizing sort (which carries every column), compared as text.
 */
const METHOD = `(CASE WHEN r.method IN ('GET', 'HEAD', 'POST') THEN r.method ELSE 'other' END)::ENUM('GET', 'HEAD', 'POST', 'other')`;
const VERSION = `(CASE r.protocol WHEN 'HTTP/1.0' THEN '1.0' WHEN 'HTTP/1.1' THEN '1.1' WHEN 'HTTP/2.0' THEN '2' WHEN 'HTTP/2' THEN '2' WHEN 'HTTP/3' THEN '3'
  ELSE CASE WHEN r.protocol IS NOT NULL THEN 'other' END END)::ENUM('1.0', '1.1', '2', '3', 'other')`;
const STATUS_CLASS = `(CASE WHEN r.status BETWEEN 200 AND 299 THEN '2xx' WHEN r.status BETWEEN 300 AND 399 THEN '3xx'
  WHEN r.status BETWEEN 400 AND 499 THEN '4xx' WHEN r.status BETWEEN 500 AND 599 THEN '5xx' WHEN r.status IS NOT NULL THEN 'other' END
  )::ENUM('2xx', '3xx', '4xx', '5xx', 'other')`;

/** Host of a referrer URL, lower-cased, without a leading www. */
export const REF_HOST = `nullif(regexp_replace(lower(regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), '^www\\.', ''), '')`;

/** The per-line flags the features read, packed into one byte through the sort (a boolean column is a byte and a validity bit each). */
const FLAGS = ['is_login', 'robots', 'sitemap', 'no_referrer', 'insite', 'no_ua', 'night', 'ua_bot'] as const;

/** The flags' expressions as one UTINYINT (an unknown counts as false, as the features read it). */
function packFlags(exprs: Record<(typeof FLAGS)[number], string>): string {
  return `(${FLAGS.map((f, i) => `CASE WHEN ${exprs[f]} THEN ${1 << i} ELSE 0 END`).join(' + ')})::UTINYINT`;
}

/** Each flag back as a boolean column of its name. */
function unpackFlags(flags: string): string {
  return FLAGS.map((f, i) => `(${flags} & ${1 << i}) <> 0 AS ${f}`).join(', ');
}

/** seq = file_no * LINE_SPAN + line_no: a file of fewer than 2^40 lines. */
const LINE_SPAN = 2 ** 40;

export interface Statement {
  sql: string;
  params: Param[];
}

export interface SessionizeSql {
  /**
   * Run in order: the temporary tables of `temp` (visitor keys, distinct paths, the narrow
   * per-line rows with their session, one aggregate row per session), then the session map
   * `map` (file_no, line_no, session_id, gap: one row per usable line).
   */
  steps: Statement[];
  temp: string[];
  /** One row per session, in session order: the sessions table. */
  sessions: Statement;
}

/** The temporary tables sessionizeSql makes under `prefix`: keys, paths, lines, spans, agg. */
export function tempTables(prefix: string): [string, string, string, string, string] {
  return [`${prefix}_keys`, `${prefix}_paths`, `${prefix}_lines`, `${prefix}_spans`, `${prefix}_agg`];
}

/**
 * @param source parsed requests (file_no, line_no, ip, ts, method, path, query, protocol, status, bytes, referrer, ua, host, key_field, ref_host)
 * @param out the tables to write: the session map (`map`) and a prefix for the temporary tables
 * @param hosts the site's own hosts (lower-case, no www.), for in-site referrers; empty: compare with the request's host
 * @param labels table (ua VARCHAR, ua_id INTEGER, bot BOOLEAN): an id and the weak label of each distinct user agent
 */
export function sessionizeSql(
  source: string,
  out: { map: string; prefix: string },
  logs: LogsConfig,
  gapSeconds: number,
  hosts: readonly string[],
  data: { id: string; time: string; label: string },
  labels: string,
): SessionizeSql {
  const [keys, paths, lines, spans, agg] = tempTables(out.prefix);
  const parts = keyParts(logs.key);
  // With the user agent in the key, its id and weak label are looked up once per key, not per line.
  const uaInKey = logs.key === 'ip+ua';
  // The visitor keys, numbered in key order (the parts joined by a tab, then the parts: a NULL
  // and an empty agent are one key): the sort below is on a number, not on a long ip + user-agent
  // string, and ties between sessions starting at once still go by key. Key and path ids are
  // INTEGERs (4 bytes through the sort, not 8): a log has fewer than 2^31 visitors and paths.
  const order = uaInKey ? `k0 || chr(9) || coalesce(k1, ''), k0, coalesce(k1, '')` : 'k0';
  const keysSql = `CREATE TEMP TABLE ${keys} AS
    SELECT k.*, dense_rank() OVER (ORDER BY ${order})::INTEGER AS key_id${uaInKey ? ', lb.ua_id, coalesce(lb.bot, false) AS ua_bot' : ''}
    FROM (SELECT DISTINCT ${parts.map((p, i) => `${p} AS k${i}`).join(', ')} FROM ${source}) k${uaInKey ? ` LEFT JOIN ${labels} lb ON lb.ua = k.k1` : ''}`;
  const keyJoin = parts.map((p, i) => (uaInKey && i === 1 ? `k.k1 IS NOT DISTINCT FROM r.${p}` : `k.k${i} = r.${p}`)).join(' AND ');
  const login = logs.login_paths.map((p) => `(?:${p})`).join('|');
  // What depends on the path alone (depth, kind of content, login path) is computed once per
  // distinct path, then joined: a log requests far fewer paths than it has lines.
  const pathsSql = `CREATE TEMP TABLE ${paths} AS
    SELECT path, row_number() OVER ()::INTEGER AS path_id,
      len(list_filter(string_split(path, '/'), x -> x <> ''))::INTEGER AS depth,
      ${EXT_CLASS} AS ext_class,
      -- inlined as a quoted literal (not a parameter) so RE2 compiles the pattern once, not per row
      regexp_matches(lower(path), ${quoteString(login)}) AS is_login,
      path = '/robots.txt' AS robots, path LIKE '/sitemap%' AS sitemap
    FROM (SELECT path, ${EXT} AS ext FROM (SELECT DISTINCT path FROM ${source}))`;
  // request times are UTC: in UTC the local hour is the hour (no time-zone conversion per row)
  const utc = logs.tz.toUpperCase() === 'UTC';
  const insite = hosts.length
    ? `list_contains(string_split(?, chr(0)), r.ref_host)`
    : `r.ref_host IS NOT NULL AND r.ref_host = regexp_replace(lower(r.host), '^www\\.', '')`;
  // One narrow row per usable line, in one pass (its place in the log, file and line, as one
  // number: seq, a shorter sort key): what the features read of the line (codes and flags, not the
  // long path, referrer or user agent), the gap to the previous request of the key, and whether
  // the line starts or ends a session (a gap longer than the limit before or after it). One sort
  // of the lines: the sessions' bounds are read from the few lines that start or end one, not
  // from a running count over every line (a second sort of them all).
  const linesSql = `CREATE TEMP TABLE ${lines} AS
    WITH n AS (
      SELECT r.file_no::BIGINT * ${LINE_SPAN} + r.line_no AS seq, r.ts, k.key_id, p.path_id, ${METHOD} AS method, ${STATUS_CLASS} AS status_class, r.bytes,
        ${VERSION} AS version, p.depth, p.ext_class, ${uaInKey ? 'k.ua_id' : 'lb.ua_id'},
        ${packFlags({
          is_login: 'p.is_login',
          robots: 'p.robots',
          sitemap: 'p.sitemap',
          no_referrer: "r.referrer IS NULL OR r.referrer = ''",
          insite,
          no_ua: "r.ua IS NULL OR r.ua = ''",
          night: utc ? 'hour(r.ts) < 6' : `hour(timezone(?, timezone('UTC', r.ts))) < 6`,
          ua_bot: uaInKey ? 'k.ua_bot' : 'lb.bot',
        })} AS flags
      FROM ${source} r JOIN ${keys} k ON ${keyJoin} JOIN ${paths} p ON p.path = r.path${uaInKey ? '' : ` LEFT JOIN ${labels} lb ON lb.ua = r.ua`}),
    g AS (
      SELECT *, epoch(ts - lag(ts) OVER w) AS since_prev, epoch(lead(ts) OVER w - ts) AS until_next FROM n
      WINDOW w AS (PARTITION BY key_id ORDER BY ts, seq))
    SELECT * EXCLUDE (since_prev, until_next), CASE WHEN since_prev > ? THEN NULL ELSE since_prev END AS gap,
      since_prev IS NULL OR since_prev > ? AS starts, until_next IS NULL OR until_next > ? AS ends
    FROM g`;
  const linesParams: Param[] = [...(hosts.length ? [[...hosts].join('\u0000')] : []), ...(utc ? [] : [logs.tz]), gapSeconds, gapSeconds, gapSeconds];
  // Each session's first and last time (a key's sessions in time order: its k-th start and k-th
  // end, whose times never tie within a key), numbered in order of the first request (ties by
  // key), and listed once per time bucket it spans (buckets as wide as the gap, at least a
  // second). A line finds its session among those of its key and bucket: sessions of a key are
  // more than the gap apart, so no two of them share a bucket (for gaps under a second, at most
  // one per distinct time in it), and a session spans no more buckets than it has lines (its
  // requests are at most the gap apart).
  const bucketUs = Math.round(Math.max(gapSeconds, 1) * 1e6);
  const bucket = (ts: string) => `epoch_us(${ts}) // ${bucketUs}`;
  const spansSql = `CREATE TEMP TABLE ${spans} AS
    WITH s AS (SELECT key_id, ts, row_number() OVER (PARTITION BY key_id ORDER BY ts) AS sn FROM ${lines} WHERE starts),
    e AS (SELECT key_id, ts, row_number() OVER (PARTITION BY key_id ORDER BY ts) AS sn FROM ${lines} WHERE ends),
    b AS (SELECT key_id, sn, s.ts AS first_ts, e.ts AS last_ts FROM s JOIN e USING (key_id, sn))
    SELECT row_number() OVER (ORDER BY first_ts, key_id, sn) AS session_id, key_id, first_ts, last_ts,
      unnest(range(${bucket('first_ts')}, ${bucket('last_ts')} + 1)) AS b
    FROM b`;
  const withSession = `SELECT p.session_id, l.* EXCLUDE (flags), ${unpackFlags('l.flags')} FROM ${lines} l JOIN ${spans} p
    ON p.key_id = l.key_id AND p.b = ${bucket('l.ts')} AND l.ts BETWEEN p.first_ts AND p.last_ts`;
  // With the user agent in the key, a session's agents are one value (or '' and NULL, which the
  // key does not tell apart): its agent is any of them, without counting them. Otherwise the most
  // common one, ties to the first in order (a mode would pick any of them, run to run).
  const uaOfSession = uaInKey
    ? ''
    : `,
    su AS (
      SELECT session_id, arg_max(ua_id, (c, -ua_id)) AS ua_id
      FROM (SELECT session_id, ua_id, count(*) AS c FROM j WHERE ua_id IS NOT NULL GROUP BY session_id, ua_id) GROUP BY session_id)`;
  const perLine = LOG_FEATURES.filter((f) => !f.session).map((f) => `${f.sql} AS ${quoteIdent(f.name)}`);
  // One aggregate row per session. The distinct paths and the path entropy -sum(p log2 p),
  // p = the path's share of the session's requests, come from one count per session and path; the
  // terms are summed as integers of 1e-15 (exact, so in any order): a parallel sum of doubles adds
  // them in any order, and two runs on the real log gave 60-150 of its sessions a different last digit.
  const aggSql = `CREATE TEMP TABLE ${agg} AS
    WITH j AS NOT MATERIALIZED (${withSession}),
    sp AS MATERIALIZED (SELECT session_id, count(*) AS c FROM j GROUP BY session_id, path_id),
    pe AS (
      SELECT session_id, count(*) AS distinct_paths, CAST(sum(CAST(round(-1e15 * (c / n) * log2(c / n)) AS BIGINT)) AS DOUBLE) / 1e15 AS path_entropy
      FROM sp JOIN (SELECT session_id, sum(c) AS n FROM sp GROUP BY session_id) USING (session_id)
      GROUP BY session_id),
    a AS (
      SELECT session_id, min(ts) AS first_ts, count(*) AS requests, bool_or(ua_bot) AS ua_bot,${uaInKey ? ' any_value(ua_id) AS ua_id,' : ''}
        ${perLine.join(',\n        ')}
      FROM j GROUP BY session_id)${uaOfSession}
    SELECT a.*, pe.distinct_paths, pe.path_entropy, lb.ua
    FROM a JOIN pe USING (session_id)${uaInKey ? '' : ' LEFT JOIN su USING (session_id)'} LEFT JOIN ${labels} lb ON lb.ua_id = ${uaInKey ? 'a' : 'su'}.ua_id`;
  const mapSql = `CREATE TABLE ${out.map} AS
    SELECT (seq // ${LINE_SPAN})::INTEGER AS file_no, seq % ${LINE_SPAN} AS line_no, session_id, gap FROM (${withSession})`;
  const features = LOG_FEATURES.map((f) => (f.session ? `${f.sql} AS ${quoteIdent(f.name)}` : quoteIdent(f.name)));
  const sessions = `
    SELECT session_id AS ${quoteIdent(data.id)}, first_ts AS ${quoteIdent(data.time)},
      CASE WHEN ua_bot THEN 1 ELSE ${logs.unlabelled === 'human' ? '0' : 'NULL'} END::INTEGER AS ${quoteIdent(data.label)},
      ${features.join(',\n      ')}
    FROM ${agg} ORDER BY session_id`;
  return {
    steps: [
      { sql: keysSql, params: [] },
      { sql: pathsSql, params: [] },
      { sql: linesSql, params: linesParams },
      { sql: spansSql, params: [] },
      { sql: aggSql, params: [] },
      { sql: mapSql, params: [] },
    ],
    temp: [keys, paths, lines, spans, agg],
    sessions: { sql: sessions, params: [] },
  };
}
