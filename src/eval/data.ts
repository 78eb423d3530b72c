/**
 * The data of one eval case, made inside its scratch workspace: synthetic traffic with the
 * case's knobs (drift day, extra label noise, population weights), or a feature file. Either
 * way the result is a file the ordinary `ingest` loads, so a case measures the same pipeline a
 * user runs. Ground truth is a column (synth's `archetype`) and a map from its values to
 * bot/human.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { quoteIdent, quoteString, type Store } from '../db/store.js';
import { ExternalError, InputError } from '../errors.js';
import { ARCHETYPES, type Archetype } from '../synth/archetypes.js';
import { DEFAULT_START, synthSql } from '../synth/generate.js';
import type { ResolvedCase, SynthCase } from './suite.js';

/** Where the truth lives and which of its values are bots. */
export interface Truth {
  column: string;
  bots: string[];
  humans: string[];
}

/** What `drift_day` does to a population that archetypes.ts gives no drift of its own. */
const DEFAULT_DRIFT = { rpmFactor: 0.3, staticAssetRatio: { median: 0.06, spread: 0.8 } } as const;

/** The populations with the case's knobs applied: weights scale shares, drift_day moves (or removes) drift. */
export function caseArchetypes(s: SynthCase): Archetype[] {
  const drifting = new Set(s.drift_archetypes ?? ARCHETYPES.filter((a) => a.profile.drift).map((a) => a.name));
  return ARCHETYPES.map((a) => {
    const share = a.share * (s.weights[a.name] ?? 1);
    if (s.drift_day === undefined) return { ...a, share };
    const { drift, ...rest } = a.profile;
    if (s.drift_day === null || !drifting.has(a.name)) return { ...a, share, profile: rest };
    return { ...a, share, profile: { ...rest, drift: { ...(drift ?? DEFAULT_DRIFT), from: s.drift_day / s.days } } };
  });
}

/** The instant a case's drift starts, or null. */
export function driftStart(s: SynthCase): Date | null {
  const arch = caseArchetypes(s);
  const froms = arch.flatMap((a) => (a.profile.drift ? [a.profile.drift.from] : []));
  if (!froms.length) return null;
  return new Date(DEFAULT_START.getTime() + Math.min(...froms) * s.days * 86400_000);
}

/** Write the case's synthetic data to `out` (Parquet) with `store` (an in-memory database). */
export async function writeSynthCase(store: Store, s: SynthCase, out: string): Promise<void> {
  const sql = synthSql({ sessions: s.sessions, days: s.days, seed: s.seed, start: DEFAULT_START }, caseArchetypes(s));
  // Extra label noise: a labelled row's label flips when a hash of (seed, id) falls under the
  // rate; a pure function of the row, so the same case writes the same bytes.
  const noise = Math.round(s.label_noise * 1_000_000);
  const select =
    noise > 0
      ? `SELECT * REPLACE (CASE WHEN label IS NOT NULL AND hash(${s.seed}, 'eval-noise', session_id) % 1000000 < ${noise} THEN 1 - label ELSE ` +
        `label END AS label) FROM (${sql})`
      : sql;
  try {
    await store.run(`SET preserve_insertion_order = true`);
    await store.run(`COPY (${select}) TO ${quoteString(out)} (FORMAT parquet)`);
  } catch (e) {
    throw new ExternalError(`cannot generate the case's data: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function synthTruth(): Truth {
  return {
    column: 'archetype',
    bots: ARCHETYPES.filter((a) => a.label === 1).map((a) => a.name),
    humans: ARCHETYPES.filter((a) => a.label === 0).map((a) => a.name),
  };
}

/** Copy a case's feature file into the scratch workspace (never read in place: nothing touches the user's files). */
export function stageFile(c: ResolvedCase, dataDir: string): string {
  const f = c.file!;
  if (!existsSync(f.path))
    throw InputError.single({
      message: `case ${c.name}: no such data file`,
      where: { file: f.path },
      expected: 'a feature file (csv, parquet, ...)',
      found: 'nothing',
    });
  const out = join(dataDir, basename(f.path));
  copyFileSync(f.path, out);
  return out;
}

/** Truth of a file case: each value of the truth column is a bot population when most of its labelled rows say bot. */
export async function fileTruth(store: Store, table: string, label: string, column: string): Promise<Truth> {
  const cols = new Set((await store.describe(`SELECT * FROM ${quoteIdent(table)}`)).map((c) => c.name));
  if (!cols.has(column))
    throw InputError.single({
      message: `no ground-truth column "${column}" in the data`,
      where: { field: 'file.truth' },
      expected: `one of ${[...cols].join(', ')}`,
      found: column,
    });
  const rows = await store.all<{ v: string | null; bots: number; labelled: number }>(
    `SELECT CAST(${quoteIdent(column)} AS VARCHAR) AS v, sum(CASE WHEN ${quoteIdent(label)} = 1 THEN 1 ELSE 0 END) AS bots, ` +
      `count(${quoteIdent(label)}) AS labelled FROM ${quoteIdent(table)} GROUP BY 1 ORDER BY 1`,
  );
  const bots: string[] = [];
  const humans: string[] = [];
  for (const r of rows) {
    if (r.v === null || Number(r.labelled) === 0) continue;
    (Number(r.bots) * 2 > Number(r.labelled) ? bots : humans).push(r.v);
  }
  return { column, bots, humans };
}
