/**
 * The inducer's sample table for the counter tests (bitmaps.test.ts, rules.test.ts): four
 * features (a ratio, an integer beyond 2^53, a flag, a category), the label, the slice, the
 * coverage flags and existing rules' hit columns, as createSample makes them.
 */
import { makeCatalog, type Feature } from '../../../src/catalog/schema.js';
import { compilePredicate } from '../../../src/compile/compile.js';
import type { Store } from '../../../src/db/store.js';
import { buildAtoms } from '../../../src/propose/atoms.js';
import { COV, LBL, SAMPLE, VAL } from '../../../src/propose/offline/sql.js';
import type { Term } from '../../../src/propose/offline/types.js';

export const FEATURES: Feature[] = [
  { name: 'ratio', type: 'number', description: 'A ratio with spikes at 0 and 1.', sensitive: false },
  { name: 'big', type: 'number', description: 'An integer count beyond 2^53.', sensitive: false },
  { name: 'flag', type: 'boolean', description: 'A flag.', sensitive: false },
  { name: 'client', type: 'category', description: 'A client family.', sensitive: false },
];
export const catalog = makeCatalog(FEATURES);

/** One row of the sample: the features (null = NULL), the label, the slice, and (bots only) covered. */
export interface SampleRow {
  ratio: number | null;
  big: number | null;
  flag: boolean | null;
  client: string | null;
  bot: boolean;
  val: boolean;
  cov?: boolean;
}

/** Writes the sample table; `existing` conditions become hit columns `_rg_e<i>`. */
export async function makeSample(store: Store, rows: readonly SampleRow[], existing: readonly string[] = []): Promise<void> {
  // (the appender takes a plain table name: the rows go through one)
  await store.run(
    `CREATE OR REPLACE TABLE sample_rows (ratio DOUBLE, big BIGINT, flag BOOLEAN, client VARCHAR, ${LBL} INTEGER, ${VAL} BOOLEAN, ${COV} BOOLEAN)`,
  );
  await store.appendColumns(
    'sample_rows',
    [
      rows.map((r) => r.ratio),
      rows.map((r) => (r.big === null ? null : BigInt(r.big))),
      rows.map((r) => r.flag),
      rows.map((r) => r.client),
      rows.map((r) => (r.bot ? 1 : 0)),
      rows.map((r) => r.val),
      rows.map((r) => Boolean(r.cov) && r.bot),
    ],
    rows.length,
  );
  const ex = existing.map((c, i) => `, coalesce((${c}), false) AS "_rg_e${i}"`).join('');
  await store.run(`CREATE OR REPLACE TEMP TABLE ${SAMPLE} AS SELECT *, false AS "_rg_new"${ex} FROM sample_rows`);
}

/** The atoms the inducer builds from the sample's fit slice, compiled. */
export async function termsOf(store: Store): Promise<Term[]> {
  const built = await buildAtoms(store, catalog, FEATURES, { table: SAMPLE, label: LBL, fit: `NOT ${VAL}` });
  return built.atoms.map((atom) => ({ atom, pred: compilePredicate(atom.ast, catalog) }));
}
