/**
 * `rulegen fp`: false-positive analysis from the data, then measured modifications.
 * 1. profile: the rule's labelled hits on the window (default train, so the test window stays
 *    honest), false positives against true positives (profile.ts);
 * 2. scenarios: conditions that hold for many false positives and few true positives (search.ts);
 * 3. modifications: per scenario the rule with that scenario excluded (or, when the scenario is a
 *    threshold on one of the rule's own features, the rule with that threshold tightened), and
 *    all scenarios excluded together; each backtested on the analysis window and on the test
 *    window in one scan per window.
 */
import { automationEvidence, type AutomationEvidence } from './automation.js';
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Store } from '../db/store.js';
import { and, comparison, featuresOf, not, type Comparison, type Expr } from '../rule/ast.js';
import { english } from '../rule/english.js';
import { print } from '../rule/printer.js';
import type { RuleResult } from '../backtest/engine.js';
import { evaluateRules } from '../backtest/run.js';
import { resolveWindow, type WindowName } from '../db/window.js';
import { collectHits, contrastFeatures, profileSegmentsAndDays, sampleHits, SAMPLE, type FeatureContrast, type FpProfile } from './profile.js';
import { countScenarios, findScenarios, TP_KEEP, type Scenario } from './search.js';

/** False and true positives each read by the scenario search at most (a hash sample beyond). */
export const SEARCH_CAP = 20_000;

/** A rule's counts before and after a modification on one window. */
export interface Effect {
  window: WindowName;
  before: { tp: number; fp: number; recall: number | null; fpr: number | null; fpr_upper95: number | null; precision: number | null };
  after: { tp: number; fp: number; recall: number | null; fpr: number | null; fpr_upper95: number | null; precision: number | null };
  /** Share of the rule's false positives the modification removes; null without false positives. */
  fp_cut: number | null;
  /** Share of the rule's true positives it keeps; null without true positives. */
  tp_kept: number | null;
}

export interface Modification {
  kind: 'exclusion' | 'tightened' | 'combined';
  /** Indexes into `scenarios`. */
  scenarios: number[];
  condition: string;
  ast: Expr;
  /** What changed, in words. */
  change: string;
  window: Effect;
  test?: Effect;
  /** Keeps at least 95% of the true positives on the analysis window. */
  keeps_tp: boolean;
}

export interface ScenarioReport extends Omit<Scenario, 'condition'> {
  condition: string;
  /** "62% of false positives: more than 20 pointer events and ..." */
  description: string;
  /** How this scenario's features differ between all false and true positives of the rule. */
  features: FeatureContrast[];
  /** Whether its false positives lie far outside what labelled humans do (possible mislabelled automation). */
  automation?: AutomationEvidence;
}

export interface FpReport {
  condition: string;
  rule?: { id: string; title: string };
  window: FpProfile['window'];
  fp: number;
  tp: number;
  profile: FpProfile;
  scenarios: ScenarioReport[];
  modifications: Modification[];
  /** Index of the modification that cuts the most false positives while keeping >= 95% of true positives. */
  best: number | null;
  seconds: number;
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

/** Flatten a top-level `and` so exclusion terms join it rather than nest. */
function conjuncts(e: Expr): readonly Expr[] {
  return e.kind === 'and' ? e.operands : [e];
}

/**
 * The rule with a threshold tightened, when the scenario is one threshold on a feature the rule
 * bounds the other way at its top level (`f < 0.8` and scenario `f >= 0.6` -> `f < 0.6`); the
 * two read the same on every row the rule hits (the rule's term already needs a value).
 */
export function tighten(rule: Expr, scenario: Expr): Expr | undefined {
  if (scenario.kind !== 'comparison' || scenario.value.kind !== 'number') return undefined;
  const s = scenario;
  const v = (s.value as { value: number }).value;
  const parts = conjuncts(rule);
  const at = parts.findIndex(
    (p) =>
      p.kind === 'comparison' &&
      p.feature === s.feature &&
      p.value.kind === 'number' &&
      (s.op === '>=' || s.op === '>' ? p.op === '<' || p.op === '<=' : (s.op === '<=' || s.op === '<') && (p.op === '>' || p.op === '>=')),
  );
  if (at < 0) return undefined;
  const p = parts[at] as Comparison;
  const t = (p.value as { value: number }).value;
  let next: Comparison;
  if (s.op === '>=' || s.op === '>') {
    if (!(v <= t)) return undefined;
    next = comparison(s.feature, s.op === '>=' ? '<' : '<=', v);
  } else if (s.op === '<=' || s.op === '<') {
    if (!(v >= t)) return undefined;
    next = comparison(s.feature, s.op === '<=' ? '>' : '>=', v);
  } else return undefined;
  const out = parts.map((x, i) => (i === at ? next : x));
  return out.length === 1 ? out[0]! : and(...out);
}

function excluding(rule: Expr, scenarios: readonly Expr[]): Expr {
  return and(...conjuncts(rule), ...scenarios.map((s) => not(s)));
}

function effect(window: WindowName, before: RuleResult, after: RuleResult): Effect {
  const pick = (r: RuleResult) => ({ tp: r.counts.tp, fp: r.counts.fp, recall: r.recall, fpr: r.fpr, fpr_upper95: r.fpr_upper95, precision: r.precision });
  return {
    window,
    before: pick(before),
    after: pick(after),
    fp_cut: before.counts.fp ? 1 - after.counts.fp / before.counts.fp : null,
    tp_kept: before.counts.tp ? after.counts.tp / before.counts.tp : null,
  };
}

/**
 * The rule and its modifications backtested together on the analysis window and on the test
 * window (one scan per window): each modification's before/after effect.
 */
export async function measureModifications(
  store: Store,
  config: Config,
  catalog: Catalog,
  ast: Expr,
  modified: readonly Expr[],
  name: WindowName,
): Promise<{ window: Effect; test: Effect; keeps_tp: boolean }[]> {
  if (!modified.length) return [];
  const rules = [ast, ...modified].map((a, i) => ({ id: String(i), ast: a, predicate: compilePredicate(a, catalog) }));
  const here = await evaluateRules(store, config, catalog, await resolveWindow(store, config, name), rules);
  const test = name === 'test' ? here : await evaluateRules(store, config, catalog, await resolveWindow(store, config, 'test'), rules);
  return modified.map((_, i) => {
    const e = effect(name, here.rules[0]!, here.rules[i + 1]!);
    return { window: e, test: effect('test', test.rules[0]!, test.rules[i + 1]!), keeps_tp: (e.tp_kept ?? 1) >= TP_KEEP - 1e-12 };
  });
}

export interface FpOptions {
  window?: WindowName;
  onStep?: (m: string) => void;
}

export async function analyseFalsePositives(store: Store, config: Config, catalog: Catalog, ast: Expr, opts: FpOptions = {}): Promise<FpReport> {
  const t0 = performance.now();
  const name = opts.window ?? 'train';
  const window = await resolveWindow(store, config, name);
  const columns = new Set((await store.describe(`SELECT * FROM ${quoteIdent(config.data.table)}`)).map((c) => c.name));
  const segments = config.data.segments.filter((s) => columns.has(s));
  opts.onStep?.(`collecting the rule's labelled hits on the ${name} window`);
  const counts = await collectHits(store, config, catalog, ast, window, segments);
  const w = { name, from: window.from, to: window.to };
  const empty: FpProfile = { window: w, fp: counts.fp, tp: counts.tp, features: [], segments: [], days: [] };
  const report: FpReport = {
    condition: print(ast),
    window: w,
    fp: counts.fp,
    tp: counts.tp,
    profile: empty,
    scenarios: [],
    modifications: [],
    best: null,
    seconds: 0,
  };
  try {
    if (counts.fp === 0) return report;
    opts.onStep?.(`profiling ${counts.fp} false positives against ${counts.tp} true positives`);
    const features = await contrastFeatures(store, catalog, counts);
    report.profile = { ...empty, features, ...(await profileSegmentsAndDays(store, segments, counts.fp)) };
    opts.onStep?.('searching for false-positive scenarios');
    const sample = await sampleHits(store, counts, SEARCH_CAP);
    const found = await findScenarios(store, catalog, sample, { table: SAMPLE });
    const scenarios = await countScenarios(
      store,
      catalog,
      found.map((s) => s.condition),
      counts,
    );
    report.scenarios = scenarios.map((s) => {
      const used = new Set(featuresOf(s.condition));
      return {
        ...s,
        condition: print(s.condition),
        description: `${pct(s.share)} of false positives: ${english(s.condition, catalog)}`,
        features: features.filter((f) => used.has(f.feature)),
      };
    });
    // scenarios whose "people" are far outside every human range: relabelling candidates
    const evidence = await automationEvidence(
      store,
      config,
      catalog,
      window,
      scenarios.map((s) => s.condition),
    );
    report.scenarios.forEach((s, i) => (s.automation = evidence[i]));
    if (!scenarios.length) return report;
    const mods: Omit<Modification, 'window' | 'keeps_tp'>[] = scenarios.map((s, i) => {
      const t = tighten(ast, s.condition);
      const m = t ?? excluding(ast, [s.condition]);
      return {
        kind: t ? 'tightened' : 'exclusion',
        scenarios: [i],
        condition: print(m),
        ast: m,
        change: t ? `tightened to ${print(t)}` : `and not (${print(s.condition)})`,
      };
    });
    if (scenarios.length > 1) {
      const m = excluding(
        ast,
        scenarios.map((s) => s.condition),
      );
      mods.push({
        kind: 'combined',
        scenarios: scenarios.map((_, i) => i),
        condition: print(m),
        ast: m,
        change: `excluding all ${scenarios.length} scenarios`,
      });
    }
    opts.onStep?.(`backtesting ${mods.length} modifications`);
    const measured = await measureModifications(
      store,
      config,
      catalog,
      ast,
      mods.map((m) => m.ast),
      name,
    );
    report.modifications = mods.map((m, i) => ({ ...m, ...measured[i]! }));
    let best: number | null = null;
    report.modifications.forEach((m, i) => {
      if (!m.keeps_tp) return;
      const b = best === null ? undefined : report.modifications[best]!;
      if (
        !b ||
        (m.window.fp_cut ?? 0) > (b.window.fp_cut ?? 0) ||
        ((m.window.fp_cut ?? 0) === (b.window.fp_cut ?? 0) && (m.window.tp_kept ?? 0) > (b.window.tp_kept ?? 0))
      )
        best = i;
    });
    report.best = best;
    return report;
  } finally {
    await store.run('DROP TABLE IF EXISTS temp.main.rulegen_fp_hits');
    await store.run('DROP TABLE IF EXISTS temp.main.rulegen_fp_sample');
    report.seconds = (performance.now() - t0) / 1000;
  }
}
