/**
 * The error path of the catalog checks (schema-check.ts `ValueCheck`): once a guard has stopped
 * the ingest scan, one aggregate query over the same source counts every violation of every
 * check, and a small grouped query per failing category shows its most frequent offending
 * values. Only counts and a few capped values reach JS.
 */
import type { Problem } from '../errors.js';
import type { Store } from '../db/store.js';
import { sqlNumber, type ValueCheck } from './schema-check.js';

/** Offending values shown per column. */
const SHOWN = 5;
/** Characters of a value shown (longer values are cut and their length given). */
const MAX_CHARS = 40;
/** Catalog values listed in `expected` before "and N more". */
const LISTED = 20;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };
/** Control, format (bidi overrides, zero-width), separator and lone-surrogate characters. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/**
 * A data-borne value made safe to print in a terminal or a log: double-quoted, with quotes,
 * backslashes and every control or invisible character escaped, cut at `max` characters.
 * `length` is the value's full length when the caller already cut it (e.g. in SQL).
 */
export function quoteValue(value: string, max = MAX_CHARS, length?: number): string {
  const chars = Array.from(value);
  const total = length ?? chars.length;
  let out = '"';
  for (const ch of chars.slice(0, max)) {
    const named = NAMED[ch];
    if (named) out += named;
    else if (UNSAFE.test(ch)) {
      const cp = ch.codePointAt(0)!;
      out += cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
    } else out += ch;
  }
  out += '"';
  return total > max ? `${out}... (${total} characters)` : out;
}

/** "in [0, 1]", "at least 0", "at most 10". */
export function describeRange([lo, hi]: readonly [number | null, number | null]): string {
  if (lo !== null && hi !== null) return `in [${lo}, ${hi}]`;
  return lo !== null ? `at least ${lo}` : `at most ${hi}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Every check's violations in `source`, as problems naming `file` and the column. */
export async function diagnoseChecks(tx: Store, source: string, checks: readonly ValueCheck[], file: string): Promise<Problem[]> {
  if (checks.length === 0) return [];
  const bad = (c: ValueCheck) => `${c.value} IS NOT NULL AND NOT (${c.ok})`;
  const parts = checks.flatMap((c, i) => {
    const cols = [`count(*) FILTER (WHERE ${bad(c)}) AS bad_${i}`];
    if (c.kind === 'range') {
      const [lo, hi] = c.range!;
      if (lo !== null) cols.push(`count(*) FILTER (WHERE ${c.value} < ${sqlNumber(lo)}) AS below_${i}`, `min(${c.value}) AS min_${i}`);
      if (hi !== null) cols.push(`count(*) FILTER (WHERE NOT (${c.value} <= ${sqlNumber(hi)})) AS above_${i}`, `max(${c.value}) AS max_${i}`);
    } else cols.push(`count(DISTINCT ${c.value}) FILTER (WHERE ${bad(c)}) AS distinct_${i}`);
    return cols;
  });
  const r = (await tx.one<Record<string, number | null>>(`SELECT ${parts.join(', ')} FROM ${source}`))!;
  const problems: Problem[] = [];
  for (const [i, c] of checks.entries()) {
    const n = Number(r[`bad_${i}`] ?? 0);
    if (n === 0) continue;
    const where = { file, field: c.column };
    if (c.kind === 'range') {
      const found: string[] = [];
      const below = Number(r[`below_${i}`] ?? 0);
      const above = Number(r[`above_${i}`] ?? 0);
      if (below) found.push(`${plural(below, 'row')} below ${c.range![0]} (lowest ${r[`min_${i}`]})`);
      if (above) found.push(`${plural(above, 'row')} above ${c.range![1]} (highest ${r[`max_${i}`]})`);
      problems.push({
        severity: 'error',
        message: `${plural(n, 'value')} of "${c.column}" outside the catalog range`,
        where,
        expected: `values ${describeRange(c.range!)} (features.yaml range)`,
        found: found.join(', '),
      });
    } else {
      const distinct = Number(r[`distinct_${i}`] ?? 0);
      // Values are grouped whole but only their first characters reach JS.
      const top = await tx.all<{ v: string; len: number; n: number }>(
        `SELECT left(${c.value}, ${MAX_CHARS + 1}) AS v, length(${c.value}) AS len, count(*) AS n FROM ${source} WHERE ${bad(c)} GROUP ` +
          `BY ${c.value} ORDER BY n DESC, ${c.value} LIMIT ${SHOWN}`,
      );
      const shown = top.map((t) => `${quoteValue(t.v, MAX_CHARS, t.len)} x${t.n}`).join(', ');
      const more = distinct > top.length ? `, and ${plural(distinct - top.length, 'other value')}` : '';
      const list = c.values!;
      const listed =
        list
          .slice(0, LISTED)
          .map((v) => quoteValue(v))
          .join(', ') + (list.length > LISTED ? `, and ${list.length - LISTED} more` : '');
      problems.push({
        severity: 'error',
        message: `${plural(n, 'row')} of "${c.column}" with a value not in the catalog's list`,
        where,
        expected: `one of ${listed} (features.yaml values)`,
        found: shown + more,
      });
    }
  }
  return problems;
}
