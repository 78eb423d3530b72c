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
import { sessionizeSql } from './sessionize.js';
import { checkGzip, checkJsonMapping, checkKey, checkTimeZone } from './checks.js';
import { dropScratch, firstLines, parseFiles, PARSED, scratchFor } from './parse.js';
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

const REQ = 'rulegen_log_requests';
const SESS = 'rulegen_log_sessions';
const UA = 'rulegen_log_ua';
/** The requests of the sessions, kept beside them for `explain` and later features. */
export const REQUESTS_TABLE = 'requests';

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

  const saved = await capSettings(store);
  const scratch = scratchFor(store, files);
  try {
    await parseFiles(store, scratch, { files, formats, heads, logs, okExpr, onStep: opts.onStep, onProgress: opts.onProgress });
    return await transact();
  } finally {
    // the temporary tables, views and scratch file are this run's own: dropped whatever happened
    for (const v of ['rulegen_log_ok', PARSED]) await store.run(`DROP VIEW IF EXISTS ${v}`).catch(() => undefined);
    await dropScratch(store, scratch);
    await restoreSettings(store, saved);
  }

  function transact(): Promise<IngestLogsSummary> {
    return store.transaction(async (tx) => {
      for (const t of [REQ, SESS, UA]) await tx.run(`DROP TABLE IF EXISTS ${t}`);
      const perFile: IngestLogsSummary['files'] = [];
      // one scan of the parsed lines for every count the run needs: lines and bad lines per
      // file, and whether any usable line carries a request host
      const counts = await tx.all<{ file_no: number; n: number; bad: number; hosts: number }>(
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
      if (kinds[0] === 'jsonl') await checkJsonMapping(tx, logs, files, customKey);
      const lines = perFile.reduce((a, f) => a + f.lines, 0);
      const bad = perFile.reduce((a, f) => a + f.bad, 0);
      // a line that is not usable kept its text (raw) for this
      const firstBad = bad
        ? await tx.all<{ file_no: number; line_no: number; line: string | null }>(
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
      const uas = await tx.all<{ ua: string }>(`SELECT DISTINCT ua FROM ${PARSED} WHERE (${okExpr}) AND ua IS NOT NULL ORDER BY ua`);
      const { isbot } = await import('isbot');
      await tx.run(`CREATE TABLE ${UA} (ua VARCHAR, bot BOOLEAN)`);
      if (uas.length) await tx.appendColumns(UA, [uas.map((u) => u.ua), uas.map((u) => isbot(u.ua))], uas.length);

      // The site's own hosts: configured, or the request host (ALB, CloudFront, JSON), or the most common referring host.
      let hosts = (logs.hosts ?? []).map((h) => h.toLowerCase().replace(/^www\./, ''));
      let inferred = false;
      if (!hosts.length) {
        if (counts.every((c) => Number(c.hosts) === 0)) {
          const top = await tx.one<{ h: string | null }>(
            `SELECT ref_host AS h FROM ${PARSED} WHERE (${okExpr}) AND ref_host IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
          );
          if (top?.h) {
            hosts = [top.h];
            inferred = true;
          }
        }
      }

      opts.onStep?.('building sessions');
      await tx.run(`CREATE TEMP VIEW rulegen_log_ok AS SELECT * FROM ${PARSED} WHERE ${okExpr}`);
      const q = sessionizeSql('rulegen_log_ok', REQ, logs, gap, hosts, config.data, UA);
      for (const st of q.requests) {
        // a table written in no particular order is written by every thread at once
        if (st.unordered) await tx.run('SET preserve_insertion_order = false');
        try {
          await tx.run(st.sql, st.params, { onProgress: opts.onProgress });
        } finally {
          if (st.unordered) await tx.run('RESET preserve_insertion_order');
        }
      }
      opts.onStep?.('computing session features');
      await tx.run(`CREATE TABLE ${SESS} AS ${q.sessions.sql}`, q.sessions.params, { onProgress: opts.onProgress });
      await tx.run('DROP VIEW rulegen_log_ok');
      for (const t of q.temp) await tx.run(`DROP TABLE ${t}`);
      const s = (await tx.one<Record<string, number | string | null>>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE ${quoteIdent(config.data.label)} = 1) AS bots,
         count(*) FILTER (WHERE ${quoteIdent(config.data.label)} = 0) AS humans,
         CAST(min(${quoteIdent(config.data.time)}) AS VARCHAR) AS from_ts, CAST(max(${quoteIdent(config.data.time)}) AS VARCHAR) AS to_ts FROM ${SESS}`,
      ))!;
      const requests = Number((await tx.one<{ n: number }>(`SELECT count(*) AS n FROM ${REQ}`))!.n);

      if (exists) await tx.run(`DROP TABLE ${table}`);
      await tx.run(`DROP TABLE IF EXISTS ${quoteIdent(REQUESTS_TABLE)}`);
      await tx.run(`ALTER TABLE ${SESS} RENAME TO ${table}`);
      await tx.run(`ALTER TABLE ${REQ} RENAME TO ${quoteIdent(REQUESTS_TABLE)}`);
      await tx.run(`DROP TABLE ${UA}`);

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
    });
  }
}
