/** rulegen.yaml `logs:` — how `rulegen ingest-logs` reads access logs and builds sessions. */
import { z } from 'zod';

/** Canonical request fields; a JSON-lines log maps its own field names onto these. */
export const LOG_FIELDS = ['ip', 'ts', 'method', 'path', 'query', 'protocol', 'status', 'bytes', 'referrer', 'ua', 'host'] as const;
export type LogField = (typeof LOG_FIELDS)[number];

const fieldPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/, 'must be a field name or a dotted path such as request.ip');

export const LogsSchema = z
  .object({
    /** JSON-lines only: where each canonical field lives in a record (dotted paths for nesting). */
    fields: z.partialRecord(z.enum(LOG_FIELDS), fieldPath).default({}),
    /** Inactivity gap that ends a session, e.g. 30m, 1h, 90s. */
    gap: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(s|m|min|h)$/, 'must be a duration such as 30m, 1h or 90s')
      .default('30m'),
    /** What identifies a visitor: ip+ua, ip, or (JSON lines) a mapped field's name. */
    key: z.string().min(1).default('ip+ua'),
    /** Time zone for the night-time share (IANA name). */
    tz: z.string().min(1).default('UTC'),
    /** Sessions whose user agent does not declare a bot: label 0 (human) or null (unknown, the honest default). */
    unlabelled: z.enum(['human', 'unknown']).default('unknown'),
    /** Fail the run (exit 2, store unchanged) when more than this share of lines is malformed. */
    max_bad_share: z.number().min(0).max(1).default(0.05),
    /** Regular expressions (RE2) on the lower-cased path that mark a login endpoint. */
    login_paths: z.array(z.string().min(1)).default(['(^|/)(login|log-in|signin|sign-in|logon|wp-login\\.php|auth|session)(/|$|\\.)']),
    /** The site's own host names (referrers from these are in-site); default: inferred from the log. */
    hosts: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type LogsConfig = z.infer<typeof LogsSchema>;
export const DEFAULT_LOGS: LogsConfig = LogsSchema.parse({});

/** '30m' -> seconds. */
export function gapSeconds(gap: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h)$/.exec(gap)!;
  const n = Number(m[1]);
  return m[2] === 's' ? n : m[2] === 'h' ? n * 3600 : n * 60;
}
