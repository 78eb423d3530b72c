/**
 * Step 3 of the inducer: separate and conquer (as RIPPER and CN2 do). Find the best rule for
 * the bots no chosen rule covers yet, mark them covered, search again, so each rule is built
 * for the bots the others miss. One rule is a beam search over conjunctions of up to
 * MAX_TERMS atoms on the fit slice, maximising the new bots caught among the candidates that
 * pass the gate there; the best few go to the validation slice (validation.ts).
 */
import { wilson } from '../../backtest/stats.js';
import { print } from '../../rule/printer.js';
import { foilGain, sliceGateReasons, type SliceCounts } from '../covering.js';
import type { SampleRule } from './bins.js';
import { byKey, keyOf, setKey } from './sql.js';
import type { Chosen, Family, InduceResult, SearchContext, Term } from './types.js';
import { validateCandidates, worth, type RunState, type Verdict } from './validation.js';

export const MAX_TERMS = 3;
/** Partial rules extended at each depth. */
export const BEAM = 5;
/**
 * Partial rules extended by FOIL gain besides the BEAM by the objective, and the largest share
 * of the fit slice such a partial rule may hit (a counting pass costs rows times features).
 * Measured on the synthetic data at 1M, clean labels, default gate (bench/quality.mjs --noise 0):
 * headless_browser covered 21% with the objective's beam alone, 80% with 2 by gain among rules
 * hitting <= 8% of the rows (85% union recall, search 1.5x slower), 98% with 5 and no cap
 * (3x slower). With synth's own label noise and max_fpr = set_max_fpr 0.5%: 85.7% -> 87.6%. The
 * cost: with that noise at the default 0.1% gate (below the noise floor, see NoiseFloor) 15.7%
 * -> 4.1%, the wider search's first rules spend the set's budget on the validation slice.
 * GAIN_BEAM = 0 is the objective's beam alone, as before.
 */
export const GAIN_BEAM = 2;
export const GAIN_MAX_ROWS = 0.08;
/**
 * Labelled humans the fit slice needs for the gain beam. On the eval suite's 20,000-session cases
 * (about 6,000 fit humans, gate 0.2%) the wider search found more rules that were clean on the
 * fit slice by chance and failed validation: fewer and weaker rules than the objective's beam.
 */
export const GAIN_MIN_HUMANS = 50_000;
/** Best rules of one covering step taken to the validation slice, in order, per batch. */
export const VALIDATE = 12;
/**
 * Batches of VALIDATE tried before a covering step gives up. 3 let the eval suite's
 * drift-mid-window case keep a second rule (set recall 0.16 -> 0.31) but its drift survival fell
 * from 0.97 to 0.84, past the baseline's tolerance: left at 1 until the baseline is re-judged.
 */
export const VALIDATE_BATCHES = 1;
/**
 * The price of a false positive in bots, as a share of "what the whole set budget would have
 * to buy", bots / (set_max_fpr * humans); the covering runs once per price and keeps the set
 * with more bots on the validation slice. Measured on the synthetic data at 1M: with
 * set_max_fpr 0.5% the cheap price wins (union recall on test 74% vs 70% at 0.2 and 62% at
 * 0.5); with set_max_fpr 0.1% the dear one (15% vs 3%: one big rule spends the budget).
 */
export const LAMBDA_SHARES = [0.1, 0.2] as const;

/** One covering run: the price of a false positive (a LAMBDA_SHARES value) and the fit slice's FPR allowance. */
export interface CoverRunSpec {
  share: number;
  /** 'margin': FIT_MARGIN x max_fpr; 'power': from the validation slice's power (power.ts). */
  fit: 'margin' | 'power';
}

/**
 * The covering runs; the set with more bots on the validation slice is kept. The dear price
 * takes the power allowance: the wider allowance lets one rule spend more of the set budget,
 * the dearer price makes it pay more for each false positive it spends. Measured
 * (bench/quality.mjs): on the Apache log at max_fpr 11% (the tree's operating point) the set's
 * test recall 58% -> 80% (the dear, power run wins; 85% with NEW_SUPPORT_SHARE's second rule);
 * on the synthetic data at 1M and on the eval suite the cheap, margin run still wins (same
 * sets; on the eval cases the power allowance admits the margin's counts anyway).
 */
export const COVER_RUNS: readonly CoverRunSpec[] = [
  { share: LAMBDA_SHARES[0], fit: 'margin' },
  { share: LAMBDA_SHARES[1], fit: 'power' },
];

/** The rules of one covering run, why it stopped, and the share of validation bots they catch. */
export interface CoverRun {
  chosen: Chosen[];
  stop: string | undefined;
  families: Family[];
  skipped: InduceResult['skipped'];
  recall: number;
  /** The purest large group of bots seen by the first step (see FLOOR_SUPPORT), for the noise floor. */
  purest: Purest | undefined;
}

/** A candidate's counts on the fit slice with nothing covered yet. */
export interface Purest {
  condition: string;
  tp: number;
  fp: number;
}

/**
 * A group of bots counts as "large" for the noise floor when it holds at least this share of
 * the fit slice's bots: small groups can be clean by chance, large ones show the labelled
 * humans that come with any big share of the bots (label noise, or people who look like bots).
 */
export const FLOOR_SUPPORT = 0.05;

/**
 * Two prices of a false positive (COVER_RUNS): the cheaper one lets big families in when the
 * budget is wide, the dearer one keeps a tight budget for many clean rules. The set that
 * catches more bots on the validation slice wins (ties: the first).
 */
export async function coverBest(ctx: SearchContext, runs: readonly CoverRunSpec[] = COVER_RUNS): Promise<CoverRun> {
  const results = [];
  for (const r of runs) {
    const fitGate = r.fit === 'power' ? { ...ctx.fitGate, maxFpr: ctx.powerFitMaxFpr } : ctx.fitGate;
    results.push(await cover({ ...ctx, fitGate }, r.share));
  }
  const best = results.reduce((a, b) => (b.recall > a.recall ? b : a));
  return { ...best, purest: results.map((r) => r.purest).reduce(purer, undefined) };
}

/**
 * One covering run. The set shares one FPR budget: a false positive costs `share` times
 * "what the whole budget would have to buy", bots / (set_max_fpr * humans).
 */
async function cover(ctx: SearchContext, share: number): Promise<CoverRun> {
  const { terms, counter, fit, val, fitGate, setMax, step } = ctx;
  const chosen: Chosen[] = [];
  const families: Family[] = [];
  const run: RunState = { unionFp: 0, lambdaVal: (share * val.bots) / Math.max(1, setMax * val.humans), skipped: [] };
  let stop: string | undefined;
  const lambdaFit = (share * fit.bots) / Math.max(1, setMax * fit.humans);
  const maxSteps = ctx.count + 10;
  // single atoms: counted once, then only the bots each chosen rule newly covers are moved
  // from "new" to "covered" (a scan of those bots alone), not the whole slice again
  const single: SliceCounts[] = ctx.firstCounts.map((c) => ({ ...c }));
  // the counter owns the coverage (in memory, or the sample's flag columns with --engine sql)
  const coverBots = async (rule: SampleRule) => {
    const delta = await counter.coverNew(rule);
    delta.forEach((d, i) => (single[i]!.tpNew -= d.tpAll));
  };

  // the purest large group of bots the first step counts (every candidate of the first step is
  // counted with nothing covered, so tpAll is its share of all the fit slice's bots)
  let purest: Purest | undefined;
  const floorSupport = Math.max(fitGate.minCatch, Math.ceil(FLOOR_SUPPORT * fit.bots));
  const consider = (stepNo: number, ts: readonly Term[], c: SliceCounts) => {
    if (stepNo === 1 && c.tpAll >= floorSupport) purest = purer(purest, { condition: keyOf(ts), tp: c.tpAll, fp: c.fp });
  };

  await counter.resetCoverage();
  for (let stepNo = 1; chosen.length < ctx.count && stepNo <= maxSteps; stepNo++) {
    // bots left on the fit slice
    const left = await counter.uncoveredFitBots();
    if (left < fitGate.minSupport) {
      stop = `only ${left} bots of the fit slice are left uncovered, fewer than the ${fitGate.minSupport} a rule must add`;
      break;
    }
    step(`rule ${chosen.length + 1}: scoring ${terms.length} atoms on ${left.toLocaleString('en-US')} uncovered bots`);
    ctx.progress(chosen.length, ctx.count, 'rules');
    const base = { tp: left, fp: fit.humans };
    const scored = terms.map((t, i) => ({
      terms: [t],
      key: t.atom.key,
      c: { ...single[i]! },
      gain: foilGain({ tp: single[i]!.tpNew, fp: single[i]!.fp }, base),
    }));
    const family = familyOf(stepNo, left, fit.humans, scored);
    families.push(family);

    // enough bots: `minSupport` new ones and `minCatch` in all (what validation asks, validation.ts)
    const enough = (c: SliceCounts) => c.tpNew >= fitGate.minSupport && c.tpAll >= fitGate.minCatch;
    // the set's FPR bound is held on the validation slice, where the union of the chosen rules is
    // counted exactly (validation.ts); here a candidate's own false positives must fit in it. (A
    // running union on the fit slice, counted exactly, cost 3 points of recall on the synthetic
    // data at 1M, 88% -> 85% at the 0.5% gate: the fit slice is half the evidence of a set it
    // did not choose; the Apache log did not change either way.)
    const passes = (c: SliceCounts) => sliceGateReasons(c, fit.humans, fitGate).length === 0 && enough(c) && wilson(c.fp, fit.humans).upper <= setMax;
    const useful = scored.filter((s) => enough(s.c) && s.gain > 0);
    const extend = scored.map((s) => enough(s.c));
    const byBeamScore = (a: { c: SliceCounts; key: string }, b: { c: SliceCounts; key: string }) =>
      worth(b.c.tpNew, b.c.fp, lambdaFit) - worth(a.c.tpNew, a.c.fp, lambdaFit) || byKey(a, b);
    // no gain beam on a small sample: more partial rules explored is more rules that are clean on the fit slice by chance
    const maxRows = fit.humans >= GAIN_MIN_HUMANS ? Math.ceil(GAIN_MAX_ROWS * (fit.bots + fit.humans)) : -1;
    type Cand = { terms: Term[]; key: string; c: SliceCounts; gain: number };

    /** The beam search of this step: every rule that passes the fit slice, best first; `passBeam` passing rules narrowed per depth. */
    const search = async (passBeam: number): Promise<Cand[]> => {
      const passing: Cand[] = [];
      for (const s of scored) {
        if (passBeam === 0) consider(stepNo, s.terms, s.c);
        if (passes(s.c)) passing.push(s);
      }
      let beam = withPassing(
        beamOf(
          useful.filter((s) => !passes(s.c)),
          byBeamScore,
          maxRows,
        ),
        passing,
        byBeamScore,
        passBeam,
      );
      const seen = new Set(scored.map((s) => setKey(s.terms)));
      for (let depth = 2; depth <= MAX_TERMS && beam.length; depth++) {
        const counts = await counter.score(beam.map((b) => b.terms));
        const next: Cand[] = [];
        const passed: Cand[] = [];
        beam.forEach((b, bi) => {
          const feats = new Set(b.terms.map((t) => t.atom.feature));
          const parent = { tp: b.c.tpNew, fp: b.c.fp };
          terms.forEach((t, ti) => {
            if (!extend[ti]) return;
            if (feats.has(t.atom.feature)) return;
            const c = [...b.terms, t];
            const k = setKey(c);
            if (seen.has(k)) return;
            seen.add(k);
            const sc = counts[bi]![ti]!;
            if (!enough(sc)) return;
            const s = { terms: c, key: keyOf(c), c: sc, gain: foilGain({ tp: sc.tpNew, fp: sc.fp }, parent) };
            if (passBeam === 0) consider(stepNo, c, sc);
            if (passes(sc)) (passing.push(s), passed.push(s));
            else if (s.gain > 0) next.push(s);
          });
        });
        beam = withPassing(beamOf(next, byBeamScore, maxRows), passed, byBeamScore, passBeam);
      }
      // the best few, by bots added, then fewer terms, fewer false positives
      return passing.sort(
        (a, b) =>
          worth(b.c.tpNew, b.c.fp, lambdaFit) - worth(a.c.tpNew, a.c.fp, lambdaFit) || a.terms.length - b.terms.length || a.c.fp - b.c.fp || byKey(a, b),
      );
    };

    /**
     * Distinct rules, best first, not in `done`; judged on the validation slice VALIDATE at a time,
     * up to VALIDATE_BATCHES batches: a wider search finds more rules that only look clean on the
     * fit slice, and one batch of those must not end the covering.
     */
    const validate = async (passing: Cand[], done: Set<string>) => {
      const top: Cand[] = [];
      for (const p of passing) {
        if (top.length >= VALIDATE * VALIDATE_BATCHES) break;
        const k = setKey(p.terms);
        if (done.has(k)) continue;
        done.add(k);
        top.push(p);
      }
      let picked: Verdict | undefined;
      for (let b = 0; b * VALIDATE < top.length; b++) {
        const batch = top.slice(b * VALIDATE, (b + 1) * VALIDATE);
        step(`rule ${chosen.length + 1}: validating ${batch.length} candidates`);
        const verdict = await validateCandidates(
          ctx,
          run,
          batch.map((t) => t.terms),
        );
        // the first batch's reason is the one reported: it held the best candidates
        if (!picked || verdict.kind !== 'failed') picked = verdict;
        if (verdict.kind !== 'failed') break;
      }
      return picked;
    };

    const passing = await search(0);
    if (passing.length === 0) {
      stop = `no rule of up to ${MAX_TERMS} terms passes the gate on the fit slice for the ${left.toLocaleString('en-US')} bots left`;
      break;
    }
    const done = new Set<string>();
    let picked = await validate(passing, done);
    // Where a better candidate had the bots but took in too many people at validation (the set's
    // budget, precision, FPR), the passing rules are narrowed too (PASS_BEAM) and the narrower
    // ones judged; the better verdict is kept. Only there: narrowing everywhere added terms that
    // held on train and not under drift (synthetic 1M, seed 5, drift only in the test window:
    // 78.7% -> 71.4%).
    const passBeam = fit.humans >= GAIN_MIN_HUMANS ? PASS_BEAM : 0;
    if (passBeam > 0 && picked?.narrowable) {
      // only the narrowed rules: the first search's other rules are not a second batch (VALIDATE_BATCHES)
      for (const p of passing) done.add(setKey(p.terms));
      const narrowed = await validate(await search(passBeam), done);
      if (narrowed) picked = better(picked, narrowed, run.lambdaVal);
    }
    if (!picked) break;
    if (picked.kind === 'chosen') {
      chosen.push(picked.rule);
      family.condition = print(picked.rule.ast);
      await coverBots({ terms: picked.rule.terms });
      await counter.cover({ terms: picked.rule.terms }, false);
      run.unionFp = picked.rule.validation.fp + run.unionFp - picked.overlapFp;
    } else if (picked.kind === 'duplicates') {
      // the best rules here repeat existing ones: treat those rules' bots as covered, go on
      const of = picked.of.map((e) => ({ existing: ctx.existing.indexOf(e) }));
      for (const e of of) await coverBots(e);
      for (const e of of) await counter.cover(e, true);
    } else {
      stop = picked.reason;
      break;
    }
  }

  return {
    chosen,
    stop,
    families,
    skipped: run.skipped,
    recall: chosen.reduce((t, r) => t + r.validation.tp_new, 0) / Math.max(1, val.bots),
    purest,
  };
}

/** The verdict to keep of two for one step: a chosen rule over none; of two chosen, the one worth more on the validation slice (ties: the first). */
function better(a: Verdict, b: Verdict, lambda: number): Verdict {
  if (b.kind !== 'chosen') return a;
  if (a.kind !== 'chosen') return b;
  const w = (v: typeof a) => worth(v.rule.validation.tp_new, v.rule.validation.fp - v.overlapFp, lambda);
  return w(b) > w(a) ? b : a;
}

/** The purer of two groups (fewer labelled humans per bot; ties: more bots, then the condition). */
function purer(a: Purest | undefined, b: Purest | undefined): Purest | undefined {
  if (!a || !b) return a ?? b;
  const d = a.fp * b.tp - b.fp * a.tp;
  if (d !== 0) return d < 0 ? a : b;
  if (a.tp !== b.tp) return a.tp > b.tp ? a : b;
  return a.condition <= b.condition ? a : b;
}

/**
 * Passing rules extended at the next depth besides the beam, the PASS_BEAM best by the objective,
 * in a second search of a covering step where a better-ranked candidate had the bots but took in
 * too many people at validation (the set's FPR budget, precision or FPR; Verdict.narrowable). A
 * rule that passes the gate on the fit slice can still do that on the validation slice, where a
 * narrower version of it would fit. On the synthetic data at 1M (seed 2,
 * 0.5% gate) `webdriver_flag` passed the fit slice under the power allowance, was never narrowed,
 * and failed the set's bound at validation: headless browsers ended 22.6% covered. Only on a
 * large fit slice (GAIN_MIN_HUMANS), as the gain beam: on the eval suite's 20,000-session cases
 * the narrowed rules, clean on the fit slice by chance, filled the validation batch and failed
 * there (no rule at all where the baseline keeps one or two).
 */
export const PASS_BEAM = 2;

function withPassing<T extends { terms: Term[]; key: string; c: SliceCounts }>(
  beam: T[],
  passing: readonly T[],
  byScore: (a: T, b: T) => number,
  k: number,
): T[] {
  if (k <= 0) return beam;
  const keys = new Set(beam.map((b) => setKey(b.terms)));
  const extra = [...passing].filter((p) => p.terms.length < MAX_TERMS && !keys.has(setKey(p.terms))).sort(byScore);
  return [...beam, ...extra.slice(0, k)];
}

/**
 * The partial rules extended at the next depth: the BEAM best by the objective, and the
 * GAIN_BEAM best by FOIL gain among those hitting at most GAIN_MAX_ROWS of the fit slice. The
 * objective alone fills the beam with small, nearly clean rules; a family that only a
 * conjunction isolates (regular timing AND no pointer AND more than two requests) starts from
 * terms with many false positives, which only the gain ranks high.
 */
function beamOf<T extends { terms: Term[]; key: string; c: SliceCounts; gain: number }>(cands: T[], byScore: (a: T, b: T) => number, maxRows: number): T[] {
  const out = [...cands].sort(byScore).slice(0, BEAM);
  const keys = new Set(out.map((b) => setKey(b.terms)));
  for (const b of [...cands].filter((x) => x.c.tpAll + x.c.fp <= maxRows).sort((x, y) => y.gain - x.gain || byKey(x, y))) {
    if (out.length >= BEAM + GAIN_BEAM) break;
    if (keys.has(setKey(b.terms))) continue;
    keys.add(setKey(b.terms));
    out.push(b);
  }
  return out;
}

/** The features that separate what is left (the model path's per-family context): each feature's best atom by gain. */
function familyOf(step: number, left: number, humans: number, scored: readonly { terms: Term[]; key: string; c: SliceCounts; gain: number }[]): Family {
  const perFeature = new Map<string, (typeof scored)[number]>();
  for (const s of scored) {
    const f = s.terms[0]!.atom.feature;
    const cur = perFeature.get(f);
    if (!cur || s.gain > cur.gain || (s.gain === cur.gain && s.key < cur.key)) perFeature.set(f, s);
  }
  return {
    step,
    condition: null,
    bots_left: left,
    humans,
    features: [...perFeature.values()]
      .filter((s) => s.gain > 0)
      .sort((a, b) => b.gain - a.gain || byKey(a, b))
      .slice(0, 6)
      .map((s) => ({ feature: s.terms[0]!.atom.feature, atom: s.key, tp: s.c.tpNew, fp: s.c.fp })),
  };
}
