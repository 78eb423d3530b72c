/**
 * What a model is told: aggregates only. The top-ranked features with their catalog text,
 * bot and human quantiles, base rates, the approved rules (not to be duplicated), the rejected
 * rules with their reasons, and the gate. Never a row, an id, an IP, a user agent, and never a
 * feature the catalog marks sensitive: those are dropped here, before anything is rendered.
 * Numbers are rounded to 4 significant digits, which keeps the prompt short and makes the
 * request (and so its cassette key) stable across DuckDB's parallel float summation.
 */
import { workspaceRules } from '../backtest/run.js';
import { listedValues, makeCatalog, type Catalog, type Feature } from '../catalog/schema.js';
import type { QuantileSet, Ranking } from '../rank/types.js';
import type { Workspace } from '../workspace.js';

export interface ContextFeature {
  rank: number;
  name: string;
  type: Feature['type'];
  unit: string | null;
  description: string;
  range: string | null;
  values: string[] | null;
  auc: number | null;
  ks: number | null;
  iv: number | null;
  /** 'higher': bots have higher values (booleans: true more often). */
  direction: 'higher' | 'lower' | null;
  coverage: number;
  nulls: { bot: number; human: number };
  quantiles: { bot: QuantileSet; human: QuantileSet } | null;
  categories: { value: string; bot_share: number; human_share: number; lift: number | null }[] | null;
}

export interface CatalogEntry {
  name: string;
  type: Feature['type'];
  unit: string | null;
  range: string | null;
  values: string[] | null;
  description: string;
}

/** The whole context of a propose run; its canonical JSON's sha256 is each candidate's `input`. */
export interface ProposeContext {
  data: { train_sessions: number; labelled_bots: number; labelled_humans: number; base_rate: number | null };
  gate: { max_fpr: number; min_precision: number; min_support: number };
  catalog: CatalogEntry[];
  features: ContextFeature[];
  approved: { title: string; condition: string }[];
  rejected: { title: string; condition: string; reason: string }[];
}

/** 4 significant digits; integers stay exact. */
export function round4(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  return Number(x.toPrecision(4));
}
const r4 = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : round4(x));

function roundQuantiles(q: QuantileSet): QuantileSet {
  return { p1: r4(q.p1), p5: r4(q.p5), p25: r4(q.p25), p50: r4(q.p50), p75: r4(q.p75), p95: r4(q.p95), p99: r4(q.p99) };
}

function rangeText(f: Feature): string | null {
  if (!f.range) return null;
  const [lo, hi] = f.range;
  return `${lo ?? '-inf'} to ${hi ?? 'unbounded'}`;
}

/** The catalog a model may use: every feature that is not sensitive. */
export function modelCatalog(catalog: Catalog): Catalog {
  return makeCatalog(catalog.features.filter((f) => !f.sensitive));
}

export function buildContext(ws: Workspace, ranking: Ranking, opts: { top?: number } = {}): ProposeContext {
  const catalog = modelCatalog(ws.catalog);
  const top = opts.top ?? ws.config.rank.top;
  const ranked = ranking.features.filter((r) => !r.sensitive && catalog.get(r.feature) && (r.auc !== null || r.ks !== null || r.iv !== null)).slice(0, top);
  const features: ContextFeature[] = ranked.map((r, i) => {
    const f = catalog.get(r.feature)!;
    return {
      rank: i + 1,
      name: f.name,
      type: f.type,
      unit: f.unit ?? null,
      description: f.description.trim(),
      range: rangeText(f),
      values: listedValues(f) ? [...listedValues(f)!] : null,
      auc: r4(r.auc),
      ks: r4(r.ks),
      iv: r4(r.iv),
      direction: r.direction,
      coverage: round4(r.coverage),
      nulls: { bot: round4(r.nulls.bot), human: round4(r.nulls.human) },
      quantiles: f.type === 'number' && r.quantiles ? { bot: roundQuantiles(r.quantiles.bot), human: roundQuantiles(r.quantiles.human) } : null,
      categories: r.categories ? r.categories.slice(0, 12).map((c) => ({ value: c.value, bot_share: round4(c.bot_share), human_share: round4(c.human_share), lift: r4(c.lift) })) : null,
    };
  });
  const rules = workspaceRules(ws, { statuses: ['approved', 'rejected'] }).targets;
  const reasonOf = (t: (typeof rules)[number]): string => {
    const review = t.rule?.review as { note?: string | null; reason?: string } | undefined;
    return (review?.reason ?? review?.note ?? 'no reason recorded').trim();
  };
  return {
    data: { train_sessions: ranking.window.rows, labelled_bots: ranking.bots, labelled_humans: ranking.humans, base_rate: r4(ranking.base_rate) },
    gate: { ...ws.config.gate },
    catalog: catalog.features.map((f) => ({ name: f.name, type: f.type, unit: f.unit ?? null, range: rangeText(f), values: listedValues(f) ? [...listedValues(f)!] : null, description: f.description.trim() })),
    features,
    approved: rules.filter((t) => t.status === 'approved').map((t) => ({ title: t.title, condition: t.condition })),
    rejected: rules.filter((t) => t.status === 'rejected').map((t) => ({ title: t.title, condition: t.condition, reason: reasonOf(t) })),
  };
}
