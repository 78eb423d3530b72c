/**
 * Which false-positive scenarios look like automation mislabelled as human. Weak labels lie (a
 * login bot faking an old browser is "human" by its user agent); a rule that catches such
 * sessions scores them as false positives. A session far outside what people do — beyond the
 * labelled humans' 1st or 99th percentile on several features at once — is more likely a bot
 * than an odd person. `fp` points at such scenarios as candidates for `rulegen relabel`; it
 * never relabels anything by itself.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Param, type Store } from '../db/store.js';
import type { Window } from '../db/window.js';
import type { Expr } from '../rule/ast.js';
import { FP, HITS } from './profile.js';

/** A false positive is "far outside" when it is beyond the humans' p1/p99 on at least this many features. */
export const OUTSIDE_FEATURES = 3;
/** A scenario is flagged when at least this share of its false positives is far outside. */
export const OUTSIDE_SHARE = 0.5;

export interface AutomationEvidence {
  /** False positives of the scenario, and how many of them lie far outside every human range. */
  sessions: number;
  outside: number;
  share: number;
  /** True when share >= OUTSIDE_SHARE: a relabelling candidate for a reviewer, not a verdict. */
  flagged: boolean;
}

/**
 * For each scenario condition, how many of its false positives (in HITS, collected by
 * collectHits) lie beyond the window's labelled humans' 1st/99th percentiles on at least
 * OUTSIDE_FEATURES numeric, non-sensitive features. Two statements: the human percentiles over
 * the window, then one count per scenario over the rule's hits.
 */
export async function automationEvidence(
  store: Store,
  config: Config,
  catalog: Catalog,
  window: Window,
  scenarios: readonly Expr[],
): Promise<AutomationEvidence[]> {
  const numeric = catalog.features.filter((f) => f.type === 'number' && !f.sensitive);
  if (!scenarios.length || numeric.length < OUTSIDE_FEATURES) return scenarios.map(() => ({ sessions: 0, outside: 0, share: 0, flagged: false }));
  const label = quoteIdent(config.data.label);
  const q = (await store.one<Record<string, number[] | null>>(
    `SELECT ${numeric.map((f, i) => `quantile_cont(${quoteIdent(f.name)}, [0.01, 0.99]) AS q${i}`).join(', ')} ` +
      `FROM ${quoteIdent(config.data.table)} WHERE (${window.where}) AND ${label} = 0`,
    window.parameters,
  ))!;
  const params: Param[] = [];
  const terms: string[] = [];
  numeric.forEach((f, i) => {
    const [lo, hi] = (q[`q${i}`] ?? []).map(Number);
    if (lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) return;
    terms.push(`(CASE WHEN ${quoteIdent(f.name)} < ? OR ${quoteIdent(f.name)} > ? THEN 1 ELSE 0 END)`);
    params.push(lo, hi);
  });
  if (terms.length < OUTSIDE_FEATURES) return scenarios.map(() => ({ sessions: 0, outside: 0, share: 0, flagged: false }));
  const out: AutomationEvidence[] = [];
  for (const s of scenarios) {
    const p = compilePredicate(s, catalog);
    const r = (await store.one<{ n: number; o: number }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE (${terms.join(' + ')}) >= ${OUTSIDE_FEATURES}) AS o FROM ${HITS} WHERE ${FP} AND (${p.sql})`,
      [...params, ...p.parameters],
    ))!;
    const sessions = Number(r.n);
    const outside = Number(r.o);
    const share = sessions ? outside / sessions : 0;
    out.push({ sessions, outside, share, flagged: sessions > 0 && share >= OUTSIDE_SHARE });
  }
  return out;
}
