/**
 * The compile tests' fixture: a deterministic `sessions` table over the catalog in
 * fixtures/rules/features.yaml, with NULLs, hostile strings and unicode, created the same
 * way in DuckDB (through Store) and in PostgreSQL (PGlite).
 */
import type { PGlite } from '@electric-sql/pglite';
import { loadCatalog } from '../../src/catalog/load.js';
import { duckNumber } from '../../src/compile/dialects.js';
import type { Param, Store } from '../../src/db/store.js';
import type { Row } from '../../src/rule/evaluate.js';
import { HOSTILE_STRINGS } from '../rule/arbitrary.js';
import { mulberry32 as random } from '../helpers/rng.js'; // seeded, so the fixture is the same on every machine

export const catalog = loadCatalog('fixtures/rules/features.yaml');

type Type = 'number' | 'boolean' | 'category' | 'id';
const SQL_TYPES: Record<Type, { duck: string; pg: string }> = {
  id: { duck: 'INTEGER', pg: 'integer' },
  number: { duck: 'DOUBLE', pg: 'double precision' },
  boolean: { duck: 'BOOLEAN', pg: 'boolean' },
  category: { duck: 'VARCHAR', pg: 'text' },
};

/** Columns of a table: the id, then one per feature of the catalog given. */
export interface TableShape {
  columns: readonly (readonly [string, Type])[];
}

export function shapeOf(features: readonly { name: string; type: Exclude<Type, 'id'> }[]): TableShape {
  return { columns: [['session_id', 'id'], ...features.map((f) => [f.name, f.type] as const)] };
}

export const SESSIONS: TableShape = shapeOf(catalog.features);

export const COUNTRIES = ['US', 'DE', 'FR', 'BR', '日本', "it's", ...HOSTILE_STRINGS];

export function sessionRows(n = 600, seed = 42): Row[] {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = <T>(v: T): T | null => (r() < 0.1 ? null : v);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const bot = r() < 0.3;
    rows.push({
      session_id: i,
      requests_per_minute: maybe(Math.round((bot ? 60 + r() * 600 : r() * 150) * 10) / 10),
      static_asset_ratio: maybe(pick([0, 0.05, 1, Math.round(r() * 1000) / 1000])),
      session_seconds: maybe(Math.round(r() * 3600)),
      mean_interval_ms: maybe(pick([250, 100.5, Math.round(r() * 5000)])),
      error_rate: maybe(Math.round(r() * 100)),
      js_executed: maybe(bot ? r() < 0.2 : r() < 0.95),
      headless_ua: maybe(bot ? r() < 0.5 : r() < 0.01),
      country: maybe(pick(COUNTRIES)),
      device_class: maybe(pick(['desktop', 'mobile', 'tablet', 'bot'])),
      asn_org: maybe(pick(['Example Hosting', 'Home ISP', ...HOSTILE_STRINGS])),
    });
  }
  return rows;
}

function values(shape: TableShape, row: Row): Param[] {
  return shape.columns.map(([c]) => {
    const v = row[c] ?? null;
    return typeof v === 'number' && Number.isFinite(v) ? duckNumber(v) : v;
  });
}

export async function createDuckTable(store: Store, table: string, shape: TableShape, rows: readonly Row[]): Promise<void> {
  await store.run(`create or replace table "${table}" (${shape.columns.map(([c, t]) => `"${c}" ${SQL_TYPES[t].duck}`).join(', ')})`);
  for (let i = 0; i < rows.length; i += 100) {
    const chunk = rows.slice(i, i + 100);
    const tuple = `(${shape.columns.map(([, t]) => `?::${SQL_TYPES[t].duck}`).join(', ')})`;
    await store.run(
      `insert into "${table}" values ${chunk.map(() => tuple).join(', ')}`,
      chunk.flatMap((r) => values(shape, r)),
    );
  }
}

export async function createPgTable(pg: PGlite, table: string, shape: TableShape, rows: readonly Row[]): Promise<void> {
  await pg.exec(`drop table if exists "${table}"; create table "${table}" (${shape.columns.map(([c, t]) => `"${c}" ${SQL_TYPES[t].pg}`).join(', ')})`);
  for (let i = 0; i < rows.length; i += 100) {
    const chunk = rows.slice(i, i + 100);
    let k = 0;
    const tuples = chunk.map(() => `(${shape.columns.map(() => `$${++k}`).join(', ')})`);
    const params = chunk.flatMap((r) => shape.columns.map(([c]) => r[c] ?? null));
    await pg.query(`insert into "${table}" values ${tuples.join(', ')}`, params);
  }
}

/** A fingerprint of a whole table, to prove that nothing hostile changed it. */
export async function duckFingerprint(store: Store, table: string): Promise<string> {
  const row = await store.one(`select count(*) as n, sum(hash(t)) as h from "${table}" as t`);
  return `${row?.['n']}:${row?.['h']}`;
}

/** The rules of the golden files; the postgres test runs the same list. */
export const GOLDEN_CONDITIONS = [
  'requests_per_minute > 120 and static_asset_ratio < 0.05',
  'headless_ua and not js_executed',
  "country in ('US', 'it''s', 'x; drop table sessions') or device_class != 'bot'",
  'error_rate between 10 and 50 and session_seconds is not null',
  'not (mean_interval_ms <= 250 or requests_per_minute >= 1e+21)',
  "asn_org not in ('back\\slash', ''' or 1=1 --', '\"double\"', '`tick`')",
  'js_executed = false or country is null',
  'static_asset_ratio >= 1e-7 and requests_per_minute != -0.5 and mean_interval_ms in (100.5, 250)',
  "country = '日本' and headless_ua != true or country = 'ünïcödé 🤖'",
  'not not js_executed or (headless_ua is null and not (country is not null))',
];
