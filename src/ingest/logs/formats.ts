/**
 * Access-log formats: how each is recognised from its first lines, and the SQL that turns one
 * raw line into the canonical request fields (see LOG_FIELDS). Parsing happens in DuckDB, one
 * regular expression (RE2) per line; JavaScript only looks at the first lines to detect the
 * format and to read a CloudFront `#Fields:` header.
 */
import { quoteString } from '../../db/store.js';
import type { LogField } from '../../config/logs.js';

export const LOG_FORMATS = ['combined', 'common', 'nginx', 'alb', 'cloudfront', 'jsonl'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A quoted field of Apache/Nginx/ALB logs: backslash escapes allowed inside. */
const Q = '"((?:[^"\\\\]|\\\\.)*)"';

/**
 * Apache/Nginx: `host ident user [time] "request" status bytes` and, for combined,
 * `"referer" "user-agent"`; Nginx's default `main` format adds `"x-forwarded-for"` (ignored).
 */
const COMMON = `^(\\S+) (\\S+) (\\S+) \\[([^\\]]+)\\] ${Q} (\\d{3}|-) (\\d+|-)`;
/** A line cut inside its last quoted field (seen in real logs) still parses: the closing quote is optional. */
const Q_LAST = '"((?:[^"\\\\]|\\\\.)*)"?';
const COMBINED = `${COMMON} ${Q} ${Q}`;
/** AWS Application Load Balancer: type time elb client:port target:port 3 timings 2 statuses 2 byte counts "request" "ua" ... */
const ALB = `^(\\S+) (\\S+) (\\S+) (\\S+):(\\d+) (\\S+) (\\S+) (\\S+) (\\S+) (\\d{3}|-) (\\S+) (\\d+|-) (\\d+|-) ${Q} ${Q}`;

export const PATTERNS = {
  common: `${COMMON}\\s*$`,
  combined: `${COMMON} ${Q} ${Q_LAST}\\s*$`,
  nginx: `${COMBINED}(?: ${Q})?\\s*$`,
  alb: `${ALB}(?: .*)?$`,
} as const;

/** Which format the first lines are in, or null. */
export function detectFormat(lines: readonly string[]): LogFormat | null {
  const sample = lines.filter((l) => l.trim() !== '').slice(0, 20);
  if (sample.length === 0) return null;
  if (sample.some((l) => l.startsWith('#Fields:'))) return 'cloudfront';
  const all = (re: string) => sample.every((l) => new RegExp(re).test(l));
  if (all(PATTERNS.alb)) return 'alb';
  if (all(PATTERNS.combined)) return 'combined';
  if (all(PATTERNS.nginx)) return 'nginx';
  if (all(PATTERNS.common)) return 'common';
  if (sample.every((l) => /^\s*\{/.test(l))) return 'jsonl';
  return null;
}

/** CloudFront's `#Fields:` header -> the 1-based column of each field name. */
export function cloudfrontColumns(lines: readonly string[]): Map<string, number> | null {
  const header = lines.find((l) => l.startsWith('#Fields:'));
  if (!header) return null;
  const names = header.slice('#Fields:'.length).trim().split(/\s+/);
  return new Map(names.map((n, i) => [n, i + 1]));
}

/** SQL expressions (over a column `line`) for each canonical field, as text; a missing field is NULL. */
export type FieldSql = Record<LogField, string>;

const nullIfDash = (e: string) => `nullif(${e}, '-')`;
/** Apache writes `\"` and `\\` inside quoted fields. */
const unescape = (e: string) => `replace(replace(${e}, '\\"', '"'), '\\\\', '\\')`;

/** The request line split once per line, unnested into columns rq_m, rq_t, rq_p (see ingest-logs.ts). */
export const REQUEST_PARTS = `'^(\\S+) (\\S+)(?: (\\S+))?$', ['rq_m', 'rq_t', 'rq_p']`;

/** Method, target, protocol from the split request line `rq` (a line that is not three words keeps its text as the path). */
function requestParts(): Pick<FieldSql, 'method' | 'path' | 'query' | 'protocol'> {
  const target = `nullif(rq_t, '')`;
  return {
    method: `nullif(rq_m, '')`,
    path: `split_part(${target}, '?', 1)`,
    query: `nullif(regexp_extract(${target}, '\\?(.*)$', 1), '')`,
    protocol: `nullif(rq_p, '')`,
  };
}

/**
 * Line-based formats: the regex groups are unnested once into columns g_<group> (a struct read
 * field by field would run the regex once per field) and the fields read from them.
 */
export function regexFields(format: 'combined' | 'common' | 'nginx' | 'alb'): { pattern: string; groups: string[]; request: string; fields: FieldSql } {
  if (format === 'alb') {
    const groups = ['type', 'time', 'elb', 'ip', 'port', 'target', 't1', 't2', 't3', 'status', 'tstatus', 'rbytes', 'bytes', 'request', 'ua'].map(
      (g) => `g_${g}`,
    );
    // ALB's request target is absolute: "GET https://host:443/path?q HTTP/1.1"
    const req = `regexp_replace(g_request, '^(\\S+) [a-z]+://[^/ ]+', '\\1 ')`;
    const r = requestParts();
    return {
      pattern: PATTERNS.alb,
      groups,
      request: req,
      fields: {
        ip: 'g_ip',
        ts: `try_strptime(g_time, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ'])`,
        ...r,
        path: `coalesce(nullif(${r.path}, ''), '/')`,
        status: `try_cast(${nullIfDash('g_status')} AS INTEGER)`,
        bytes: `try_cast(${nullIfDash('g_bytes')} AS BIGINT)`,
        referrer: 'NULL::VARCHAR',
        ua: nullIfDash(unescape('g_ua')),
        host: `nullif(regexp_extract(g_request, '^\\S+ [a-z]+://([^/: ]+)', 1), '')`,
      },
    };
  }
  const groups = ['ip', 'ident', 'user', 'time', 'request', 'status', 'bytes', ...(format === 'common' ? [] : ['ref', 'ua'])].map((g) => `g_${g}`);
  const r = requestParts();
  return {
    pattern: PATTERNS[format],
    groups,
    request: 'g_request',
    fields: {
      ip: 'g_ip',
      // "17/May/2015:10:05:03 +0000": kept as the UTC instant
      ts: `CAST(timezone('UTC', try_strptime(g_time, '%d/%b/%Y:%H:%M:%S %z')) AS TIMESTAMP)`,
      ...r,
      status: `try_cast(${nullIfDash('g_status')} AS INTEGER)`,
      bytes: `try_cast(${nullIfDash('g_bytes')} AS BIGINT)`,
      referrer: format === 'common' ? 'NULL::VARCHAR' : nullIfDash(unescape('g_ref')),
      ua: format === 'common' ? 'NULL::VARCHAR' : nullIfDash(unescape('g_ua')),
      host: 'NULL::VARCHAR',
    },
  };
}

/** CloudFront standard logs: tab-separated, URL-encoded user agent, columns named by `#Fields:`. */
export function cloudfrontFields(cols: Map<string, number>): FieldSql {
  const col = (name: string) => (cols.has(name) ? nullIfDash(`parts[${cols.get(name)}]`) : 'NULL::VARCHAR');
  const decode = (e: string) => `url_decode(${e})`;
  return {
    ip: col('c-ip'),
    ts:
      cols.has('date') && cols.has('time')
        ? `try_strptime(parts[${cols.get('date')}] || ' ' || parts[${cols.get('time')}], '%Y-%m-%d %H:%M:%S')`
        : 'NULL::TIMESTAMP',
    method: col('cs-method'),
    path: col('cs-uri-stem'),
    query: col('cs-uri-query'),
    protocol: col('cs-protocol-version'),
    status: `try_cast(${col('sc-status')} AS INTEGER)`,
    bytes: `try_cast(${col('sc-bytes')} AS BIGINT)`,
    referrer: decode(col('cs(Referer)')),
    ua: decode(col('cs(User-Agent)')),
    // x-host-header is the host the viewer asked for; cs(Host) is the distribution's own domain
    host: cols.has('x-host-header') ? col('x-host-header') : col('cs(Host)'),
  };
}

/** JSON lines: each canonical field from its mapped path (default: the field's own name). */
export function jsonFields(mapping: Partial<Record<LogField, string>>): FieldSql {
  const get = (f: LogField) => `json_extract_string(line, ${quoteString('$.' + (mapping[f] ?? f))})`;
  const ts = get('ts');
  return {
    ip: get('ip'),
    // ISO 8601 text, or epoch seconds / milliseconds as a number
    ts: `coalesce(CAST(timezone('UTC', try_cast(${ts} AS TIMESTAMPTZ)) AS TIMESTAMP),
          CASE WHEN try_cast(${ts} AS DOUBLE) > 1e11 THEN to_timestamp(try_cast(${ts} AS DOUBLE) / 1000)::TIMESTAMP
               WHEN try_cast(${ts} AS DOUBLE) IS NOT NULL THEN to_timestamp(try_cast(${ts} AS DOUBLE))::TIMESTAMP END)`,
    method: get('method'),
    path: `split_part(${get('path')}, '?', 1)`,
    query: `coalesce(${get('query')}, nullif(regexp_extract(${get('path')}, '\\?(.*)$', 1), ''))`,
    protocol: get('protocol'),
    status: `try_cast(${get('status')} AS INTEGER)`,
    bytes: `try_cast(${get('bytes')} AS BIGINT)`,
    referrer: nullIfDash(get('referrer')),
    ua: nullIfDash(get('ua')),
    host: get('host'),
  };
}
