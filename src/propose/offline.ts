/**
 * The offline inducer: rules from the data with no model at all. It is the default without
 * credentials, the baseline a model must beat, and a source of candidates in its own right.
 *
 * 1. A search sample: up to SEARCH_ROWS labelled rows of the train window, chosen by a hash of
 *    the id (and the seed), split by another part of the same hash into a fit slice (2/3),
 *    where rules are searched, and a validation slice (1/3), where they are judged.
 * 2. Atoms from every usable feature in both directions (atoms.ts): not sensitive, not a
 *    possible label leak unless the catalog says `leak_ok: true`.
 * 3. Separate and conquer (as RIPPER and CN2 do): find the best rule for the bots no chosen
 *    rule covers yet, mark them covered, search again, so each rule is built for the bots the
 *    others miss. One rule is a beam search over conjunctions of up to MAX_TERMS atoms on the
 *    fit slice, maximising the new bots caught among the candidates that pass the gate there.
 *    Where a better candidate had the bots but took in too many people at validation, the step
 *    searches again narrowing the passing rules too (search.ts, PASS_BEAM).
 * 4. Each found rule, on the validation slice: passenger terms are dropped (a term must remove
 *    false positives there); thresholds are rounded to the fewest significant digits that keep
 *    its hits on the sample within 1% and take in no labelled human more (rounding.ts); what each
 *    term adds is said in words (its term notes); it must pass the per-rule gate, keep the
 *    union of the chosen set under the set FPR bound (Wilson upper 95%), add bots, and not
 *    repeat an existing approved, candidate or rejected rule (hit-set Jaccard >= max_jaccard
 *    on the sample). The first of the best few that does is kept.
 * 5. The kept rules are confirmed on the full train window; the result says why it has fewer
 *    rules than asked for.
 * The sample is a DuckDB table (SQL with bound parameters). Every count after the atoms comes
 * from one counter: by default the sample read into memory once, every atom a bitmap of its
 * rows, popcounted by the backtest kernel's primitives (bitmaps.ts for the search, rules-bits.ts
 * for whole rules: validation, rounding, duplicates, coverage); with `--engine sql`, SQL
 * histograms of the bin codes and SQL statements over the sample (bins.ts, rules-sql.ts). Both
 * give the same counts. Ties are broken by the printed condition, so the same data and seed give
 * the same rules. The steps live in offline/: sample.ts (1), the counters, search.ts (3),
 * validation.ts (4); this file wires them together and confirms (5).
 */ import type { Catalog, Feature } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import type { Store } from '../db/store.js';
import { featuresOf } from '../rule/ast.js';
import { print } from '../rule/printer.js';
import { evaluateRules } from '../backtest/evaluate.js';
import { applyGate } from '../backtest/gate.js';
import { wilson } from '../backtest/stats.js';
import { resolveWindow } from '../db/window.js';
import { leakSuspects } from '../rank/leak.js';
import type { Ranking } from '../rank/types.js';
import { buildAtoms } from './atoms.js';
import { pct } from './covering.js';
import { atomCounter } from './offline/bins.js';
import { compileExisting, countSample, createSample } from './offline/sample.js';
import { powerFitMaxFpr } from './offline/power.js';
import { COVER_RUNS, coverBest, type Purest } from './offline/search.js';
import { LBL, SAMPLE, VAL } from './offline/sql.js';
import type { Family, InducedRule, InduceOptions, InduceResult, NoiseFloor, Term, ValGate } from './offline/types.js';

export { SEARCH_ROWS } from './offline/sample.js';
export { BEAM, COVER_RUNS, LAMBDA_SHARES, MAX_TERMS, VALIDATE } from './offline/search.js';
export { FIT_PASS_CHANCE, passChance, powerFitFp } from './offline/power.js';
export type { Family, InducedRule, InduceOptions, InduceResult, NoiseFloor } from './offline/types.js';

/** Rows of the fit slice the atoms' thresholds are read from. */
export const ATOM_ROWS = 100_000;
/**
 * On the fit slice a rule must keep its FPR bound under this share of max_fpr: what barely passes
 * where it was fitted fails where it was not. The first covering run (the cheap price) uses it;
 * the second (the dear price) the allowance from the validation slice's power (offline/power.ts).
 */
// 0.5 rather than 0.7: on the 20k-session eval cases 0.7 let rules with 3 false positives in
// 2,953 validation humans through the fit and then fail validation (0 rules); 0.5 keeps 1-5.
// On the synthetic data at 1M (set gate 0.5%) the power allowance alone (590 false positives
// on the fit slice instead of 305) let the first rule spend most of the set budget: validation
// recall 0.93 -> 0.77 at the cheap price. Paired with the dear price it is the run that wins
// on the Apache log and loses (and is not kept) on the synthetic data.
export const FIT_MARGIN = 0.5;
/**
 * A rule after the first must add at least this share of the (scaled) min_support in bots no
 * earlier rule catches, and catch the whole min_support itself (the gate's own test), on the fit
 * slice and on the validation slice alike. On the Apache log a second rule adds 13 validation
 * bots with no false positive (21 on test) where 18 were required. The fit slice used to ask for
 * the whole min_support in new bots: with the search seeds 1-3 that rule added 31-35 there where
 * 36-37 were asked, never reached validation, and the set stopped at one rule (with the bots'
 * spikes of atoms.ts, which make its `mean_bytes = 14872` an atom with every seed). Measured with
 * both: the eval suite's offline results do not change; the synthetic data at 1M (seed 5) at the
 * reachable gate 0.5%: union recall 87.6% -> 88.3%, FPR bound 0.381% -> 0.386%.
 */
export const NEW_SUPPORT_SHARE = 0.5;

/** The features the inducer may use, and the ones it leaves out with the reason. */
export function inducerFeatures(catalog: Catalog, ranking: Ranking): { use: Feature[]; excluded: { feature: string; reason: string }[] } {
  const leaks = new Set(leakSuspects(ranking, catalog));
  const use: Feature[] = [];
  const excluded: { feature: string; reason: string }[] = [];
  for (const r of ranking.features) {
    const f = catalog.get(r.feature);
    if (!f) continue;
    if (f.sensitive) excluded.push({ feature: f.name, reason: 'sensitive' });
    else if (f.leak) excluded.push({ feature: f.name, reason: "derived from the label's source (leak: true in the catalog)" });
    else if (leaks.has(f.name))
      excluded.push({ feature: f.name, reason: `possible label leak (${r.leak?.reasons.join(', ')}); mark it leak_ok: true in the catalog to use it` });
    else if (r.auc !== null || r.ks !== null || r.iv !== null) use.push(f);
  }
  return { use, excluded };
}

/**
 * Propose up to `count` rules by separate-and-conquer. `exclude` holds the conditions of the
 * workspace's existing rules: a rule whose hits repeat one of theirs is never proposed.
 */
export async function induce(store: Store, config: Config, catalog: Catalog, ranking: Ranking, opts: InduceOptions): Promise<InduceResult> {
  const t0 = performance.now();
  const step = opts.onStep ?? (() => undefined);
  const seed = opts.seed ?? 0;
  const gate = config.gate as Config['gate'] & { set_max_fpr?: number; max_jaccard?: number };
  const setMax = gate.set_max_fpr ?? gate.max_fpr;
  const maxJaccard = gate.max_jaccard ?? 0.9;
  const notes: string[] = [];
  const train = await resolveWindow(store, config, 'train');
  const test = await resolveWindow(store, config, 'test');
  const { use, excluded } = inducerFeatures(catalog, ranking);
  const empty = (why: string): InduceResult => ({
    rules: [],
    searched: 0,
    sampleRows: 0,
    window: train,
    seconds: (performance.now() - t0) / 1000,
    notes: [why],
    skipped: [],
    families: [],
    excluded,
  });
  if (use.length === 0) return empty('no usable feature: every ranked feature is sensitive, a possible label leak, or has no statistic');

  // existing rules, as hit columns of the sample
  const existing = compileExisting(opts.exclude, catalog);

  // 1. the sample: fit and validation slices of the labelled train rows
  step('sampling the train window');
  await createSample(store, config, train, use, existing, seed);
  try {
    const { sampleRows, fit, val } = await countSample(store, existing);
    const scale = (rows: number) => Math.max(3, Math.ceil((gate.min_support * rows) / Math.max(1, test.rows)));
    // the fit slice asks what the validation slice asks (NEW_SUPPORT_SHARE): a rule the validation
    // slice would keep must be able to reach it
    const fitSupport = scale(fit.bots + fit.humans);
    const fitGate: ValGate = {
      maxFpr: FIT_MARGIN * gate.max_fpr,
      minPrecision: gate.min_precision,
      minSupport: Math.max(2, Math.ceil(NEW_SUPPORT_SHARE * fitSupport)),
      minCatch: fitSupport,
    };
    const valSupport = Math.max(2, scale(val.bots + val.humans));
    const valGate: ValGate = {
      maxFpr: gate.max_fpr,
      minPrecision: gate.min_precision,
      minSupport: Math.max(2, Math.ceil(NEW_SUPPORT_SHARE * valSupport)),
      minCatch: valSupport,
    };
    if (fit.bots === 0 || fit.humans === 0 || val.humans === 0)
      return { ...empty(`the train window's sample has ${fit.bots + val.bots} bots and ${fit.humans + val.humans} humans: nothing to learn from`), sampleRows };
    const reach = wilson(0, val.humans).upper;
    if (reach > gate.max_fpr) {
      return {
        ...empty(
          `the validation slice has ${val.humans.toLocaleString('en-US')} labelled humans: a rule with no false positive still has an FPR bound ` +
            `of ${pct(reach)}, above max_fpr ${pct(gate.max_fpr)}; about ${Math.ceil(3.84 / gate.max_fpr).toLocaleString('en-US')} humans are ` +
            `needed, so no rule can pass`,
        ),
        sampleRows,
      };
    }

    // 2. atoms, compiled once
    step(`building atoms from ${use.length} features`);
    // thresholds from at most ATOM_ROWS rows of the fit slice (exact quantiles of a hash-chosen part)
    const part = Math.min(1000, Math.ceil((1000 * ATOM_ROWS) / Math.max(1, fit.bots + fit.humans)));
    const built = await buildAtoms(store, catalog, use, { table: SAMPLE, label: LBL, fit: `NOT ${VAL} AND "_rg_h" < ${part}` });
    const terms: Term[] = built.atoms.map((atom) => ({ atom, pred: compilePredicate(atom.ast, catalog) }));
    // the search's counts: bitmaps in memory, or SQL histograms with --engine sql (same counts)
    const counter = await atomCounter(store, use, terms, opts.evaluator === 'sql' ? 'sql' : 'kernel', existing.length);
    const [firstCounts] = await counter.score(null);

    // 3 and 4. the covering search, each step's best judged on the validation slice
    const { chosen, stop, families, skipped, purest } = await coverBest(
      {
        store,
        catalog,
        terms,
        counter,
        firstCounts: firstCounts!,
        integer: built.integer,
        existing,
        fit,
        val,
        fitGate,
        powerFitMaxFpr: powerFitMaxFpr(fit.humans, val.humans, gate.max_fpr),
        valGate,
        setMax,
        maxJaccard,
        count: opts.count,
        step,
        progress: opts.onProgress ?? (() => undefined),
      },
      opts.familiesOnly ? COVER_RUNS.slice(0, 1) : COVER_RUNS,
    );
    const floor = noiseFloor(purest, fit, setMax);
    if (opts.familiesOnly) return { ...empty('families only'), notes: [], sampleRows, searched: counter.searched, families, ...(floor ? { floor } : {}) };

    // 5. confirmed on the full train window
    step(`confirming ${chosen.length} rules on the train window`);
    const confirm = chosen.length
      ? await evaluateRules(
          store,
          config,
          catalog,
          train,
          chosen.map((c, i) => ({ id: String(i), ast: c.ast, predicate: compilePredicate(c.ast, catalog) })),
          opts.evaluator ? { evaluator: opts.evaluator } : {},
        )
      : undefined;
    const rules: InducedRule[] = [];
    chosen.forEach((c, i) => {
      const r = confirm!.rules[i]!;
      const verdict = applyGate(r, config.gate);
      if (!verdict.pass) {
        notes.push(`${print(c.ast)} held on the validation slice but fails on the full train window: ${verdict.reasons.join('; ')}`);
        return;
      }
      rules.push({ ast: c.ast, condition: print(c.ast), terms: featuresOf(c.ast).length, train: r, term_notes: c.notes, validation: c.validation });
    });
    if (rules.length < opts.count) notes.unshift(`${rules.length} of the ${opts.count} rules asked for${stop ? `: ${stop}` : ''}`);
    if (floor?.binding) notes.splice(rules.length < opts.count ? 1 : 0, 0, floorMessage(floor, setMax));
    if (skipped.length)
      notes.push(
        `skipped ${skipped.length} rule(s) whose hits repeat an existing rule's (Jaccard ` +
          `>= ${maxJaccard}): ${skipped.map((s) => `${s.condition} ~ ${s.duplicate_of} (${s.jaccard.toFixed(2)})`).join('; ')}`,
      );
    for (const e of excluded) if (e.reason !== 'sensitive') notes.push(`${e.feature} left out: ${e.reason}`);
    return {
      rules,
      searched: counter.searched,
      sampleRows,
      window: train,
      seconds: (performance.now() - t0) / 1000,
      notes,
      skipped,
      families,
      excluded,
      ...(floor ? { floor } : {}),
    };
  } finally {
    await store.run(`DROP TABLE IF EXISTS ${SAMPLE}`).catch(() => undefined);
  }
}

/** Share of the bots within reach of the set gate below which the floor is said: "most bots" are out of reach. */
export const FLOOR_BINDING = 0.5;

/** The noise floor from the purest large group of bots on the fit slice; undefined without one. */
export function noiseFloor(purest: Purest | undefined, fit: { bots: number; humans: number }, setMax: number): NoiseFloor | undefined {
  if (!purest || purest.tp === 0 || fit.humans === 0) return undefined;
  const fpr = (purest.fp / purest.tp) * (fit.bots / fit.humans);
  const reachable = fpr > 0 ? Math.min(1, setMax / fpr) : 1;
  return { condition: purest.condition, tp: purest.tp, fp: purest.fp, fpr, reachable, binding: reachable < FLOOR_BINDING };
}

/** The one sentence propose says when the floor keeps most bots out of reach. */
export function floorMessage(f: NoiseFloor, setMax: number): string {
  return (
    `the labels have a noise floor: the purest large group of bots found (${f.condition}: ${f.tp.toLocaleString('en-US')} bots) ` +
    `also holds ${f.fp.toLocaleString('en-US')} labelled humans (${pct(f.fp / (f.tp + f.fp))}), bots labelled human or people who look exactly like them; ` +
    `at that rate catching every bot costs an FPR near ${pct(f.fpr)}, so within the set gate ${pct(setMax)} at most about ${Math.round(100 * f.reachable)}% ` +
    `of the bots can be caught. To catch more, check the labels or raise gate.set_max_fpr and gate.max_fpr towards ${pct(f.fpr)}`
  );
}

/**
 * For the model path (issue 15, item 6): per bot family found by the covering loop, the rule
 * kept for it and the features that best separate the bots still uncovered at that step.
 * Aggregates only (counts on the search sample); sensitive and leaking features never appear.
 */
export async function separatingFeatures(
  store: Store,
  config: Config,
  catalog: Catalog,
  ranking: Ranking,
  opts: { families?: number; exclude?: ReadonlySet<string>; onStep?: (m: string) => void } = {},
): Promise<Family[]> {
  const r = await induce(store, config, catalog, ranking, {
    count: opts.families ?? 5,
    familiesOnly: true,
    ...(opts.exclude ? { exclude: opts.exclude } : {}),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  });
  return r.families;
}
