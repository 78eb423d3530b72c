/**
 * Requests -> sessions, in SQL: a visitor key, an inactivity gap (window functions), then one
 * aggregate per session built from LOG_FEATURES. Session ids are assigned in order of the
 * session's first request (ties by key), so the same log always gives the same ids.
 */
import { quoteIdent, quoteString, type Param } from '../../db/store.js';
import type { LogsConfig } from '../../config/logs.js';
import { LOG_FEATURES } from './features.js';

/**
 * The key's parts over canonical request columns: ip+ua, ip, or a JSON field's raw value. Keys
 * are ordered (for session ids) as the parts joined by a tab, the ip+ua key as one string.
 */
export function keyParts(key: string, table = ''): string[] {
  const t = table ? `${table}.` : '';
  if (key === 'ip+ua') return [`${t}ip`, `coalesce(${t}ua, '')`];
  if (key === 'ip') return [`${t}ip`];
  // A mapped JSON field: read from the raw line (validated as a field path by the config schema).
  return [`${t}key_field`];
}

/** A path's file extension, lower-cased ('' for none): a column `ext` read by EXT_CLASS. */
// a path without a dot has none (the regular expression is not run for it)
const EXT = `CASE WHEN contains(path, '.') THEN lower(regexp_extract(path, '\\.([A-Za-z0-9]{1,8})$', 1)) ELSE '' END`;
const inList = (values: string) => `list_contains([${values}], ext)`;
const EXT_CLASS = `CASE
    WHEN path = '/robots.txt' THEN 'other'
    WHEN path LIKE '%/' OR ${inList(`'', 'html', 'htm', 'php', 'asp', 'aspx', 'jsp', 'cgi', 'shtml'`)} THEN 'html'
    WHEN ${inList(`'png', 'jpg', 'jpeg', 'gif', 'svg', 'ico', 'webp', 'bmp', 'avif', 'tif', 'tiff'`)} THEN 'image'
    WHEN ${inList(`'css', 'js', 'mjs', 'map', 'woff', 'woff2', 'ttf', 'otf', 'eot'`)} THEN 'static'
    WHEN ${inList(`'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'txt', 'csv', 'zip', 'gz', 'tgz', 'tar', 'rar', '7z'`)} THEN 'document'
    ELSE 'other' END`;

/** Host of a referrer URL, lower-cased, without a leading www. */
export const REF_HOST = `nullif(regexp_replace(lower(regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), '^www\\.', ''), '')`;

export interface Statement {
  sql: string;
  params: Param[];
  /** The rows' order does not matter: the statement may write them in any order (in parallel). */
  unordered?: boolean;
}

export interface SessionizeSql {
  /**
   * Adds session ids and derived columns to the parsed requests: `source` -> `target`, run in
   * order; the temporary tables they make are in `temp`.
   */
  requests: Statement[];
  temp: string[];
  /** One row per session from the sessionized requests. */
  sessions: Statement;
}

/**
 * @param source parsed requests (file_no, line_no, ip, ts, method, path, query, protocol, status, bytes, referrer, ua, host, key_field, ref_host)
 * @param hosts the site's own hosts (lower-case, no www.), for in-site referrers; empty: compare with the request's host
 * @param labels table (ua VARCHAR, bot BOOLEAN): the weak label of each distinct user agent
 */
export function sessionizeSql(
  source: string,
  target: string,
  logs: LogsConfig,
  gapSeconds: number,
  hosts: readonly string[],
  data: { id: string; time: string; label: string },
  labels: string,
): SessionizeSql {
  const keys = `${target}_keys`;
  const map = `${target}_sessions`;
  const paths = `${target}_paths`;
  const parts = keyParts(logs.key);
  // The visitor keys, numbered in key order: the sort below is on a number, not on a long
  // ip + user-agent string, and ties between sessions starting at once still go by key.
  const keysSql = `CREATE TEMP TABLE ${keys} AS
    SELECT *, row_number() OVER (ORDER BY ${parts.map((_, i) => `k${i}`).join(` || chr(9) || `)}) AS key_id
    FROM (SELECT DISTINCT ${parts.map((p, i) => `${p} AS k${i}`).join(', ')} FROM ${source})`;
  // Sessions over the narrow rows only (the sort carries a key, a time and the line, not the
  // whole request): the gap to the previous request of the key, a running count of gaps longer
  // than the limit, and session ids in order of the session's first request.
  const mapSql = `CREATE TEMP TABLE ${map} AS
    WITH n AS (
      SELECT r.file_no, r.line_no, r.ts, k.key_id FROM ${source} r JOIN ${keys} k ON ${keyParts(logs.key, 'r')
        .map((p, i) => `k.k${i} = ${p}`)
        .join(' AND ')}),
    g AS (
      SELECT *, epoch(ts - lag(ts) OVER w) AS since_prev FROM n
      WINDOW w AS (PARTITION BY key_id ORDER BY ts, file_no, line_no)),
    s AS (
      SELECT *, sum(CASE WHEN since_prev > ? THEN 1 ELSE 0 END) OVER (PARTITION BY key_id ORDER BY ts, file_no, line_no ROWS UNBOUNDED PRECEDING) AS sn FROM g),
    ids AS (
      SELECT key_id, sn, row_number() OVER (ORDER BY min(ts), key_id, sn) AS session_id FROM s GROUP BY key_id, sn)
    SELECT s.file_no, s.line_no, ids.session_id, CASE WHEN s.since_prev > ? THEN NULL ELSE s.since_prev END AS gap FROM s JOIN ids USING (key_id, sn)`;
  const login = logs.login_paths.map((p) => `(?:${p})`).join('|');
  // request times are UTC: in UTC the local hour is the hour (no time-zone conversion per row)
  const utc = logs.tz.toUpperCase() === 'UTC';
  // What depends on the path alone (depth, kind of content, login path) is computed once per
  // distinct path, then joined: a log requests far fewer paths than it has lines.
  const pathsSql = `CREATE TEMP TABLE ${paths} AS
    SELECT path,
      len(list_filter(string_split(path, '/'), x -> x <> '')) AS depth,
      ${EXT_CLASS} AS ext_class,
      -- inlined as a quoted literal (not a parameter) so RE2 compiles the pattern once, not per row
      regexp_matches(lower(path), ${quoteString(login)}) AS is_login
    FROM (SELECT path, ${EXT} AS ext FROM (SELECT DISTINCT path FROM ${source}))`;
  const requests = `CREATE TABLE ${target} AS
    SELECT m.session_id, r.file_no, r.line_no, r.ip, r.ts, r.method, r.path, r.query, r.protocol, r.status, r.bytes, r.referrer, r.ua, r.host,
      m.gap, pd.depth, pd.ext_class, r.ref_host, pd.is_login,
      ${utc ? 'hour(r.ts) < 6' : `hour(timezone(?, timezone('UTC', r.ts))) < 6`} AS night,
      coalesce(lb.bot, false) AS ua_bot
    FROM ${source} r JOIN ${map} m USING (file_no, line_no) JOIN ${paths} pd ON pd.path = r.path LEFT JOIN ${labels} lb ON lb.ua = r.ua`;
  const insite = hosts.length
    ? `list_contains(string_split(?, chr(0)), ref_host)`
    : `ref_host IS NOT NULL AND ref_host = regexp_replace(lower(host), '^www\\.', '')`;
  // With the user agent in the key, a session's agents are one value (or '' and NULL, which the
  // key does not tell apart): its most common agent is any of them, without counting them.
  const uaOfSession = logs.key === 'ip+ua' ? 'any_value(ua)' : 'mode(ua)';
  const features = LOG_FEATURES.map((f) => `${f.sql.replaceAll('insite', `(${insite})`).replaceAll('mode(ua)', uaOfSession)} AS ${quoteIdent(f.name)}`);
  // One count per session and path, read twice (materialized): the distinct paths and the
  // path entropy -sum(p log2 p), p = the path's share of the session's requests. The terms are
  // summed as integers of 1e-15 (exact, so in any order): a parallel sum of doubles adds them in
  // any order, and two runs on the real log gave 60-150 of its sessions a different last digit
  // (an ordered aggregate ran out of memory at 2M lines).
  const sessions = `
    WITH sp AS MATERIALIZED (SELECT session_id, count(*) AS c FROM ${target} GROUP BY session_id, path),
    pe AS (
      SELECT session_id, count(*) AS distinct_paths, CAST(sum(CAST(round(-1e15 * (c / n) * log2(c / n)) AS BIGINT)) AS DOUBLE) / 1e15 AS path_entropy
      FROM sp JOIN (SELECT session_id, sum(c) AS n FROM sp GROUP BY session_id) USING (session_id)
      GROUP BY session_id)
    SELECT r.session_id AS ${quoteIdent(data.id)}, min(r.ts) AS ${quoteIdent(data.time)},
      CASE WHEN bool_or(ua_bot) THEN 1 ELSE ${logs.unlabelled === 'human' ? '0' : 'NULL'} END::INTEGER AS ${quoteIdent(data.label)},
      ${features.join(',\n      ')}
    FROM ${target} r JOIN pe USING (session_id)
    GROUP BY r.session_id ORDER BY r.session_id`;
  return {
    requests: [
      { sql: keysSql, params: [] },
      { sql: mapSql, params: [gapSeconds, gapSeconds] },
      { sql: pathsSql, params: [] },
      { sql: requests, params: utc ? [] : [logs.tz], unordered: true },
    ],
    temp: [keys, map, paths],
    sessions: { sql: sessions, params: hosts.length ? [[...hosts].join('\u0000')] : [] },
  };
}
