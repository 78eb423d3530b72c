/**
 * The labels overlay at work: a temporary view named like the sessions table shadows it (DuckDB
 * resolves temporary objects first), so every statement of every command reads the corrected
 * labels without knowing about them. Only the matched sessions' ids are materialised (a temp
 * table, filled with bound parameters); the view joins them back. The database file is never
 * written: this works on a read-only store.
 */
import type { Config } from '../config/schema.js';
import type { Param, Store } from '../db/store.js';
import { quoteIdent } from '../db/store.js';
import { labelValue, type CompiledCorrection } from './overlay.js';

export interface OverlaySummary {
  corrections: { where: string; as: string; reviewer: string; reason: string; matched: number; changed: number }[];
  /** Sessions whose label the overlay changes (a session matched by several corrections counts once). */
  changed: number;
}

const FIX = 'rulegen_label_fix';

/** Apply the corrections to `config.data.table`; null when there are none or no such table. */
export async function applyLabelOverlay(store: Store, config: Config, corrections: readonly CompiledCorrection[]): Promise<OverlaySummary | null> {
  if (!corrections.length || !(await store.tableExists(config.data.table))) return null;
  const db = (await store.one<{ d: string }>('SELECT current_database() AS d'))!.d;
  const base = `${quoteIdent(db)}.main.${quoteIdent(config.data.table)}`;
  const id = quoteIdent(config.data.id);
  const label = quoteIdent(config.data.label);
  // The last correction wins where several match: test them from the newest back.
  const newest = [...corrections].reverse();
  const params: Param[] = [];
  const cases = newest.map((c) => {
    params.push(...c.predicate.parameters);
    return `WHEN ${c.predicate.sql} THEN ${labelValue(c.as as 'bot' | 'human' | 'unknown') ?? 'NULL'}`;
  });
  const matches = corrections.map((c, i) => {
    params.push(...c.predicate.parameters);
    return `(${c.predicate.sql}) AS m${i}`;
  });
  const any = corrections.map((c) => {
    params.push(...c.predicate.parameters);
    return `(${c.predicate.sql})`;
  });
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${FIX} AS
     SELECT ${id} AS id, CAST(CASE ${cases.join(' ')} END AS INTEGER) AS new_label, ${label} AS old_label, ${matches.join(', ')}
     FROM ${base} WHERE ${any.join(' OR ')}`,
    params,
  );
  const counts = (await store.one<Record<string, number>>(
    `SELECT count(*) FILTER (WHERE new_label IS DISTINCT FROM old_label) AS changed, ${corrections
      .map((_, i) => `count(*) FILTER (WHERE m${i}) AS m${i}, count(*) FILTER (WHERE m${i} AND new_label IS DISTINCT FROM old_label) AS c${i}`)
      .join(', ')} FROM ${FIX}`,
  ))!;
  await store.run(
    `CREATE OR REPLACE TEMP VIEW ${quoteIdent(config.data.table)} AS
     SELECT s.* REPLACE (CASE WHEN f.id IS NOT NULL THEN f.new_label ELSE s.${label} END AS ${label})
     FROM ${base} s LEFT JOIN ${FIX} f ON s.${id} = f.id`,
  );
  return {
    changed: Number(counts['changed']),
    corrections: corrections.map((c, i) => ({
      where: c.where,
      as: c.as,
      reviewer: c.reviewer,
      reason: c.reason,
      matched: Number(counts[`m${i}`]),
      changed: Number(counts[`c${i}`]),
    })),
  };
}

/** One line for stderr: how many labels the overlay changes, by whom, why. */
export function overlayNote(s: OverlaySummary): string {
  const who = s.corrections.map((c) => `${c.as} where ${c.where} (${c.changed} changed; ${c.reviewer}: ${c.reason})`).join('; ');
  return `label corrections from labels.yaml applied: ${s.changed.toLocaleString('en-US')} session label${s.changed === 1 ? '' : 's'} changed — ${who}`;
}
