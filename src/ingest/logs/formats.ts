/**
 * Access-log formats: how each is recognised from its first lines, and the SQL that turns one
 * raw line into the canonical request fields (see LOG_FIELDS). Parsing happens in DuckDB: a
 * line-based format is one regular expression (RE2) per line, with a cheaper exact path for the
 * common case (see fastSplit); JavaScript only looks at the first lines to detect the format and
 * to read a CloudFront `#Fields:` header.
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

/**
 * The request line `method target [protocol]`, RE2's `^(\S+) (\S+)(?: (\S+))?$` checked whole
 * and split at its spaces (no second capture pass): columns rq_ok and rq (see REQUEST_SPLIT) hold
 * the check and the words. A request line that is not two or three words gives no method, path
 * or protocol.
 */
function requestParts(): Pick<FieldSql, 'method' | 'path' | 'query' | 'protocol'> {
  const part = (i: number) => `CASE WHEN rq_ok THEN rq[${i}] END`;
  // the query is what follows the first '?' (the target holds no line break for `.*` to stop at)
  return {
    method: part(1),
    path: `split_part(${part(2)}, '?', 1)`,
    query: `CASE WHEN rq_ok AND contains(rq[2], '?') THEN nullif(substr(rq[2], strpos(rq[2], '?') + 1), '') END`,
    protocol: part(3),
  };
}

/** The columns rq_ok and rq that requestParts reads, from a request-line expression. */
export function requestSplit(req: string): string {
  // on the fast path the line holds no white space but spaces (see fastSplit): the request line
  // matches when it is two or three words, none empty, and no regular expression runs
  const words = `len(rq) BETWEEN 2 AND 3 AND rq[1] <> '' AND rq[2] <> '' AND coalesce(rq[3] <> '', true)`;
  return `string_split(${req}, ' ') AS rq, CASE WHEN fast THEN ${words} ELSE regexp_full_match(${req}, '\\S+ \\S+(?: \\S+)?') END AS rq_ok`;
}

/** p[1] has the shape `... [time] ` around its fourth word: then FAST_TIME is defined (its length is not negative). */
const FAST_TIME_GUARD = `len(s1) >= 5 AND starts_with(s1[4], '[') AND ends_with(p[1], '] ')`;
/**
 * The time of the fast path, column t1 (over p and s1): p[1] after `host ident user [` and before
 * the closing `] ` (lengths in characters, as substring counts); NULL when p[1] has not that shape.
 */
export const FAST_TIME = `CASE WHEN ${FAST_TIME_GUARD} THEN substring(p[1], length(s1[1]) + length(s1[2]) + length(s1[3]) + 5,
  length(p[1]) - (length(s1[1]) + length(s1[2]) + length(s1[3]) + 5) - 1) END`;

/**
 * The exact fast path of the Apache/Nginx formats. A line with no backslash holds no escaped
 * quote, so its quoted fields are exactly the text between its double quotes: split at them
 * (`p`), check the unquoted pieces against the pattern's own pieces (p[1] is
 * `host ident user [time] `, p[3] ` status bytes `) and read the groups from the pieces (s1 and
 * s3: p[1] and p[3] split at spaces). When every check holds, the full pattern matches with these
 * very groups (each is forced: no piece can hold a quote, `\S+` no space, the time no `]`); any
 * other line takes the regular expression. `cond` is the check (over `line`, `p`, `s1` and `t1`); `groups`
 * the g_* values on the fast path.
 */
function fastSplit(format: 'combined' | 'common' | 'nginx'): { cond: string; groups: Record<string, string> } {
  // s1: host, ident, user, then the bracketed time (which may hold spaces), then ''; t1 the time
  // (FAST_TIME). p[1] matches `\S+ \S+ \S+ \[[^\]]+\] `, with these groups, whenever: the line holds none of
  // RE2's other white space (\t \n \f \r: a line with one takes the regex), the first three
  // words are not empty, the fourth starts with '[', p[1] ends with '] ', and the time between is
  // not empty and holds no ']'. No regular expression runs for it.
  const white = [9, 10, 12, 13].map((c) => `NOT contains(line, chr(${c}))`).join(' AND ');
  const head = `${FAST_TIME_GUARD} AND s1[1] <> '' AND s1[2] <> '' AND s1[3] <> '' AND t1 <> '' AND NOT contains(t1, ']') AND ${white}`;
  const base = { g_ip: 's1[1]', g_ident: 's1[2]', g_user: 's1[3]', g_time: 't1', g_request: 'p[2]', g_status: 's3[2]', g_bytes: 's3[3]' };
  const noBackslash = `NOT contains(line, '\\')`;
  if (format === 'common') {
    return { cond: `${noBackslash} AND len(p) = 3 AND ${head} AND regexp_full_match(p[3], ' (?:\\d{3}|-) (?:\\d+|-)')`, groups: base };
  }
  const tail = `${head} AND regexp_full_match(p[3], ' (?:\\d{3}|-) (?:\\d+|-) ') AND p[5] = ' '`;
  // combined: `... "referer" "agent"` and nothing after; nginx may add ` "x-forwarded-for"`
  const shape = format === 'combined' ? `len(p) = 7 AND p[7] = ''` : `((len(p) = 7 AND p[7] = '') OR (len(p) = 9 AND p[7] = ' ' AND p[9] = ''))`;
  return { cond: `${noBackslash} AND ${shape} AND ${tail}`, groups: { ...base, g_ref: 'p[4]', g_ua: 'p[6]' } };
}

/**
 * Line-based formats: the groups g_<group> come from the fast path of fastSplit or, for the
 * other lines, from the regular expression (ALB has no fast path); the column `fast` says which
 * path a line took, and the fields are read from the groups.
 */
export function regexFields(format: 'combined' | 'common' | 'nginx' | 'alb'): {
  pattern: string;
  groups: string[];
  fast: { cond: string; groups: Record<string, string> } | null;
  /** The request line, over the g_* columns: split into rq_ok and rq by requestSplit. */
  request: string;
  fields: FieldSql;
} {
  // A field read from the regex is unescaped; on the fast path there is nothing to unescape.
  const unescaped = (g: string) => `CASE WHEN fast THEN ${g} ELSE ${unescape(g)} END`;
  if (format === 'alb') {
    const groups = ['type', 'time', 'elb', 'ip', 'port', 'target', 't1', 't2', 't3', 'status', 'tstatus', 'rbytes', 'bytes', 'request', 'ua'].map(
      (g) => `g_${g}`,
    );
    // ALB's request target is absolute: "GET https://host:443/path?q HTTP/1.1"
    const r = requestParts();
    return {
      pattern: PATTERNS.alb,
      groups,
      fast: null,
      request: `regexp_replace(g_request, '^(\\S+) [a-z]+://[^/ ]+', '\\1 ')`,
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
  return {
    pattern: PATTERNS[format],
    groups,
    fast: fastSplit(format),
    request: 'g_request',
    fields: {
      ip: 'g_ip',
      // "17/May/2015:10:05:03 +0000": kept as the UTC instant (through epoch microseconds: the
      // same value as timezone('UTC', ...) without a time-zone lookup per line)
      ts: `make_timestamp(epoch_us(try_strptime(g_time, '%d/%b/%Y:%H:%M:%S %z')))`,
      ...requestParts(),
      status: `try_cast(${nullIfDash('g_status')} AS INTEGER)`,
      bytes: `try_cast(${nullIfDash('g_bytes')} AS BIGINT)`,
      referrer: format === 'common' ? 'NULL::VARCHAR' : nullIfDash(unescaped('g_ref')),
      ua: format === 'common' ? 'NULL::VARCHAR' : nullIfDash(unescaped('g_ua')),
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
