/**
 * Step 1 of the inducer: the search sample. Up to SEARCH_ROWS labelled rows of the train
 * window, chosen by a hash of the id (and the seed), split by another part of the same hash
 * into a fit slice (2/3) and a validation slice (1/3); existing rules become hit columns.
 */
import type { Catalog, Feature } from '../../catalog/schema.js';
import type { Config } from '../../config/schema.js';
import { compilePredicate } from '../../compile/compile.js';
import { quoteIdent, type Store } from '../../db/store.js';
import type { Window } from '../../db/window.js';
import { parse } from '../../rule/parser.js';
import { COV, LBL, SAMPLE, VAL, n } from './sql.js';
import type { ExistingRule, SliceSize } from './types.js';

export const SEARCH_ROWS = 300_000;

/** The existing rules that still compile, in a fixed order (their hit columns are numbered by it). */
export function compileExisting(exclude: ReadonlySet<string> | undefined, catalog: Catalog): ExistingRule[] {
  const existing: ExistingRule[] = [];
  for (const c of [...(exclude ?? [])].sort()) {
    try {
      existing.push({ condition: c, pred: compilePredicate(parse(c), catalog), hits: 0 });
    } catch {
      // a rule that no longer parses or compiles cannot be compared by its hits; lint reports it
    }
  }
  return existing;
}

/** Creates the sample table: the features, the label, the slice, a hash part, coverage flags and existing rules' hits. */
export async function createSample(
  store: Store,
  config: Config,
  train: Window,
  use: readonly Feature[],
  existing: readonly ExistingRule[],
  seed: number,
): Promise<void> {
  const l = quoteIdent(config.data.label);
  const id = quoteIdent(config.data.id);
  const labelled =
    (await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(config.data.table)} WHERE ${train.where} AND ${l} IN (0, 1)`, train.parameters))
      ?.n ?? 0;
  const keep = Math.min(1_000_000, Math.ceil((1_000_000 * SEARCH_ROWS) / Math.max(1, labelled)));
  const exCols = existing.map((e, i) => `coalesce((${e.pred.sql}), false) AS "_rg_e${i}"`);
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${SAMPLE} AS SELECT ${use.map((f) => quoteIdent(f.name)).join(', ')}, CAST(${l} AS INTEGER) AS ${LBL},
       ((hash(${id}, ?::BIGINT) // 1000000) % 3 = 0) AS ${VAL}, ((hash(${id}, ?::BIGINT) // 3000000) % 1000) AS "_rg_h", false AS ${COV}, ` +
      `false AS "_rg_new"${exCols.map((c) => `, ${c}`).join('')}
     FROM ${quoteIdent(config.data.table)} WHERE ${train.where} AND ${l} IN (0, 1) AND hash(${id}, ?::BIGINT) % 1000000 < ?`,
    [seed, seed, ...existing.flatMap((e) => e.pred.parameters), ...train.parameters, seed, keep],
  );
}

/** The sample's size per slice and label; sets each existing rule's `hits` on the sample. */
export async function countSample(store: Store, existing: ExistingRule[]): Promise<{ sampleRows: number; fit: SliceSize; val: SliceSize }> {
  const sizes = (await store.one(
    `SELECT count(*) AS n, sum(CASE WHEN NOT ${VAL} AND ${LBL} = 1 THEN 1 ELSE 0 END) AS fb, sum(CASE WHEN NOT ${VAL} AND ${LBL} = 0 THEN 1 ELSE 0 END) AS fh,
         sum(CASE WHEN ${VAL} AND ${LBL} = 1 THEN 1 ELSE 0 END) AS vb, sum(CASE WHEN ${VAL} AND ${LBL} = 0 THEN 1 ELSE 0 END) AS ` +
      `vh${existing.map((_, i) => `, sum(CASE WHEN "_rg_e${i}" THEN 1 ELSE 0 END) AS e${i}`).join('')}
       FROM ${SAMPLE}`,
  ))!;
  existing.forEach((e, i) => (e.hits = n(sizes[`e${i}`])));
  return {
    sampleRows: n(sizes['n']),
    fit: { bots: n(sizes['fb']), humans: n(sizes['fh']) },
    val: { bots: n(sizes['vb']), humans: n(sizes['vh']) },
  };
}
