/**
 * Step 4 of the inducer: the best few rules of one covering step, judged on the validation
 * slice. Passenger terms are dropped (a term must remove false positives there); thresholds
 * are rounded to the fewest significant digits that keep the rule's hits on the sample within
 * 1% (rounding.ts); a rule must pass the per-rule gate (catching the scaled min_support), keep
 * the union of the chosen set under the set FPR bound (Wilson upper 95%), add bots no earlier
 * rule catches (NEW_SUPPORT_SHARE of that support), and not repeat an existing rule (hit-set
 * Jaccard >= max_jaccard on the sample). The best of those that hold is kept.
 */
import { wilson } from '../../backtest/stats.js';
import { not } from '../../rule/ast.js';
import { english } from '../../rule/english.js';
import { print } from '../../rule/printer.js';
import { duplicateOf, pct, prunePassengers, sliceGateReasons, type SliceCounts } from '../covering.js';
import { roundingCandidates, withinTolerance } from '../rounding.js';
import { astOf, conjSql, withValue } from './sql.js';
import type { Chosen, ExistingRule, InduceResult, SearchContext, Term } from './types.js';

/** The objective: bots caught, less `lambda` bots per false positive. */
export const worth = (tp: number, fp: number, lambda: number) => tp - lambda * fp;

/**
 * `narrowable`: a candidate ranked above the one kept (any, when none is) had the bots but took
 * in too many people (the per-rule FPR bound, precision, or the set's bound): a narrower version
 * of it might pass.
 */
export type Verdict = (
  { kind: 'chosen'; rule: Chosen; overlapFp: number } | { kind: 'duplicates'; of: ExistingRule[] } | { kind: 'failed'; reason: string }
) & {
  narrowable?: boolean;
};

/** The covering run's state the judgement reads: false positives of the set so far, the price of one, and where duplicates are reported. */
export interface RunState {
  unionFp: number;
  lambdaVal: number;
  skipped: InduceResult['skipped'];
}

/** Prune, round and judge candidates on the validation slice; keep the best that holds. */
export async function validateCandidates(ctx: SearchContext, run: RunState, cands: Term[][]): Promise<Verdict> {
  const { counter, catalog, existing, val } = ctx;
  // a. every sub-rule of every candidate on the validation slice (passenger terms)
  const subsets: { ci: number; kept: number[] }[] = [];
  cands.forEach((c, ci) => {
    const k = c.length;
    for (let mask = 1; mask < 1 << k; mask++) subsets.push({ ci, kept: Array.from({ length: k }, (_, i) => i).filter((i) => mask & (1 << i)) });
  });
  const vcounts = await counter.onValidation(subsets.map((s) => s.kept.map((i) => cands[s.ci]![i]!)));
  const subCounts = new Map(subsets.map((s, i) => [`${s.ci}:${s.kept.join(',')}`, vcounts[i]!]));
  const pruned = cands.map((c, ci) => {
    const kept = prunePassengers(c.length, (k) => subCounts.get(`${ci}:${k.join(',')}`));
    const ts = kept.map((i) => c[i]!);
    const full = subCounts.get(`${ci}:${kept.join(',')}`)!;
    const termNotes = kept.map((i) => {
      const t = c[i]!;
      const rest = kept.filter((j) => j !== i);
      if (rest.length === 0) return `${t.atom.key}: catches ${full.tp} of ${val.bots} bots on the validation slice (${full.fp} of ${val.humans} humans)`;
      const without = subCounts.get(`${ci}:${rest.join(',')}`)!;
      // who the term leaves out, in the catalog's words: the reviewer's "heavy readers"
      return (
        `${t.atom.key}: removes ${without.fp - full.fp} of ${without.fp} false positives (people with ${english(not(t.atom.ast), catalog)}) ` +
        `and ${without.tp - full.tp} of ${without.tp} bots on the validation slice`
      );
    });
    return { terms: ts, termNotes };
  });

  // b. rounding variants of every numeric threshold, hits on the whole sample
  const variants: { ci: number; ti: number; value: number; terms: Term[] }[] = [];
  const originals = pruned.map((p) => p.terms);
  pruned.forEach((p, ci) => {
    p.terms.forEach((t, ti) => {
      const a = t.atom.ast;
      // '=' names a value the data holds (a spike): a rounded one would match nothing. '<' and
      // '>' at a spike (> 1/6) round like any threshold: the hits measured below decide.
      if (a.kind !== 'comparison' || a.op === '=' || a.op === '!=' || a.value.kind !== 'number') return;
      for (const v of roundingCandidates(a.value.value, ctx.integer.has(a.feature))) {
        const rt = withValue(t, a, v, catalog);
        variants.push({ ci, ti, value: v, terms: p.terms.map((x, j) => (j === ti ? rt : x)) });
      }
    });
  });
  // hits, and labelled humans among them, on the whole sample
  const onSample = await counter.onSample([...originals, ...variants.map((v) => v.terms)]);
  const hits = (i: number) => onSample[i]!.hits;
  const humansHit = (i: number) => onSample[i]!.humans;
  const rounded = pruned.map((p, ci) => {
    const orig = hits(ci);
    const origFp = humansHit(ci);
    const ts = p.terms.map((t, ti) => {
      const a = t.atom.ast;
      const mine = variants
        .map((v, vi) => ({ v, hits: hits(originals.length + vi), fp: humansHit(originals.length + vi) }))
        .filter((x) => x.v.ci === ci && x.v.ti === ti);
      // a readable threshold must not buy its digits with people: on the Apache log `bytes_mean
      // >= 324` (a spike of bots) rounded to 300 took in one more person on the sample (within
      // the hits' tolerance) and one more on test; 320 takes in none
      const ok = mine.find((x) => withinTolerance(orig, x.hits, 0.005) && x.fp <= origFp);
      return ok && a.kind === 'comparison' ? withValue(t, a, ok.v.value, catalog) : t;
    });
    return { terms: ts, orig, origFp };
  });

  // c. the final rules (rounded; the unrounded as fall-back) on validation, the sample, and against existing rules
  const judged = await counter.judge(
    rounded.flatMap((r, ci) => [r.terms, originals[ci]!]),
    existing.length,
  );
  const failures: string[] = [];
  const dups: ExistingRule[] = [];
  let firstCrowded = Infinity;
  let bestAt = Infinity;
  let best: { kind: 'chosen'; rule: Chosen; overlapFp: number } | undefined;
  for (let ci = 0; ci < cands.length; ci++) {
    // the rounded terms together: hits within the tolerance, and no labelled human more than unrounded
    const useRounded = withinTolerance(rounded[ci]!.orig, judged[2 * ci]!.hits) && judged[2 * ci]!.humans <= rounded[ci]!.origFp;
    const j = judged[useRounded ? 2 * ci : 2 * ci + 1]!;
    const ts = useRounded ? rounded[ci]!.terms : pruned[ci]!.terms;
    const ast = astOf(ts);
    const condition = print(ast);
    const dup = duplicateOf(j.hits, existing, j.existing, ctx.maxJaccard);
    if (dup) {
      // several candidates of one batch (or of later steps) can prune to the same rule: one report each
      if (!run.skipped.some((k) => k.condition === condition && k.duplicate_of === dup.rule.condition))
        run.skipped.push({ condition, duplicate_of: dup.rule.condition, jaccard: dup.jaccard });
      dups.push(dup.rule);
      continue;
    }
    const c: SliceCounts = { tpAll: j.valBots, tpNew: j.valNewBots, fp: j.valHumans };
    const reasons = sliceGateReasons(c, val.humans, ctx.valGate);
    if (c.tpAll < ctx.valGate.minCatch) reasons.push(`catches ${c.tpAll} bots, fewer than ${ctx.valGate.minCatch}`);
    const overlapFp = j.valCoveredHumans;
    const union = wilson(run.unionFp + c.fp - overlapFp, val.humans).upper;
    if (union > ctx.setMax) reasons.push(`the set's FPR bound would be ${pct(union)} > ${pct(ctx.setMax)}`);
    const enoughBots = c.tpNew >= ctx.valGate.minSupport && c.tpAll >= ctx.valGate.minCatch;
    if (reasons.length && enoughBots) firstCrowded = Math.min(firstCrowded, ci);
    if (reasons.length) {
      failures.push(`${condition}: ${reasons.join('; ')}`);
      continue;
    }
    const termNotes = pruned[ci]!.termNotes.map((t, k) =>
      useRounded && print(ts[k]!.atom.ast) !== pruned[ci]!.terms[k]!.atom.key
        ? `${print(ts[k]!.atom.ast)} (rounded from ${pruned[ci]!.terms[k]!.atom.key}; counts before rounding)${t.slice(pruned[ci]!.terms[k]!.atom.key.length)}`
        : t,
    );
    // the objective on the validation slice: the most bots added to the set
    if (
      !best ||
      worth(c.tpNew, c.fp - overlapFp, run.lambdaVal) > worth(best.rule.validation.tp_new, best.rule.validation.fp - best.overlapFp, run.lambdaVal)
    ) {
      bestAt = ci;
      best = {
        kind: 'chosen',
        overlapFp,
        rule: {
          terms: ts,
          ast,
          pred: conjSql(ts),
          notes: termNotes,
          validation: { tp_new: c.tpNew, tp: c.tpAll, fp: c.fp, humans: val.humans, union_fpr_upper95: union },
        },
      };
    }
  }
  const narrowable = firstCrowded < bestAt;
  if (best) return { ...best, narrowable };
  if (dups.length) return { kind: 'duplicates', of: dups, narrowable };
  return {
    kind: 'failed',
    reason: failures.length ? `the next best fails on the validation slice: ${failures[0]}` : 'the best candidates repeat rules already chosen',
    narrowable,
  };
}
