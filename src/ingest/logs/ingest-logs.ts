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
import { rmSync } from 'node:fs';
import { InputError, type Problem } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { quoteIdent, quoteString, type Store } from '../../db/store.js';
import type { Config } from '../../config/schema.js';
import { gapSeconds, type LogsConfig } from '../../config/logs.js';
import { checkReadable, escapeGlob } from '../readers.js';
import { resolveInputs, type GlobMatch } from '../inputs.js';
import {
  cloudfrontColumns,
  cloudfrontFields,
  detectFormat,
  FAST_TIME,
  jsonFields,
  LOG_FORMATS,
  regexFields,
  requestSplit,
  type FieldSql,
  type LogFormat,
} from './formats.js';
import { sessionizeSql, REF_HOST } from './sessionize.js';

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

/** DuckDB's memory while ingesting a log (it spills beyond): keeps a 10M-line log under 2 GB of RSS. */
const LOG_MEMORY_LIMIT = '1GB';
/** One file's parsed lines, in file order (so a row's rowid is its line number - 1): this prefix and the file's number. */
const FILE_LINES = 'rulegen_log_file_';
/** The scratch database the FILE_LINES tables go to. */
const SCRATCH = 'rulegen_log_scratch';
/** The parsed lines of every file, with file_no and line_no (a view over the FILE_LINES tables). */
const PARSED = 'rulegen_log_parsed';
const REQ = 'rulegen_log_requests';
const SESS = 'rulegen_log_sessions';
const UA = 'rulegen_log_ua';
/** The requests of the sessions, kept beside them for `explain` and later features. */
export const REQUESTS_TABLE = 'requests';

/** One VARCHAR column, no quoting, a delimiter no log line holds: each line read whole; an empty line is kept (as NULL). */
function lineReader(file: string): string {
  return `read_csv(${quoteString(escapeGlob(file))}, columns = {'column0': 'VARCHAR'}, header = false, delim = '\\x01', quote = '', escape = '',
    auto_detect = false, strict_mode = false)`;
}

async function firstLines(store: Store, file: string): Promise<string[]> {
  try {
    // no line numbers here: numbering needs the whole file, the head needs 50 lines (read in order)
    const rows = await store.all<{ line: string | null }>(`SELECT column0 AS line FROM ${lineReader(file)} LIMIT 50`);
    return rows.map((r) => r.line ?? '');
  } catch (e) {
    throw readError(e, file);
  }
}

function readError(e: unknown, file: string): InputError {
  if (e instanceof InputError) return e;
  const msg = String((e as Error).message ?? e)
    .split('\n')[0]!
    .replace(/^[A-Za-z ]+Error:\s*/, '');
  const gz = /gzip|zlib|inflate|compress/i.test(msg);
  return InputError.single({
    message: `cannot read the log: ${msg}`,
    where: { file },
    expected: gz ? 'a complete gzip file' : 'a readable text log',
    found: gz ? 'a truncated or corrupt gzip stream' : 'a read error',
  });
}

/**
 * One file's lines, read from the file and parsed in one statement, one row per line in file
 * order (so no window numbers them: a window over the reader would make the parse single-threaded;
 * the table's rowid is the line number - 1). Columns: `skip` (a line that holds no request: empty,
 * or a CloudFront comment), the canonical fields, key_field, `parsed` (the line has the format's
 * shape), ref_host (the referrer's host) and `raw` (the line's text, kept only when the line is
 * not usable, to be quoted).
 * `usable` is the condition over those columns that a line is usable.
 */
function parsedSelect(format: LogFormat, file: string, head: string[], logs: LogsConfig, usable: string): string {
  const reader = `(SELECT column0 AS line FROM ${lineReader(file)})`;
  // trim() copies the line: only a line that does not start with a printable ASCII character
  // (compared as bytes) can be blank
  const blank = `CASE WHEN line >= '!' AND line < chr(127) THEN false ELSE line IS NULL OR trim(line) = '' END`;
  let fields: FieldSql;
  let from: string;
  let ok: string;
  if (format === 'cloudfront') {
    const cols = cloudfrontColumns(head);
    if (!cols)
      throw InputError.single({
        message: 'a CloudFront log without a #Fields header',
        where: { file, line: 1 },
        expected: 'a "#Fields: date time ..." line before the records',
        found: head[0] ?? '',
      });
    fields = cloudfrontFields(cols);
    from = `(SELECT line, line IS NULL OR starts_with(line, '#') AS skip, string_split(line, chr(9)) AS parts FROM ${reader})`;
    ok = `len(parts) >= ${Math.max(...cols.values())}`;
  } else if (format === 'jsonl') {
    fields = jsonFields(logs.fields);
    from = `(SELECT line, ${blank} AS skip FROM ${reader})`;
    ok = 'json_valid(line)';
  } else {
    const r = regexFields(format);
    fields = r.fields;
    // The patterns are this module's constants, not input: inlined so DuckDB compiles them once.
    // Layers of columns, each computed once per line (a CASE reading a struct field per group
    // does not re-run the regex): the line split at its quotes, its first piece split at spaces,
    // the time, the fast-path check, the last pieces and (other lines only) the regex's groups as
    // a struct, the groups g_*, then the request line's words and the canonical columns.
    const regex = `regexp_extract(line, ${quoteString(r.pattern)}, [${r.groups.map(quoteString).join(', ')}])`;
    const fast = r.fast;
    const pieces = fast
      ? `(SELECT line, p, fast, s1, t1, string_split(p[3], ' ') AS s3, CASE WHEN NOT fast THEN ${regex} END AS rx
          FROM (SELECT line, p, s1, t1, coalesce(${fast.cond}, false) AS fast
          FROM (SELECT line, p, s1, ${FAST_TIME} AS t1
          FROM (SELECT line, p, string_split(p[1], ' ') AS s1
          FROM (SELECT line, string_split(line, '"') AS p FROM ${reader})))))`
      : `(SELECT line, false AS fast, ${regex} AS rx FROM ${reader})`;
    const groups = r.groups.map((g) => `${fast ? `CASE WHEN fast THEN ${fast.groups[g]} ELSE rx.${g} END` : `rx.${g}`} AS ${g}`);
    const inner = `(SELECT line, ${blank} AS skip, fast, ${groups.join(', ')} FROM ${pieces})`;
    from = `(SELECT *, ${requestSplit(r.request)} FROM ${inner})`;
    // regexp_extract gives empty groups when the anchored pattern does not match, and the
    // first group (\S+) is never empty when it does: no second regex pass per line.
    ok = `${r.groups[0]} <> ''`;
  }
  const keyField =
    logs.key === 'ip+ua' || logs.key === 'ip'
      ? 'NULL::VARCHAR'
      : // validated against the config's field-path syntax in checkKey()
        `json_extract_string(line, ${quoteString('$.' + (logs.fields[logs.key as keyof typeof logs.fields] ?? logs.key))})`;
  const cols = (Object.keys(fields) as (keyof FieldSql)[]).map((k) => `${fields[k]} AS ${k}`);
  const select = `SELECT line, skip, ${cols.join(', ')}, ${keyField} AS key_field, ${ok} AS parsed FROM ${from}`;
  // the referrer's host is read here, once: for the site's own host and for in-site referrers
  return `SELECT * EXCLUDE (line), ${REF_HOST} AS ref_host, CASE WHEN skip OR (${usable}) THEN NULL ELSE line END AS raw FROM (${select})`;
}

function checkKey(key: string, formats: LogFormat[]): void {
  if (key === 'ip+ua' || key === 'ip') return;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/.test(key) || formats.some((f) => f !== 'jsonl')) {
    throw InputError.single({
      message: 'unknown session key',
      where: { field: '--key' },
      expected: 'ip+ua, ip, or (JSON-lines logs only) a field name',
      found: key,
    });
  }
}

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

  // A log of millions of lines would let DuckDB take most of the machine's memory (its default
  // is 80% of RAM); cap it for this run and let the sort and the window functions spill to the
  // database's temp folder instead. The previous limit is restored after.
  const previous = (await store.one<{ m: string }>(`SELECT current_setting('memory_limit') AS m`))?.m;
  await store.run(`SET memory_limit = '${LOG_MEMORY_LIMIT}'`);
  // FSST (string compression) costs more CPU on write than the rest of the parse's storage for
  // little gain on log columns (agents, referrers and paths repeat: dictionary compression takes
  // them); off for this run's tables, restored after. The stored values are the same.
  const disabled = (await store.one<{ d: string }>(`SELECT current_setting('disabled_compression_methods') AS d`))?.d ?? '';
  await store.run(`SET disabled_compression_methods = ${quoteString(disabled ? `${disabled},fsst` : 'fsst')}`);
  // A file-backed store parses into a scratch database file beside it (compressed on disk, so a
  // big log does not fill the memory limit and spill); an in-memory store into temporary tables.
  const scratchFile = store.path === ':memory:' ? null : `${store.path}.ingest-logs.tmp`;
  const schema = scratchFile ? `${SCRATCH}.` : '';
  const fileTables = files.map((_, i) => `${schema}${FILE_LINES}${i}`);
  try {
    await parse();
    return await transact();
  } finally {
    // the temporary tables, views and scratch file are this run's own: dropped whatever happened
    for (const v of ['rulegen_log_ok', PARSED]) await store.run(`DROP VIEW IF EXISTS ${v}`).catch(() => undefined);
    if (scratchFile) {
      await store.run(`DETACH DATABASE IF EXISTS ${SCRATCH}`).catch(() => undefined);
      for (const f of [scratchFile, `${scratchFile}.wal`]) rmSync(f, { force: true });
    } else for (const t of fileTables) await store.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
    if (previous) await store.run(`SET memory_limit = ${quoteString(previous)}`).catch(() => undefined);
    await store.run(`SET disabled_compression_methods = ${quoteString(disabled)}`).catch(() => undefined);
  }

  /**
   * Every file into its own table, before the transaction: the store is not touched (all or
   * nothing holds), and a committed table's rowid is its row's position, which is the line
   * number (inside a transaction it is not).
   */
  async function parse(): Promise<void> {
    if (scratchFile) {
      for (const f of [scratchFile, `${scratchFile}.wal`]) rmSync(f, { force: true });
      await store.run(`ATTACH ${quoteString(scratchFile)} AS ${SCRATCH}`);
    }
    for (let i = 0; i < files.length; i++) {
      opts.onStep?.(`parsing ${files[i]}`);
      const select = parsedSelect(formats[i]!.format, files[i]!, heads[i]!, logs, okExpr);
      try {
        await store.run(`CREATE OR REPLACE ${scratchFile ? '' : 'TEMP '}TABLE ${fileTables[i]} AS ${select}`, [], { onProgress: opts.onProgress });
      } catch (e) {
        throw readError(e, files[i]!);
      }
    }
    const fileLines = fileTables.map((t, i) => `SELECT ${i} AS file_no, rowid + 1 AS line_no, * EXCLUDE (skip) FROM ${t} WHERE NOT skip`);
    await store.run(`CREATE OR REPLACE TEMP VIEW ${PARSED} AS ${fileLines.join(' UNION ALL ')}`);
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

/** Inflate the whole stream (output discarded) so a truncated or corrupt gzip is caught before anything is loaded. */
async function checkGzip(file: string): Promise<void> {
  const { createReadStream } = await import('node:fs');
  const { createGunzip } = await import('node:zlib');
  const { pipeline } = await import('node:stream/promises');
  const { Writable } = await import('node:stream');
  try {
    await pipeline(createReadStream(file), createGunzip(), new Writable({ write: (_c, _e, done) => done() }));
  } catch (e) {
    throw InputError.single({
      message: 'cannot read the log: the gzip stream is truncated or corrupt',
      where: { file },
      expected: 'a complete gzip file',
      found: String((e as Error).message ?? e),
    });
  }
}

async function checkTimeZone(store: Store, tz: string): Promise<void> {
  try {
    await store.one(`SELECT timezone(?, TIMESTAMPTZ '2020-01-01 00:00:00+00') AS t`, [tz]);
  } catch {
    throw InputError.single({ message: 'unknown time zone', where: { field: '--tz' }, expected: 'an IANA time zone such as UTC or Europe/Paris', found: tz });
  }
}

/**
 * JSON lines: every field the sessions need (time, path, the visitor key) and every mapped field
 * must be present in at least one valid record; otherwise the mapping names a field the log does
 * not have, which is a configuration error, not a log of malformed lines.
 */
async function checkJsonMapping(tx: Store, logs: LogsConfig, files: readonly string[], customKey: boolean): Promise<void> {
  const needed = new Set<string>(['ts', 'path', customKey ? 'key_field' : 'ip', ...Object.keys(logs.fields)]);
  const cols = [...needed];
  const r = (await tx.one<Record<string, number>>(
    `SELECT ${cols.map((c) => `count(${c}) AS ${c}`).join(', ')}, count(*) FILTER (WHERE parsed) AS valid FROM ${PARSED}`,
  ))!;
  if (Number(r['valid']) === 0) return; // every line malformed: reported as such
  const missing = cols.filter((c) => Number(r[c]) === 0);
  if (!missing.length) return;
  throw new InputError(
    'the JSON-lines log has no value for a field the sessions need',
    missing.map((c) => {
      const field = c === 'key_field' ? logs.key : c;
      const path = c === 'key_field' ? (logs.fields[logs.key as keyof typeof logs.fields] ?? logs.key) : (logs.fields[c as keyof typeof logs.fields] ?? c);
      return {
        severity: 'error' as const,
        message: `no record has "${path}"`,
        where: { file: files.join(', '), field: c === 'key_field' ? '--key' : `logs.fields.${field}` },
        expected: `the log's name for ${field} (set logs.fields.${field} in rulegen.yaml)`,
        found: `"${path}" in no record`,
      };
    }),
  );
}
