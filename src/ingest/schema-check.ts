/**
 * Pure schema checks for ingest: given the columns a file provides (name and DuckDB type), the
 * config and the catalog, decide how each column is stored (a projection with casts) and report
 * every mismatch at once.
 */
import { listedValues, type Catalog, type Feature } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import type { Problem } from '../errors.js';
import { quoteIdent, quoteString as sqlText } from '../db/store.js';

export interface SourceColumn {
  name: string;
  type: string;
}

/** Prefix of errors raised from inside DuckDB by a guarded projection (see `guard`). */
export const GUARD_PREFIX = 'rulegen-value:';

/**
 * A projection that stores `value` when `ok` holds and otherwise stops the statement with a
 * message naming the column, the offending value and its row's id. Checking inside the one
 * CREATE TABLE AS scan keeps ingest to a single pass over the file.
 */
function guard(column: string, ok: string, value: string, expected: string, idExpr: string): string {
  const q = quoteIdent(column);
  const msg = `'${GUARD_PREFIX}' || ${sqlText(column)} || '|' || ${sqlText(expected)} || '|' || CAST(${q} AS VARCHAR) || '|' || CAST(${idExpr} AS VARCHAR)`;
  return `CASE WHEN ${q} IS NULL THEN NULL WHEN ${ok} THEN ${value} ELSE error(${msg}) END AS ${q}`;
}

/** Prefix of errors raised by a catalog check (`checkGuard`); the column name follows. */
export const CHECK_PREFIX = 'rulegen-check:';

/**
 * A catalog constraint on a stored value (a category's closed list, a number's range), checked
 * inside the ingest scan. The guard only stops the scan; on that (rare) path `diagnoseChecks`
 * re-reads the source to count and show the offending values, so the happy path stays one pass.
 */
export interface ValueCheck {
  column: string;
  kind: 'values' | 'range';
  /** SQL of the stored value, computed from the source column. */
  value: string;
  /** SQL that holds for an allowed, non-null value. */
  ok: string;
  /** The closed list (kind `values`) or the bounds (kind `range`), from the catalog. */
  values?: readonly string[];
  range?: readonly [number | null, number | null];
}

function checkGuard(c: ValueCheck): string {
  const q = quoteIdent(c.column);
  return `CASE WHEN ${q} IS NULL THEN NULL WHEN ${c.ok} THEN ${c.value} ELSE error(${sqlText(CHECK_PREFIX + c.column)}) END AS ${q}`;
}

/** A catalog number as SQL: `String(n)` of a finite number always parses as a DOUBLE. */
export function sqlNumber(n: number): string {
  return `CAST(${sqlText(String(n))} AS DOUBLE)`;
}

/** The catalog's constraint on feature `f` whose stored value is `value`, if it has one. */
export function catalogCheck(f: Feature, value: string): ValueCheck | undefined {
  if (f.type === 'category') {
    const list = listedValues(f);
    if (!list) return undefined;
    return { column: f.name, kind: 'values', value, ok: `${value} IN (${list.map(sqlText).join(', ')})`, values: list };
  }
  if (f.type === 'number' && f.range && (f.range[0] !== null || f.range[1] !== null)) {
    const [lo, hi] = f.range;
    const ok = [lo !== null ? `${value} >= ${sqlNumber(lo)}` : '', hi !== null ? `${value} <= ${sqlNumber(hi)}` : ''].filter(Boolean).join(' AND ');
    return { column: f.name, kind: 'range', value, ok, range: [lo, hi] };
  }
  return undefined;
}

export interface IngestPlan {
  /** Projection from the source into the stored table, in stored order. */
  select: string[];
  /** Stored column names, in order. */
  columns: string[];
  extras: string[];
  problems: Problem[];
  /** Catalog constraints checked inside the scan (see `ValueCheck`). */
  checks: ValueCheck[];
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TIMESTAMP = /^(TIMESTAMP|TIMESTAMP_NS|TIMESTAMP_MS|TIMESTAMP_S|DATE|TIMESTAMP WITH TIME ZONE)$/;
const STRINGY = /^(VARCHAR|ENUM.*)$/;

export function planIngest(source: readonly SourceColumn[], config: Config, catalog: Catalog, file: string): IngestPlan {
  const byName = new Map(source.map((c) => [c.name, c]));
  const problems: Problem[] = [];
  const checks: ValueCheck[] = [];
  const select: string[] = [];
  const columns: string[] = [];
  const { id, time, label, segments } = config.data;
  const where = (field: string) => ({ file, field });
  const present = source.map((c) => c.name).join(', ');

  const need = (name: string, role: string): SourceColumn | undefined => {
    const c = byName.get(name);
    if (!c)
      problems.push({
        severity: 'error',
        message: `missing the ${role} column "${name}"`,
        where: where(name),
        expected: `a column named ${name} (config data.${role})`,
        found: `columns ${present}`,
      });
    return c;
  };

  const idCol = need(id, 'id');
  if (idCol) {
    select.push(quoteIdent(id));
    columns.push(id);
  }

  const timeCol = need(time, 'time');
  if (timeCol) {
    if (!TIMESTAMP.test(timeCol.type)) {
      problems.push({
        severity: 'error',
        message: `the time column "${time}" is not a timestamp`,
        where: where(time),
        expected: 'TIMESTAMP (or DATE, or a timestamp string the reader recognises)',
        found: timeCol.type,
      });
    } else {
      // Store UTC wall-clock time so that per-day breakdowns do not depend on the session's zone.
      const expr =
        timeCol.type === 'TIMESTAMP WITH TIME ZONE'
          ? `timezone('UTC', ${quoteIdent(time)})`
          : timeCol.type === 'TIMESTAMP'
            ? quoteIdent(time)
            : `CAST(${quoteIdent(time)} AS TIMESTAMP)`;
      select.push(`${expr} AS ${quoteIdent(time)}`);
      columns.push(time);
    }
  }

  const labelCol = need(label, 'label');
  if (labelCol) {
    const q = quoteIdent(label);
    const idExpr = quoteIdent(id);
    const expected = '1 (bot), 0 (human) or empty';
    if (labelCol.type === 'BOOLEAN') select.push(`CAST(${q} AS INTEGER) AS ${q}`);
    else if (NUMERIC.test(labelCol.type)) select.push(guard(label, `${q} IN (0, 1)`, `CAST(${q} AS INTEGER)`, expected, idExpr));
    else if (labelCol.type === 'VARCHAR' || labelCol.type === '"NULL"' || labelCol.type === 'NULL') {
      // An empty string is an unknown label, like an empty cell.
      select.push(guard(label, `trim(CAST(${q} AS VARCHAR)) IN ('0', '1', '')`, `CAST(nullif(trim(CAST(${q} AS VARCHAR)), '') AS INTEGER)`, expected, idExpr));
    } else {
      problems.push({
        severity: 'error',
        message: `the label column "${label}" has the wrong type`,
        where: where(label),
        expected: '0/1 integers, booleans or empty values',
        found: labelCol.type,
      });
    }
    columns.push(label);
  }

  for (const f of catalog.features) {
    const c = byName.get(f.name);
    const q = quoteIdent(f.name);
    if (!c) {
      problems.push({
        severity: 'error',
        message: `missing the catalog feature "${f.name}"`,
        where: where(f.name),
        expected: `a ${f.type} column named ${f.name} (features.yaml)`,
        found: `columns ${present}`,
      });
      continue;
    }
    if ([id, time, label].includes(f.name)) {
      problems.push({ severity: 'error', message: `catalog feature "${f.name}" is also the id, time or label column`, where: where(f.name) });
      continue;
    }
    const nullType = c.type === '"NULL"' || c.type === 'NULL';
    if (f.type === 'number') {
      if (!(c.type === 'DOUBLE' || NUMERIC.test(c.type) || nullType)) {
        problems.push({
          severity: 'error',
          message: `feature "${f.name}" is not numeric`,
          where: where(f.name),
          expected: 'number (an integer or decimal column)',
          found: c.type,
        });
        continue;
      }
      const value = c.type === 'DOUBLE' ? q : `CAST(${q} AS DOUBLE)`;
      const check = catalogCheck(f, value);
      if (check) checks.push(check);
      select.push(check ? checkGuard(check) : c.type === 'DOUBLE' ? q : `${value} AS ${q}`);
    } else if (f.type === 'boolean') {
      if (c.type === 'BOOLEAN') select.push(q);
      else if (INTEGER.test(c.type) || nullType) {
        select.push(guard(f.name, `${q} IN (0, 1)`, `CAST(${q} AS BOOLEAN)`, 'true/false or 0/1', quoteIdent(id)));
      } else {
        problems.push({
          severity: 'error',
          message: `feature "${f.name}" is not boolean`,
          where: where(f.name),
          expected: 'boolean (true/false or 0/1)',
          found: c.type,
        });
        continue;
      }
    } else {
      if (!(STRINGY.test(c.type) || INTEGER.test(c.type) || c.type === 'BOOLEAN' || nullType)) {
        problems.push({
          severity: 'error',
          message: `feature "${f.name}" is not a category`,
          where: where(f.name),
          expected: 'category (text values)',
          found: c.type,
        });
        continue;
      }
      const value = c.type === 'VARCHAR' ? q : `CAST(${q} AS VARCHAR)`;
      const check = catalogCheck(f, value);
      if (check) checks.push(check);
      select.push(check ? checkGuard(check) : c.type === 'VARCHAR' ? q : `${value} AS ${q}`);
    }
    columns.push(f.name);
  }

  const taken = new Set(
    columns.concat(
      [id, time, label],
      catalog.features.map((f) => f.name),
    ),
  );
  const extras = source.filter((c) => !taken.has(c.name)).map((c) => c.name);
  for (const e of extras) {
    select.push(quoteIdent(e));
    columns.push(e);
  }
  for (const s of segments) {
    if (!byName.has(s)) problems.push({ severity: 'warning', message: `segment column "${s}" is missing: FPR per segment will skip it`, where: where(s) });
  }
  return { select, columns, extras, problems, checks };
}
