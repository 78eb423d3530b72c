/**
 * Who a rule wrongly hits: its labelled hits on a window, humans (false positives) against
 * bots (true positives), feature by feature, per segment and per day. The hits are copied once
 * into a temporary table (the rule's features, the day, the segments and the FP flag); every
 * statistic is then a grouped statement over it, so JS sees one row per feature, value or day.
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, quoteString, type Store } from '../db/store.js';
import type { Expr } from '../rule/ast.js';
import type { Window } from '../db/window.js';

/** The temporary table of one analysis: the labelled hits of the rule on the window. */
export const HITS = 'temp.main.rulegen_fp_hits';
/** The search sample of HITS (all of it when small): see sampleHits. */
export const SAMPLE = 'temp.main.rulegen_fp_sample';
/** The FP flag column of HITS (true: a labelled human the rule hits). */
export const FP = 'rulegen_fp';
export const PROFILE_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

export interface Quantiles {
  p5: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
}

/** How the false positives differ from the true positives on one feature. */
export interface FeatureContrast {
  feature: string;
  type: Feature['type'];
  sensitive?: boolean;
  /** ROC AUC of the value as a score for "false positive" (ties one half), folded to >= 0.5; null when undefined. */
  auc: number | null;
  /** 'higher': false positives have higher values (booleans: true more often). */
  direction: 'higher' | 'lower' | null;
  quantiles?: { fp: Quantiles; tp: Quantiles };
  /** Share of nulls among false and among true positives. */
  nulls: { fp: number; tp: number };
  /** Booleans and categories: values by lift (FP share / TP share), most telling first. */
  categories?: { value: string; fp_share: number; tp_share: number; lift: number | null }[];
}

export interface FpProfile {
  window: { name: string; from: string; to: string };
  fp: number;
  tp: number;
  features: FeatureContrast[];
  /** Per segment value: false and true positives, and the value's share of the false positives. */
  segments: { column: string; value: string; fp: number; tp: number; fp_share: number }[];
  days: { day: string; fp: number; tp: number }[];
}

const n = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
const col = (i: number) => `c${i}`;

/** Copy the rule's labelled hits on `window` into HITS; returns the FP and TP counts. */
export async function collectHits(
  store: Store,
  config: Config,
  catalog: Catalog,
  ast: Expr,
  window: Window,
  segments: readonly string[],
): Promise<{ fp: number; tp: number }> {
  const pred = compilePredicate(ast, catalog);
  const label = quoteIdent(config.data.label);
  const features = [...catalog.features].map((f) => quoteIdent(f.name));
  const segs = segments.map((s, i) => `CAST(${quoteIdent(s)} AS VARCHAR) AS rulegen_seg${i}`);
  await store.run(
    `CREATE OR REPLACE TEMP TABLE rulegen_fp_hits AS
     SELECT ${[...features, ...segs].join(', ')}, hash(CAST(${quoteIdent(config.data.id)} AS VARCHAR)) % 1000000 AS rulegen_h, ` +
      `CAST(date_trunc('day', ${quoteIdent(config.data.time)}) AS DATE) AS rulegen_day, (${label} = 0) AS ${FP}
     FROM ${quoteIdent(config.data.table)} WHERE (${window.where}) AND ${label} IN (0, 1) AND (${pred.sql})`,
    [...window.parameters, ...pred.parameters],
  );
  const c = await store.one(`SELECT sum(CASE WHEN ${FP} THEN 1 ELSE 0 END) AS fp, sum(CASE WHEN ${FP} THEN 0 ELSE 1 END) AS tp FROM ${HITS}`);
  return { fp: n(c?.['fp']), tp: n(c?.['tp']) };
}

function quantiles(list: unknown): Quantiles {
  const q = Array.isArray(list) ? list.map((x) => (x === null ? null : n(x))) : [];
  return { p5: q[0] ?? null, p25: q[1] ?? null, p50: q[2] ?? null, p75: q[3] ?? null, p95: q[4] ?? null };
}

/** Per-feature FP-vs-TP statistics over HITS: one statement per kind of feature. */
export async function contrastFeatures(store: Store, catalog: Catalog, counts: { fp: number; tp: number }): Promise<FeatureContrast[]> {
  const all = [...catalog.features];
  const out = new Map<string, FeatureContrast>();
  const nulls = await store.one(
    `SELECT ${all
      .map(
        (f, i) =>
          `sum(CASE WHEN ${quoteIdent(f.name)} IS NULL AND ${FP} THEN 1 ELSE 0 END) AS fn${i}, ` +
          `sum(CASE WHEN ${quoteIdent(f.name)} IS NULL AND NOT ${FP} THEN 1 ELSE 0 END) AS tn${i}`,
      )
      .join(', ')} FROM ${HITS}`,
  );
  all.forEach((f, i) => {
    out.set(f.name, {
      feature: f.name,
      type: f.type,
      ...(f.sensitive ? { sensitive: true } : {}),
      auc: null,
      direction: null,
      nulls: { fp: counts.fp ? n(nulls?.[`fn${i}`]) / counts.fp : 0, tp: counts.tp ? n(nulls?.[`tn${i}`]) / counts.tp : 0 },
    });
  });
  // numbers and booleans: AUC by average ranks (ties one half), over non-null values
  const scored = all.filter((f) => f.type !== 'category');
  if (scored.length) {
    const sel = scored.map((f, i) => `CAST(${quoteIdent(f.name)} AS DOUBLE) AS ${col(i)}`).join(', ');
    const u = `(UNPIVOT (SELECT ${FP}, ${sel} FROM ${HITS}) ON ${scored.map((_, i) => col(i)).join(', ')} INTO NAME f VALUE v)`;
    const ranks = await store.all(
      `WITH r AS (SELECT f, ${FP} AS isfp, rank() OVER (PARTITION BY f ORDER BY v) + (count(*) OVER (PARTITION BY f, v) - 1) / 2.0 AS rk FROM ${u})
       SELECT f, sum(CASE WHEN isfp THEN rk ELSE 0 END) AS rfp, sum(CASE WHEN isfp THEN 1 ELSE 0 END) AS nfp, sum(CASE WHEN isfp THEN 0 ELSE 1 ` +
        `END) AS ntp FROM r GROUP BY f`,
    );
    for (const r of ranks) {
      const f = scored[Number(String(r['f']).slice(1))]!;
      const nfp = n(r['nfp']);
      const ntp = n(r['ntp']);
      if (!nfp || !ntp) continue;
      const auc = (n(r['rfp']) - (nfp * (nfp + 1)) / 2) / (nfp * ntp);
      const c = out.get(f.name)!;
      c.auc = Math.max(auc, 1 - auc);
      c.direction = auc === 0.5 ? null : auc > 0.5 ? 'higher' : 'lower';
    }
    const numbers = scored.map((f, i) => ({ f, i })).filter((x) => x.f.type === 'number');
    if (numbers.length) {
      const qs = await store.all(
        `SELECT f, ${FP} AS isfp, quantile_cont(v, [${PROFILE_QUANTILES.join(', ')}]) AS q FROM ${u} WHERE f IN ` +
          `(${numbers.map((x) => quoteString(col(x.i))).join(', ')}) GROUP BY f, ${FP}`,
      );
      for (const x of numbers) {
        const fp = qs.find((r) => r['f'] === col(x.i) && r['isfp'] === true);
        const tp = qs.find((r) => r['f'] === col(x.i) && r['isfp'] === false);
        out.get(x.f.name)!.quantiles = { fp: quantiles(fp?.['q']), tp: quantiles(tp?.['q']) };
      }
    }
  }
  // booleans and categories: values by lift
  const valued = all.filter((f) => f.type !== 'number');
  if (valued.length) {
    const sel = valued.map((f, i) => `CAST(${quoteIdent(f.name)} AS VARCHAR) AS ${col(i)}`).join(', ');
    const rows = await store.all(
      `SELECT f, v, sum(CASE WHEN ${FP} THEN 1 ELSE 0 END) AS nfp, sum(CASE WHEN ${FP} THEN 0 ELSE 1 END) AS ntp
       FROM (UNPIVOT (SELECT ${FP}, ${sel} FROM ${HITS}) ON ${valued.map((_, i) => col(i)).join(', ')} INTO NAME f VALUE v) GROUP BY f, v`,
    );
    valued.forEach((f, i) => {
      const cats = rows
        .filter((r) => r['f'] === col(i))
        .map((r) => {
          const fp_share = counts.fp ? n(r['nfp']) / counts.fp : 0;
          const tp_share = counts.tp ? n(r['ntp']) / counts.tp : 0;
          return { value: String(r['v']), fp_share, tp_share, lift: tp_share > 0 ? fp_share / tp_share : null };
        })
        .sort((a, b) => Math.abs(b.fp_share - b.tp_share) - Math.abs(a.fp_share - a.tp_share) || (a.value < b.value ? -1 : 1));
      out.get(f.name)!.categories = cats.slice(0, 10);
      if (f.type === 'category' && cats.length) {
        // a category's AUC: values ordered by FP rate (optimistic, as in rank)
        const ordered = [...cats].sort((a, b) => a.fp_share / Math.max(a.tp_share, 1e-12) - b.fp_share / Math.max(b.tp_share, 1e-12));
        let below = 0;
        let auc = 0;
        for (const c of ordered) {
          auc += c.fp_share * (below + c.tp_share / 2);
          below += c.tp_share;
        }
        const fpKnown = 1 - out.get(f.name)!.nulls.fp;
        const tpKnown = 1 - out.get(f.name)!.nulls.tp;
        if (fpKnown > 0 && tpKnown > 0) {
          const a = auc / (fpKnown * tpKnown);
          out.get(f.name)!.auc = Math.max(a, 1 - a);
        }
      }
    });
  }
  return [...out.values()].sort((a, b) => (b.auc ?? 0) - (a.auc ?? 0) || (a.feature < b.feature ? -1 : 1));
}

export async function profileSegmentsAndDays(store: Store, segments: readonly string[], fpTotal: number): Promise<Pick<FpProfile, 'segments' | 'days'>> {
  const out: FpProfile['segments'] = [];
  for (let i = 0; i < segments.length; i++) {
    const rows = await store.all(
      `SELECT rulegen_seg${i} AS v, sum(CASE WHEN ${FP} THEN 1 ELSE 0 END) AS fp, sum(CASE WHEN ${FP} THEN 0 ELSE 1 END) AS tp FROM ${HITS} ` +
        `GROUP BY 1 ORDER BY fp DESC, v`,
    );
    for (const r of rows)
      out.push({
        column: segments[i]!,
        value: r['v'] === null ? '(none)' : String(r['v']),
        fp: n(r['fp']),
        tp: n(r['tp']),
        fp_share: fpTotal ? n(r['fp']) / fpTotal : 0,
      });
  }
  const days = await store.all(
    `SELECT CAST(rulegen_day AS VARCHAR) AS d, sum(CASE WHEN ${FP} THEN 1 ELSE 0 END) AS fp, sum(CASE WHEN ${FP} THEN 0 ELSE 1 END) AS tp ` +
      `FROM ${HITS} GROUP BY 1 ORDER BY 1`,
  );
  return { segments: out, days: days.map((r) => ({ day: String(r['d']), fp: n(r['fp']), tp: n(r['tp']) })) };
}

/**
 * The scenario search reads a sample of the hits, at most `cap` false and `cap` true positives
 * (by a hash of the session id, so the same every run); the chosen scenarios are then counted
 * exactly on all hits. Returns the sample's counts.
 */
export async function sampleHits(store: Store, counts: { fp: number; tp: number }, cap: number): Promise<{ fp: number; tp: number }> {
  const rate = (k: number) => (k <= cap ? 1_000_000 : Math.floor((1_000_000 * cap) / k));
  await store.run(`CREATE OR REPLACE TEMP TABLE rulegen_fp_sample AS SELECT * FROM ${HITS} WHERE (${FP} AND rulegen_h < ?) OR (NOT ${FP} AND rulegen_h < ?)`, [
    rate(counts.fp),
    rate(counts.tp),
  ]);
  const c = await store.one(`SELECT sum(CASE WHEN ${FP} THEN 1 ELSE 0 END) AS fp, sum(CASE WHEN ${FP} THEN 0 ELSE 1 END) AS tp FROM ${SAMPLE}`);
  return { fp: n(c?.['fp']), tp: n(c?.['tp']) };
}
