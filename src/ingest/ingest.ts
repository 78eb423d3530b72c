/**
 * `rulegen ingest`: feature files -> the sessions table, all or nothing.
 *
 * Each file is planned against the catalog (schema-check.ts) from its described columns, then
 * read by DuckDB into a staging table in one CREATE TABLE AS scan whose projection casts and
 * value-checks every column. One aggregate scan then checks ids, times and counts labels. Only
 * when every file passes does the stage replace or extend `sessions`, inside the same
 * transaction, so any failure leaves the table exactly as it was.
 */
import type { Catalog } from '../catalog/schema.js';
import type { OnProgress } from '../progress.js';
import type { Config } from '../config/schema.js';
import { InputError, type Problem } from '../errors.js';
import { quoteIdent, type Store, type Value } from '../db/store.js';
import { checkReadable, detectFormat, findRaggedLine, readerSql, type FileFormat } from './readers.js';
import { resolveInputs, type GlobMatch } from './inputs.js';
import { CHECK_PREFIX, GUARD_PREFIX, planIngest, type IngestPlan, type ValueCheck } from './schema-check.js';
import { diagnoseChecks } from './value-check.js';

export interface IngestOptions {
  /** Paths, read literally when such a file exists; patterns otherwise (see inputs.ts). */
  files: readonly string[];
  /** Treat every argument as a glob pattern, even one that names an existing file. */
  glob?: boolean;
  replace: boolean;
  /** Called with a short message before each long step (progress on a TTY). */
  onStep?: (message: string) => void;
  /** Rows read by the long statement of each file, for a progress line (rows, rate, ETA). */
  onProgress?: OnProgress;
}

export interface IngestSummary {
  files: { file: string; rows: number }[];
  /** The patterns expanded and the files each matched (empty when every argument was a path). */
  globs: GlobMatch[];
  /** Rows loaded by this ingest. */
  rows: number;
  bots: number;
  humans: number;
  unlabelled: number;
  from: string | null;
  to: string | null;
  extras: string[];
  /** Rows in the table afterwards. */
  totalRows: number;
  replaced: boolean;
  warnings: Problem[];
}

const STAGE = 'rulegen_ingest_stage';
const RAW = 'rulegen_ingest_raw';

export async function ingest(store: Store, config: Config, catalog: Catalog, opts: IngestOptions): Promise<IngestSummary> {
  if (opts.files.length === 0) throw InputError.single({ message: 'no input files', expected: 'one or more files', found: 'none' });
  const inputs = await resolveInputs(store, opts.files, opts.glob ?? false);
  const paths = inputs.files;
  const formats = paths.map((f) => {
    checkReadable(f);
    return detectFormat(f);
  });
  const table = quoteIdent(config.data.table);
  const exists = await store.tableExists(config.data.table);

  try {
    return await store.transaction(staged);
  } catch (e) {
    // DuckDB aborts the transaction at the guard's error: the offending values are counted
    // after the rollback, by reading the file once more (the error path only).
    if (!(e instanceof CheckFailed)) throw e;
    const problems = await diagnoseChecks(store, readerSql(e.file, e.format), e.checks, e.file);
    if (problems.length) throw new InputError(`${e.file}: values the catalog does not allow`, problems);
    throw await readError(e.cause, e.file, e.format);
  }

  async function staged(tx: Store): Promise<IngestSummary> {
    await tx.run(`DROP TABLE IF EXISTS ${STAGE}`);
    const warnings: Problem[] = [];
    const files: { file: string; rows: number }[] = [];
    let first: IngestPlan | undefined;
    for (let i = 0; i < paths.length; i++) {
      const file = paths[i]!;
      const format = formats[i]!;
      opts.onStep?.(`reading ${file}`);
      const plan = await stageFile(tx, file, format, i === 0);
      warnings.push(...plan.problems);
      first ??= plan;
      const before = files.reduce((a, f) => a + f.rows, 0);
      const after = (await tx.one<{ n: number }>(`SELECT count(*) AS n FROM ${STAGE}`))?.n ?? 0;
      if (after === before)
        throw InputError.single({ message: 'the file has no rows', where: { file }, expected: 'a header and at least one session', found: '0 rows' });
      files.push({ file, rows: after - before });
    }

    opts.onStep?.('checking ids, times and labels');
    const stats = await checkStage(tx, config, paths);
    if (exists && !opts.replace) {
      await checkAppend(tx, config, first!, paths[0]!);
      opts.onStep?.(`appending to ${config.data.table}`);
      await tx.run(`INSERT INTO ${table} BY NAME SELECT * FROM ${STAGE}`);
      await tx.run(`DROP TABLE ${STAGE}`);
    } else {
      if (exists) await tx.run(`DROP TABLE ${table}`);
      await tx.run(`ALTER TABLE ${STAGE} RENAME TO ${table}`);
    }
    const total = (await tx.one<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n ?? 0;
    return {
      files,
      globs: inputs.globs,
      rows: stats.n,
      bots: stats.bots,
      humans: stats.humans,
      unlabelled: stats.unlabelled,
      from: stats.from,
      to: stats.to,
      extras: first!.extras,
      totalRows: total,
      replaced: exists && opts.replace,
      warnings,
    };
  }

  /** Plan the file's columns and copy it, cast and checked, into the stage. */
  async function stageFile(tx: Store, file: string, format: FileFormat, create: boolean): Promise<IngestPlan> {
    let source: string;
    if (format === 'arrow') {
      await tx.run(`DROP TABLE IF EXISTS ${RAW}`);
      // apache-arrow is loaded only for Arrow files: it adds ~0.1 s to every start-up otherwise
      const { loadArrowInto } = await import('./arrow.js');
      await loadArrowInto(tx, file, RAW);
      source = RAW;
    } else source = readerSql(file, format);
    let columns;
    try {
      columns = await tx.describe(`SELECT * FROM ${source}`);
    } catch (e) {
      throw await readError(e, file, format);
    }
    const empty = format !== 'arrow' && (await tx.all(`SELECT 1 AS x FROM ${source} LIMIT 1`)).length === 0;
    const plan = planIngest(columns, config, catalog, file);
    const invalid = plan.problems.some((p) => p.severity === 'error');
    if ((empty || invalid) && (format === 'csv' || format === 'tsv')) {
      // A ragged CSV can make the sniffer settle on a header-only or one-column reading:
      // say which row is wrong rather than what the misreading lacks.
      const ragged = await findRaggedLine(file, format === 'csv' ? ',' : '\t');
      if (ragged) throw raggedError(file, ragged);
    }
    if (empty) throw InputError.single({ message: 'the file has no rows', where: { file }, expected: 'a header and at least one session', found: '0 rows' });
    if (invalid) throw new InputError(`${file}: does not match the configuration and catalog`, plan.problems);
    if (format === 'arrow') {
      // The Arrow rows are already in a table, so counting violations first costs one cheap scan
      // (and, unlike a file, RAW would be gone after the rollback).
      const problems = await diagnoseChecks(tx, RAW, plan.checks, file);
      if (problems.length) throw new InputError(`${file}: values the catalog does not allow`, problems);
    }
    const select = `SELECT ${plan.select.join(', ')} FROM ${source}`;
    try {
      await tx.run(create ? `CREATE TABLE ${STAGE} AS ${select}` : `INSERT INTO ${STAGE} BY NAME ${select}`, [], { onProgress: opts.onProgress });
    } catch (e) {
      if (format !== 'arrow' && String((e as Error).message).includes(CHECK_PREFIX)) throw new CheckFailed(file, format, plan.checks, e);
      throw await readError(e, file, format);
    }
    if (format === 'arrow') await tx.run(`DROP TABLE ${RAW}`);
    return plan;
  }
}

/** A catalog guard stopped the scan of `file`; diagnosed once the transaction is rolled back. */
class CheckFailed extends Error {
  constructor(
    readonly file: string,
    readonly format: Exclude<FileFormat, 'arrow'>,
    readonly checks: readonly ValueCheck[],
    override readonly cause: unknown,
  ) {
    super(`a catalog check failed in ${file}`);
  }
}

interface StageStats {
  n: number;
  bots: number;
  humans: number;
  unlabelled: number;
  from: string | null;
  to: string | null;
}

/** One aggregate scan: ids present and unique, times present, label counts, time range. */
async function checkStage(tx: Store, config: Config, files: readonly string[]): Promise<StageStats> {
  const id = quoteIdent(config.data.id);
  const t = quoteIdent(config.data.time);
  const l = quoteIdent(config.data.label);
  const r = (await tx.one<Record<string, number | string | null>>(
    // Distinct 64-bit hashes prove distinct ids and aggregate faster than the ids themselves;
    // only when hashes collide is the exact (slower) check below needed.
    `SELECT count(*) AS n, count(${id}) AS ids, count(DISTINCT hash(${id})) FILTER (WHERE ${id} IS NOT NULL) AS distinct_ids, count(${t}) AS times,
       sum(CASE WHEN ${l} = 1 THEN 1 ELSE 0 END) AS bots, sum(CASE WHEN ${l} = 0 THEN 1 ELSE 0 END) AS humans,
       CAST(min(${t}) AS VARCHAR) AS from_ts, CAST(max(${t}) AS VARCHAR) AS to_ts
     FROM ${STAGE}`,
  ))!;
  const n = Number(r['n']);
  const where = { file: files.join(', ') };
  const problems: Problem[] = [];
  if (Number(r['ids']) < n)
    problems.push({
      severity: 'error',
      message: `${n - Number(r['ids'])} rows have no id`,
      where: { ...where, field: config.data.id },
      expected: 'an id on every row',
      found: 'empty ids',
    });
  if (Number(r['distinct_ids']) < Number(r['ids'])) {
    const exact = await tx.one<{ d: number }>(`SELECT count(DISTINCT ${id}) AS d FROM ${STAGE}`);
    r['distinct_ids'] = exact?.d ?? 0;
  }
  if (Number(r['distinct_ids']) < Number(r['ids'])) {
    const dups = await tx.all<{ id: Value; n: number }>(
      `SELECT ${id} AS id, count(*) AS n FROM ${STAGE} WHERE ${id} IS NOT NULL GROUP BY ${id} HAVING count(*) > 1 ORDER BY ${id} LIMIT 3`,
    );
    problems.push({
      severity: 'error',
      message: `${Number(r['ids']) - Number(r['distinct_ids'])} duplicate ids`,
      where: { ...where, field: config.data.id },
      expected: 'a unique id per session',
      found: dups.map((d) => `${JSON.stringify(d.id)} x${d.n}`).join(', '),
    });
  }
  if (Number(r['times']) < n)
    problems.push({
      severity: 'error',
      message: `${n - Number(r['times'])} rows have no time`,
      where: { ...where, field: config.data.time },
      expected: 'a timestamp on every row',
      found: 'empty times',
    });
  if (problems.length) throw new InputError('invalid data', problems);
  const bots = Number(r['bots']);
  const humans = Number(r['humans']);
  return { n, bots, humans, unlabelled: n - bots - humans, from: (r['from_ts'] as string | null) ?? null, to: (r['to_ts'] as string | null) ?? null };
}

/** Appending: the table must have every staged column, and no staged id may exist already. */
async function checkAppend(tx: Store, config: Config, plan: IngestPlan, file: string): Promise<void> {
  const table = quoteIdent(config.data.table);
  const id = quoteIdent(config.data.id);
  const cols = new Set((await tx.describe(`SELECT * FROM ${table}`)).map((c) => c.name));
  const missing = plan.columns.filter((c) => !cols.has(c));
  if (missing.length) {
    throw InputError.single({
      message: `the existing ${config.data.table} table has no column ${missing.map((m) => `"${m}"`).join(', ')}`,
      where: { file, field: missing[0] },
      expected: 'the columns of the data already loaded (or --replace to start over)',
      found: `new columns ${missing.join(', ')}`,
    });
  }
  const clash = await tx.all<{ id: Value }>(`SELECT ${id} AS id FROM ${STAGE} WHERE ${id} IN (SELECT ${id} FROM ${table}) ORDER BY 1 LIMIT 5`);
  if (clash.length) {
    throw InputError.single({
      message: 'some ids are already loaded',
      where: { file, field: config.data.id },
      expected: 'ids not yet in the table (or --replace to start over)',
      found: clash.map((c) => JSON.stringify(c.id)).join(', ') + (clash.length === 5 ? ', ...' : ''),
    });
  }
}

function raggedError(file: string, r: { line: number; expected: number; found: number; text: string }): InputError {
  return InputError.single({
    message: 'malformed CSV: a row has the wrong number of fields',
    where: { file, line: r.line },
    expected: `${r.expected} fields, as in the header`,
    found: `${r.found} fields`,
    excerpt: r.text,
  });
}

/** DuckDB's reader and guard errors -> an InputError naming the file, and the line where known. */
async function readError(e: unknown, file: string, format: FileFormat): Promise<InputError> {
  if (e instanceof InputError) return e;
  const msg = (e as Error).message ?? String(e);
  const guard = msg.indexOf(GUARD_PREFIX);
  if (guard >= 0) {
    const [column, expected, value, id] = msg
      .slice(guard + GUARD_PREFIX.length)
      .split('\n')[0]!
      .split('|');
    return InputError.single({
      message: `invalid value in column "${column}"`,
      where: { file, field: column },
      expected,
      found: `${JSON.stringify(value)} (row with id ${id})`,
    });
  }
  // "CSV Error on Line: 40002" (not the "LINE 1:" of DuckDB's SQL excerpt)
  const line = /Line: (\d+)/.exec(msg)?.[1];
  const original = /Original Line:\s*(.*)/.exec(msg)?.[1];
  const first = msg.split('\n')[0]!.replace(/^[A-Za-z ]+Error:\s*/, '');
  if ((format === 'csv' || format === 'tsv') && !line) {
    const ragged = await findRaggedLine(file, format === 'csv' ? ',' : '\t');
    if (ragged) return raggedError(file, ragged);
  }
  const columnMatch = /column "?([A-Za-z0-9_]+)"?/i.exec(msg)?.[1];
  return InputError.single({
    message: `cannot read the file: ${first}`,
    where: { file, line: line ? Number(line) : undefined, field: columnMatch },
    excerpt: original,
  });
}
