/**
 * `rulegen ingest-logs`: access logs -> `requests` and `sessions` tables, all or nothing.
 *
 * Every line is parsed in DuckDB (split at its quotes and checked, or one regular expression per
 * line, or JSON extraction; see formats.ts), lines that do not parse are counted and reported
 * (never dropped silently), requests are grouped into sessions by visitor key and inactivity gap,
 * and the session features of LOG_FEATURES are computed in one aggregate. Weak labels come from the user agent: self-declared crawlers (the
 * `isbot` patterns) are bots; the rest are human or unknown as `logs.unlabelled` says. The only
 * values that reach JavaScript are the first lines (format detection), the distinct user agents
 * (labelling: isbot's patterns use look-arounds that DuckDB's RE2 lacks) and aggregates.
 */
import { InputError, type Problem } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { quoteIdent, type Store } from '../../db/store.js';
import type { Config } from '../../config/schema.js';
import { gapSeconds, type LogsConfig } from '../../config/logs.js';
import { checkReadable } from '../readers.js';
import { resolveInputs, type GlobMatch } from '../inputs.js';
import { detectFormat, LOG_FORMATS, type LogFormat } from './formats.js';
import { sessionizeSql, tempTables } from './sessionize.js';
import { checkGzip, checkJsonMapping, checkKey, checkTimeZone } from './checks.js';
import { dropTables, firstLines, lineTables, parseFiles, PARSED, REQUEST_LINES } from './parse.js';
import { capSettings, restoreSettings } from './settings.js';

export interface IngestLogsOptions {
  files: readonly string[];
  glob?: boolean;
  format?: LogFormat;
  /** Overrides of rulegen.yaml's logs section from the command line. */
  gap?: string;
  key?: string;
  tz?: string;
  replace: boolean;
  onStep?: (message: string) => void;
  /** Rows read by the long statements (lines parsed, requests grouped), for a progress line. */
  onProgress?: OnProgress;
}

export interface IngestLogsSummary {
  files: { file: string; format: LogFormat; detected: boolean; lines: number; bad: number }[];
  globs: GlobMatch[];
  lines: number;
  requests: number;
  bad: { count: number; share: number; first: { file: string; line: number; text: string }[] };
  sessions: number;
  bots: number;
  humans: number;
  unlabelled: number;
  /** How the weak labels were made, said plainly. */
  labels: string;
  hosts: { names: string[]; inferred: boolean };
  from: string | null;
  to: string | null;
  gap_s: number;
  key: string;
  replaced: boolean;
  warnings: Problem[];
}

/** Every table a run makes starts so (the ones it keeps are renamed at its end). */
const RUN_PREFIX = 'rulegen_log_';
const MAP = 'rulegen_log_map';
const SESS = 'rulegen_log_sessions';
const UA = 'rulegen_log_ua';
/** The prefix of the temporary tables sessionizing makes (see sessionizeSql). */
const TEMP_PREFIX = 'rulegen_log';
/**
 * The requests of the sessions, kept beside them for investigation and later features: a view
 * over the parsed lines as stored (REQUEST_LINES) and REQUEST_MAP, each usable line's session and
 * gap, so the log is stored once.
 */
export const REQUESTS_TABLE = 'requests';
/** file_no, line_no, session_id, gap: one row per usable line of a committed ingest. */
const REQUEST_MAP = 'rulegen_requests_map';

export async function ingestLogs(store: Store, config: Config, opts: IngestLogsOptions): Promise<IngestLogsSummary> {
  if (opts.files.length === 0) throw InputError.single({ message: 'no log files', expected: 'one or more files', found: 'none' });
  if (opts.format && !LOG_FORMATS.includes(opts.format))
    throw InputError.single({ message: 'unknown log format', where: { field: '--format' }, expected: LOG_FORMATS.join(', '), found: opts.format });
  const logs: LogsConfig = {
    ...config.logs,
    ...(opts.gap ? { gap: opts.gap } : {}),
    ...(opts.key ? { key: opts.key } : {}),
    ...(opts.tz ? { tz: opts.tz } : {}),
  };
  if (!/^\d+(\.\d+)?\s*(s|m|min|h)$/.test(logs.gap))
    throw InputError.single({ message: 'invalid session gap', where: { field: '--gap' }, expected: 'a duration such as 30m, 1h or 90s', found: logs.gap });
  await checkTimeZone(store, logs.tz);
  const gap = gapSeconds(logs.gap);
  const inputs = await resolveInputs(store, opts.files, opts.glob ?? false);
  const files = inputs.files;
  files.forEach(checkReadable);
  // DuckDB reads a cut gzip stream up to the cut without complaint: check every .gz whole first.
  for (const f of files) if (/\.gz$/i.test(f)) await checkGzip(f);

  // Formats: given, or detected per file from its first lines; one run reads one format.
  const heads: string[][] = [];
  const formats: { format: LogFormat; detected: boolean }[] = [];
  for (const file of files) {
    const head = await firstLines(store, file);
    heads.push(head);
    if (opts.format) {
      formats.push({ format: opts.format, detected: false });
      continue;
    }
    const f = detectFormat(head);
    if (!f) {
      const sample = head.find((l) => l.trim() !== '') ?? '';
      throw InputError.single({
        message: 'not a log format rulegen reads',
        where: { file, line: 1 },
        expected: `one of ${LOG_FORMATS.join(', ')} (or say which with --format)`,
        found: 'lines that match none of them',
        excerpt: sample.slice(0, 200),
      });
    }
    formats.push({ format: f, detected: true });
  }
  const kinds = [...new Set(formats.map((f) => f.format))];
  if (kinds.length > 1) {
    throw new InputError(
      'the logs are in different formats: ingest them in separate workspaces or convert them',
      files.map((file, i) => ({
        severity: 'error' as const,
        message: `detected ${formats[i]!.format}`,
        where: { file },
        expected: `one format for every file (${formats[0]!.format}, as the first file)`,
        found: formats[i]!.format,
      })),
    );
  }
  checkKey(logs.key, kinds);
  const customKey = logs.key !== 'ip+ua' && logs.key !== 'ip';
  // A line is usable when it parsed and has a time, a path and a visitor key.
  const okExpr = `parsed AND ts IS NOT NULL AND path IS NOT NULL AND ${customKey ? 'key_field' : 'ip'} IS NOT NULL`;

  const table = quoteIdent(config.data.table);
  const exists = await store.tableExists(config.data.table);
  if (exists && !opts.replace) {
    throw InputError.single({
      message: `the workspace already has a ${config.data.table} table`,
      where: { field: '--replace' },
      expected: '--replace: sessions are built from whole logs (give every file of a log in one run), not appended',
      found: `an existing ${config.data.table} table`,
    });
  }

  // a run killed before its end (SIGKILL: no finally) left its own tables; none is data
  await dropTables(store, await runTables(store));
  const saved = await capSettings(store);
  const tables = lineTables(files);
  try {
    await parseFiles(store, tables, { files, formats, heads, logs, okExpr, onStep: opts.onStep, onProgress: opts.onProgress });
    return await build();
  } finally {
    // the views and tables are this run's own: dropped whatever happened (a committed run
    // renamed the ones it keeps first)
    for (const v of ['rulegen_log_ok', PARSED]) await store.run(`DROP VIEW IF EXISTS ${v}`).catch(() => undefined);
    await dropTables(store, [...tables, MAP, SESS, UA, ...tempTables(TEMP_PREFIX)]);
    await restoreSettings(store, saved);
  }

  /**
   * The sessions and the session map are built in tables of this run (outside a transaction:
   * DuckDB writes a table made inside one on a single thread), then swapped in, in one
   * transaction: all or nothing.
   */
  async function build(): Promise<IngestLogsSummary> {
    const perFile: IngestLogsSummary['files'] = [];
    // one scan of the parsed lines for every count the run needs: lines and bad lines per
    // file, and whether any usable line carries a request host
    const counts = await store.all<{ file_no: number; n: number; bad: number; hosts: number }>(
      `SELECT file_no, count(*) AS n, count(*) FILTER (WHERE NOT (${okExpr})) AS bad, count(host) FILTER (WHERE ${okExpr}) AS hosts
       FROM ${PARSED} GROUP BY file_no`,
    );
    const countOf = (i: number) => counts.find((c) => Number(c.file_no) === i);
    for (let i = 0; i < files.length; i++) {
      perFile.push({
        file: files[i]!,
        format: formats[i]!.format,
        detected: formats[i]!.detected,
        lines: Number(countOf(i)?.n ?? 0),
        bad: Number(countOf(i)?.bad ?? 0),
      });
    }
    if (kinds[0] === 'jsonl') await checkJsonMapping(store, logs, files, customKey);
    const lines = perFile.reduce((a, f) => a + f.lines, 0);
    const bad = perFile.reduce((a, f) => a + f.bad, 0);
    // a line that is not usable kept its text (raw) for this
    const firstBad = bad
      ? await store.all<{ file_no: number; line_no: number; line: string | null }>(
          `SELECT file_no, line_no, raw AS line FROM ${PARSED} WHERE NOT (${okExpr}) ORDER BY file_no, line_no LIMIT 5`,
        )
      : [];
    const first = firstBad.map((b) => ({ file: files[Number(b.file_no)]!, line: Number(b.line_no), text: b.line ?? '' }));
    const share = lines ? bad / lines : 0;
    if (lines === 0) throw InputError.single({ message: 'the log has no lines', where: { file: files[0] }, expected: 'access-log lines', found: 'none' });
    if (bad === lines || share > logs.max_bad_share) {
      throw new InputError(
        `${bad.toLocaleString('en-US')} of ${lines.toLocaleString('en-US')} lines (${(100 * share).toFixed(1)}%) do not parse as ${kinds[0]}; ` +
          `the limit is logs.max_bad_share = ${(100 * logs.max_bad_share).toFixed(1)}%`,
        first.map((b) => ({
          severity: 'error' as const,
          message: 'malformed line',
          where: { file: b.file, line: b.line },
          expected: `a ${kinds[0]} log line with a valid time`,
          found: 'a line that does not parse',
          excerpt: b.text.slice(0, 300),
        })),
      );
    }

    opts.onStep?.('labelling user agents');
    const uas = await store.all<{ ua: string }>(`SELECT DISTINCT ua FROM ${PARSED} WHERE (${okExpr}) AND ua IS NOT NULL ORDER BY ua`);
    const { isbot } = await import('isbot');
    await store.run(`CREATE TABLE ${UA} (ua VARCHAR, ua_id INTEGER, bot BOOLEAN)`);
    // ids in the agents' order, so a session's most common agent is found among numbers
    if (uas.length) await store.appendColumns(UA, [uas.map((u) => u.ua), uas.map((_, i) => i + 1), uas.map((u) => isbot(u.ua))], uas.length);

    // The site's own hosts: configured, or the request host (ALB, CloudFront, JSON), or the most common referring host.
    let hosts = (logs.hosts ?? []).map((h) => h.toLowerCase().replace(/^www\./, ''));
    let inferred = false;
    if (!hosts.length) {
      if (counts.every((c) => Number(c.hosts) === 0)) {
        const top = await store.one<{ h: string | null }>(
          `SELECT ref_host AS h FROM ${PARSED} WHERE (${okExpr}) AND ref_host IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
        );
        if (top?.h) {
          hosts = [top.h];
          inferred = true;
        }
      }
    }

    opts.onStep?.('building sessions');
    await store.run(`CREATE TEMP VIEW rulegen_log_ok AS SELECT * FROM ${PARSED} WHERE ${okExpr}`);
    const q = sessionizeSql('rulegen_log_ok', { map: MAP, prefix: TEMP_PREFIX }, logs, gap, hosts, config.data, UA);
    for (const st of q.steps) await store.run(st.sql, st.params, { onProgress: opts.onProgress });
    opts.onStep?.('computing session features');
    await store.run(`CREATE TABLE ${SESS} AS ${q.sessions.sql}`, q.sessions.params, { onProgress: opts.onProgress });
    await store.run('DROP VIEW rulegen_log_ok');
    for (const t of q.temp) await store.run(`DROP TABLE ${t}`);
    const s = (await store.one<Record<string, number | string | null>>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE ${quoteIdent(config.data.label)} = 1) AS bots,
       count(*) FILTER (WHERE ${quoteIdent(config.data.label)} = 0) AS humans,
       CAST(min(${quoteIdent(config.data.time)}) AS VARCHAR) AS from_ts, CAST(max(${quoteIdent(config.data.time)}) AS VARCHAR) AS to_ts FROM ${SESS}`,
    ))!;
    const requests = Number((await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${MAP}`))!.n);

    await store.run(`DROP TABLE ${UA}`);
    await store.transaction(async (tx) => {
      if (exists) await tx.run(`DROP TABLE ${table}`);
      await dropRequests(tx);
      await tx.run(`ALTER TABLE ${SESS} RENAME TO ${table}`);
      await tx.run(`ALTER TABLE ${MAP} RENAME TO ${REQUEST_MAP}`);
      for (let i = 0; i < tables.length; i++) await tx.run(`ALTER TABLE ${tables[i]} RENAME TO ${REQUEST_LINES}${i}`);
      await tx.run(`CREATE VIEW ${quoteIdent(REQUESTS_TABLE)} AS ${requestsView(tables.length)}`);
    });

    const sessions = Number(s['n']);
    const bots = Number(s['bots']);
    const humans = Number(s['humans']);
    const warnings: Problem[] = [];
    if (bad > 0)
      warnings.push({
        severity: 'warning',
        message:
          `${bad} malformed line${bad === 1 ? '' : 's'} (${(100 * share).toFixed(2)}%) skipped, ` +
          `first at ${first.map((b) => `${b.file}:${b.line}`).join(', ')}`,
      });
    return {
      files: perFile,
      globs: inputs.globs,
      lines,
      requests,
      bad: { count: bad, share, first },
      sessions,
      bots,
      humans,
      unlabelled: sessions - bots - humans,
      labels:
        'weak labels from the user agent: sessions whose agent declares a bot (isbot patterns) are bots; the rest are ' +
        (logs.unlabelled === 'human'
          ? 'labelled human (logs.unlabelled: human) — a bot faking a browser is counted as a human'
          : 'unlabelled (logs.unlabelled: unknown)'),
      hosts: { names: hosts, inferred },
      from: (s['from_ts'] as string | null) ?? null,
      to: (s['to_ts'] as string | null) ?? null,
      gap_s: gap,
      key: logs.key,
      replaced: exists,
      warnings,
    };
  }
}

/**
 * The `requests` view: each usable line's session and gap (REQUEST_MAP) joined to the line as
 * parsed (REQUEST_LINES, whose rowid is the line number - 1).
 */
function requestsView(files: number): string {
  const lines = Array.from({ length: files }, (_, i) => `SELECT ${i} AS file_no, rowid + 1 AS line_no, * FROM ${REQUEST_LINES}${i}`);
  return `SELECT m.session_id, m.file_no, m.line_no, l.ip, l.ts, l.method, l.path, l.query, l.protocol, l.status, l.bytes, l.referrer, l.ua, l.host,
      l.ref_host, m.gap
    FROM ${REQUEST_MAP} m JOIN (${lines.join(' UNION ALL ')}) l ON l.file_no = m.file_no AND l.line_no = m.line_no`;
}

/** Tables of an ingest-logs run (RUN_PREFIX) in the store: left there only by a run that was killed. */
async function runTables(store: Store): Promise<string[]> {
  const rows = await store.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary
       AND starts_with(table_name, ?) ORDER BY 1`,
    [RUN_PREFIX],
  );
  return rows.map((r) => quoteIdent(r.name));
}

/** The previous ingest's requests dropped: the view and what it reads, or a requests table an earlier version stored. */
async function dropRequests(tx: Store): Promise<void> {
  const kind = await tx.one<{ t: string }>(`SELECT table_type AS t FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?`, [
    REQUESTS_TABLE,
  ]);
  if (kind) await tx.run(`DROP ${kind.t === 'VIEW' ? 'VIEW' : 'TABLE'} ${quoteIdent(REQUESTS_TABLE)}`);
  const old = await tx.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary
       AND (starts_with(table_name, ?) OR table_name = ?)`,
    [REQUEST_LINES, REQUEST_MAP],
  );
  for (const t of old) await tx.run(`DROP TABLE ${quoteIdent(t.name)}`);
}
