/**
 * The parse stage of ingest-logs: each file's lines read and parsed in DuckDB, one table per file
 * in the store, and the PARSED view over them.
 */
import { InputError } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { quoteString, type Store } from '../../db/store.js';
import type { LogsConfig } from '../../config/logs.js';
import { escapeGlob } from '../readers.js';
import { cloudfrontColumns, cloudfrontFields, FAST_TIME, jsonFields, regexFields, requestSplit, type FieldSql, type LogFormat } from './formats.js';
import { REF_HOST } from './sessionize.js';

/**
 * One file's parsed lines, in file order (so a row's rowid is its line number - 1): this prefix
 * and the file's number (a run's table: see RUN_PREFIX in ingest-logs.ts).
 */
const FILE_LINES = 'rulegen_log_file_';
/** The parsed lines of every file, with file_no and line_no (a view over the FILE_LINES tables). */
export const PARSED = 'rulegen_log_parsed';

/** One VARCHAR column, no quoting, a delimiter no log line holds: each line read whole; an empty line is kept (as NULL). */
function lineReader(file: string): string {
  return `read_csv(${quoteString(escapeGlob(file))}, columns = {'column0': 'VARCHAR'}, header = false, delim = '\\x01', quote = '', escape = '',
    auto_detect = false, strict_mode = false)`;
}

export async function firstLines(store: Store, file: string): Promise<string[]> {
  try {
    // no line numbers here: numbering needs the whole file, the head needs 50 lines (read in order)
    const rows = await store.all<{ line: string | null }>(`SELECT column0 AS line FROM ${lineReader(file)} LIMIT 50`);
    return rows.map((r) => r.line ?? '');
  } catch (e) {
    throw readError(e, file);
  }
}

export function readError(e: unknown, file: string): InputError {
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

/**
 * The parsed lines' tables of one run: one per file, in the store itself (compressed on disk for a
 * file-backed store, so a big log neither fills the memory limit nor is copied again: the
 * `requests` view reads these very tables once they are committed under REQUEST_LINES names).
 */
export function lineTables(files: readonly string[]): string[] {
  return files.map((_, i) => `${FILE_LINES}${i}`);
}

/** Where a committed ingest keeps file i's parsed lines (read by the `requests` view). */
export const REQUEST_LINES = 'rulegen_requests_lines_';

export interface ParseInput {
  files: readonly string[];
  formats: readonly { format: LogFormat }[];
  heads: readonly string[][];
  logs: LogsConfig;
  /** The condition that a parsed line is usable. */
  okExpr: string;
  onStep?: ((message: string) => void) | undefined;
  onProgress?: OnProgress | undefined;
}

/**
 * Every file into its own table, before the transaction: the data tables are not touched (all
 * or nothing holds: the run's tables are dropped when it fails), and a committed table's rowid is
 * its row's position, which is the line number (inside a transaction it is not).
 */
export async function parseFiles(store: Store, tables: readonly string[], p: ParseInput): Promise<void> {
  const { files, formats, heads, logs, okExpr } = p;
  for (let i = 0; i < files.length; i++) {
    p.onStep?.(`parsing ${files[i]}`);
    const select = parsedSelect(formats[i]!.format, files[i]!, heads[i]!, logs, okExpr);
    try {
      await store.run(`CREATE OR REPLACE TABLE ${tables[i]} AS ${select}`, [], { onProgress: p.onProgress });
    } catch (e) {
      throw readError(e, files[i]!);
    }
  }
  const fileLines = tables.map((t, i) => `SELECT ${i} AS file_no, rowid + 1 AS line_no, * EXCLUDE (skip) FROM ${t} WHERE NOT skip`);
  await store.run(`CREATE OR REPLACE TEMP VIEW ${PARSED} AS ${fileLines.join(' UNION ALL ')}`);
}

/** Tables of a run dropped (errors ignored): after a failure, or after the ones kept were renamed (nothing to drop then). */
export async function dropTables(store: Store, tables: readonly string[]): Promise<void> {
  for (const t of tables) await store.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
}
