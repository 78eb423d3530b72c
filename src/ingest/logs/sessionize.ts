/**
 * Requests -> sessions, in SQL: a visitor key, an inactivity gap (window functions), then one
 * aggregate per session built from LOG_FEATURES. Session ids are assigned in order of the
 * session's first request (ties by key), so the same log always gives the same ids.
 */
import { quoteIdent, quoteString, type Param } from '../../db/store.js';
import type { LogsConfig } from '../../config/logs.js';
import { LOG_FEATURES } from './features.js';

/** The key expression over canonical request columns: ip+ua, ip, or a JSON field's raw value. */
export function keySql(key: string): string {
  if (key === 'ip+ua') return `ip || chr(9) || coalesce(ua, '')`;
  if (key === 'ip') return 'ip';
  // A mapped JSON field: read from the raw line (validated as a field path by the config schema).
  return 'key_field';
}

const EXT = `lower(regexp_extract(path, '\\.([A-Za-z0-9]{1,8})$', 1))`;
const EXT_CLASS = `CASE
    WHEN path = '/robots.txt' THEN 'other'
    WHEN path LIKE '%/' OR ${EXT} IN ('', 'html', 'htm', 'php', 'asp', 'aspx', 'jsp', 'cgi', 'shtml') THEN 'html'
    WHEN ${EXT} IN ('png', 'jpg', 'jpeg', 'gif', 'svg', 'ico', 'webp', 'bmp', 'avif', 'tif', 'tiff') THEN 'image'
    WHEN ${EXT} IN ('css', 'js', 'mjs', 'map', 'woff', 'woff2', 'ttf', 'otf', 'eot') THEN 'static'
    WHEN ${EXT} IN ('pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'txt', 'csv', 'zip', 'gz', 'tgz', 'tar', 'rar', '7z') THEN 'document'
    ELSE 'other' END`;

/** Host of a referrer URL, lower-cased, without a leading www. */
export const REF_HOST = `nullif(regexp_replace(lower(regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), '^www\\.', ''), '')`;

export interface SessionizeSql {
  /** Adds session ids and derived columns to the parsed requests: `source` -> `target`. */
  requests: { sql: string; params: Param[] };
  /** One row per session from the sessionized requests. */
  sessions: { sql: string; params: Param[] };
}

/**
 * @param source table of parsed requests (file_no, line_no, ip, ts, method, path, query, protocol, status, bytes, referrer, ua, host, key_field)
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
  const login = logs.login_paths.map((p) => `(?:${p})`).join('|');
  const requests = `CREATE TABLE ${target} AS
    WITH k AS (SELECT *, ${keySql(logs.key)} AS vkey FROM ${source}),
    g AS (
      SELECT *, epoch(ts - lag(ts) OVER w) AS since_prev FROM k
      WINDOW w AS (PARTITION BY vkey ORDER BY ts, file_no, line_no)),
    s AS (
      SELECT *, sum(CASE WHEN since_prev > ? THEN 1 ELSE 0 END) OVER (PARTITION BY vkey ORDER BY ts, file_no, line_no ROWS UNBOUNDED PRECEDING) AS sn FROM g),
    ids AS (
      SELECT vkey, sn, row_number() OVER (ORDER BY min(ts), vkey, sn) AS session_id FROM s GROUP BY vkey, sn)
    SELECT ids.session_id, s.file_no, s.line_no, s.ip, s.ts, s.method, s.path, s.query, s.protocol, s.status, s.bytes, s.referrer, s.ua, s.host,
      CASE WHEN s.since_prev > ? THEN NULL ELSE s.since_prev END AS gap,
      len(list_filter(string_split(s.path, '/'), x -> x <> '')) AS depth,
      ${EXT_CLASS.replaceAll('path', 's.path')} AS ext_class,
      ${REF_HOST.replaceAll('referrer', 's.referrer')} AS ref_host,
      -- inlined as a quoted literal (not a parameter) so RE2 compiles the pattern once, not per row
      regexp_matches(lower(s.path), ${quoteString(login)}) AS is_login,
      hour(timezone(?, timezone('UTC', s.ts))) < 6 AS night,
      coalesce(lb.bot, false) AS ua_bot
    FROM s JOIN ids USING (vkey, sn) LEFT JOIN ${labels} lb ON lb.ua = s.ua`;
  const insite = hosts.length
    ? `list_contains(string_split(?, chr(0)), ref_host)`
    : `ref_host IS NOT NULL AND ref_host = regexp_replace(lower(host), '^www\\.', '')`;
  const features = LOG_FEATURES.map((f) => `${f.sql.replaceAll('insite', `(${insite})`)} AS ${quoteIdent(f.name)}`);
  const sessions = `
    WITH pe AS (
      SELECT session_id, 0.0 - sum(p * log2(p)) AS path_entropy FROM (
        SELECT session_id, count(*) / sum(count(*)) OVER (PARTITION BY session_id) AS p FROM ${target} GROUP BY session_id, path)
      GROUP BY session_id)
    SELECT r.session_id AS ${quoteIdent(data.id)}, min(r.ts) AS ${quoteIdent(data.time)},
      CASE WHEN bool_or(ua_bot) THEN 1 ELSE ${logs.unlabelled === 'human' ? '0' : 'NULL'} END::INTEGER AS ${quoteIdent(data.label)},
      ${features.join(',\n      ')}
    FROM ${target} r JOIN pe USING (session_id)
    GROUP BY r.session_id ORDER BY r.session_id`;
  const requestParams: Param[] = [gapSeconds, gapSeconds, logs.tz];
  return {
    requests: { sql: requests, params: requestParams },
    sessions: { sql: sessions, params: hosts.length ? [[...hosts].join('\u0000')] : [] },
  };
}
