/**
 * What a model is told: aggregates only. The top-ranked features with their catalog text,
 * bot and human quantiles, base rates, the approved rules (not to be duplicated), the rejected
 * rules with their reasons, and the gate. Never a row, an id, an IP, a user agent. This module
 * gathers; `forModel` (outgoing.ts) is the one filter between what is gathered and what a prompt
 * renders (sensitive features, unlisted category values, quoting of all outside text).
 * Numbers are rounded to 4 significant digits, which keeps the prompt short and makes the
 * request (and so its cassette key) stable across DuckDB's parallel float summation.
 */
import { workspaceRules } from '../rules/targets.js';
import type { QuantileSet, Ranking } from '../rank/types.js';
import type { Workspace } from '../workspace.js';
import { forModel, type ProposeContext, type RawContext, type RawRule } from './outgoing.js';

export { modelCatalog, type CatalogEntry, type ContextFeature, type ProposeContext } from './outgoing.js';

/** 4 significant digits; integers stay exact. */
export function round4(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  return Number(x.toPrecision(4));
}
const r4 = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : round4(x));

function roundQuantiles(q: QuantileSet): QuantileSet {
  return { p1: r4(q.p1), p5: r4(q.p5), p25: r4(q.p25), p50: r4(q.p50), p75: r4(q.p75), p95: r4(q.p95), p99: r4(q.p99) };
}

/** Everything propose would tell a model, before the privacy filter. */
export function gatherContext(ws: Workspace, ranking: Ranking, opts: { top?: number } = {}): RawContext {
  const top = opts.top ?? ws.config.rank.top;
  // rank.top counts features a model may see: sensitive and unknown ones do not take a place
  const ranked = ranking.features
    .filter((r) => !r.sensitive && ws.catalog.get(r.feature) && !ws.catalog.get(r.feature)!.sensitive && (r.auc !== null || r.ks !== null || r.iv !== null))
    .slice(0, top);
  const rules = workspaceRules(ws, { statuses: ['approved', 'rejected'] }).targets;
  const reasonOf = (t: (typeof rules)[number]): string => {
    const review = t.rule?.review as { note?: string | null; reason?: string } | undefined;
    return review?.reason ?? review?.note ?? 'no reason recorded';
  };
  return {
    data: { train_sessions: ranking.window.rows, labelled_bots: ranking.bots, labelled_humans: ranking.humans, base_rate: r4(ranking.base_rate) },
    gate: { ...ws.config.gate },
    ranked: ranked.map((r) => ({
      name: r.feature,
      sensitive: Boolean(r.sensitive),
      auc: r4(r.auc),
      ks: r4(r.ks),
      iv: r4(r.iv),
      direction: r.direction,
      coverage: round4(r.coverage),
      nulls: { bot: round4(r.nulls.bot), human: round4(r.nulls.human) },
      quantiles: r.quantiles ? { bot: roundQuantiles(r.quantiles.bot), human: roundQuantiles(r.quantiles.human) } : null,
      categories: r.categories
        ? r.categories.map((c) => ({ value: c.value, bot_share: round4(c.bot_share), human_share: round4(c.human_share), lift: r4(c.lift) }))
        : null,
    })),
    rules: rules.map((t): RawRule => ({ status: t.status as RawRule['status'], title: t.title, ast: t.ast, reason: reasonOf(t) })),
  };
}

/** The context a prompt renders: gathered, then passed through the privacy filter. */
export function buildContext(ws: Workspace, ranking: Ranking, opts: { top?: number } = {}): ProposeContext {
  return forModel(gatherContext(ws, ranking, opts), ws.catalog);
}
