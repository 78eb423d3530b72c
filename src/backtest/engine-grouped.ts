/** Grouped scans and the per-day, per-segment and per-population results read from their rows. */
import type { Param } from '../db/store.js';
import type { SqlPlan } from '../engine/plan.js';
import { wilson } from './stats.js';
import type { DailyPoint, Db, GroupRow, SegmentResult } from './engine-types.js';

/** Daily points of one rule from rows grouped by (day, label); `window` marks which side of the split. */
export function dailyPoints(groups: Map<string, GroupRow[]>, i: number, window: DailyPoint['window']): DailyPoint[] {
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, rs]) => {
      const rows = rs.reduce((a, r) => a + Number(r['n']), 0);
      const hum = rs.find((r) => r['lbl'] === 0);
      const bot = rs.find((r) => r['lbl'] === 1);
      const humans = Number(hum?.['n'] ?? 0);
      const bots = Number(bot?.['n'] ?? 0);
      const fp = Number(hum?.[`h${i}`] ?? 0);
      const tp = Number(bot?.[`h${i}`] ?? 0);
      const hits = rs.reduce((a, r) => a + Number(r[`h${i}`] ?? 0), 0);
      return { day, window, rows, humans, bots, hits, tp, fp, recall: bots ? tp / bots : null, fpr: humans ? fp / humans : null };
    });
}

export function groupBy(rows: readonly GroupRow[], key: string): Map<string, GroupRow[]> {
  const groups = new Map<string, GroupRow[]>();
  for (const r of rows) {
    const k = r[key] === null ? '(none)' : String(r[key]);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

export function segmentResult(rs: readonly GroupRow[], i: number): SegmentResult {
  const rows = rs.reduce((a, r) => a + Number(r['n']), 0);
  const hum = rs.find((r) => r['lbl'] === 0);
  const humans = Number(hum?.['n'] ?? 0);
  const fp = Number(hum?.[`h${i}`] ?? 0);
  const hits = rs.reduce((a, r) => a + Number(r[`h${i}`] ?? 0), 0);
  const w = humans ? wilson(fp, humans) : null;
  return { rows, humans, hits, fp, fpr: humans ? fp / humans : null, fpr_upper95: w ? w.upper : null, fpr_lower95: w ? w.lower : null };
}

/**
 * One scan grouped by label alone and by each key with label: GROUPING SETS where the dialect
 * has them, else every row once per set (CROSS JOIN UNNEST) grouped by the set's number. Rows
 * come back in the GROUPING SETS shape either way: k<i> (the key as text), g<i> (1 = not grouped
 * by key i), lbl, n, then the measures. Parameters: measures, `from`, `where`, in that order.
 */
export async function groupedScan(
  db: Db,
  p: SqlPlan,
  keys: readonly string[],
  label: string,
  measures: string,
  from: string,
  where: string | undefined,
  params: readonly Param[],
): Promise<GroupRow[]> {
  const w = where ? ` WHERE ${where}` : '';
  if (p.can.groupingSets === 'native') {
    const sets = [`(${label})`, ...keys.map((k) => `(${k}, ${label})`)].join(', ');
    const keyCols = keys.map((k, i) => `${p.cast(k, 'text')} AS k${i}`).join(', ');
    const groupingIds = keys.map((k, i) => `grouping(${k}) AS g${i}`).join(', ');
    return db.all<GroupRow>(
      `SELECT ${keyCols}, ${groupingIds}, ${label} AS lbl, count(*) AS n${measures}\n       FROM ${from}${w} GROUP BY GROUPING SETS (${sets})`,
      params,
    );
  }
  const key = `CASE rulegen_g.k ${keys.map((k, i) => `WHEN ${i + 1} THEN ${p.cast(k, 'text')}`).join(' ')} END`;
  const rows = await db.all<GroupRow>(
    `SELECT rulegen_g.k AS gk, ${key} AS gv, ${label} AS lbl, count(*) AS n${measures}
       FROM ${from} CROSS JOIN UNNEST(ARRAY[${keys
         .map((_, i) => i)
         .concat(keys.length)
         .join(', ')}]) AS rulegen_g (k)${w} GROUP BY rulegen_g.k, ${key}, ${label}`,
    params,
  );
  return rows.map(({ gk, gv, ...rest }) => {
    const out: GroupRow = { ...rest };
    keys.forEach((_, i) => {
      out[`k${i}`] = Number(gk) === i + 1 ? gv! : null;
      out[`g${i}`] = Number(gk) === i + 1 ? 0 : 1;
    });
    return out;
  });
}
