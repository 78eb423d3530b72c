// The target of issue 15 (b), judged at one gate on the test window: the covering set's recall at
// least that of the depth-3 tree's best passing leaf, at an FPR no higher than that leaf's. Pure
// (counts in, a verdict and one plain sentence out) so that bench/quality.mjs prints it the same
// way at every gate and a test can hold it (test/propose/quality-target.test.ts).

const pct = (x, d = 2) => `${(100 * x).toFixed(d)}%`;
const fpct = (x) => pct(x, 3);

/** A tree leaf passes the per-rule gate: FPR upper bound, precision and support. */
export const leafPasses = (l, gate) => l.fpr_upper95 <= gate.max_fpr && (l.precision ?? 0) >= gate.min_precision && l.tp >= gate.min_support;

/**
 * @param {object} a
 * @param {{ tp: number, fp: number, fpr_upper95: number, precision: number | null, condition?: string }[]} a.leaves the tree's leaves on test
 * @param {{ max_fpr: number, min_precision: number, min_support: number }} a.gate
 * @param {{ rules: number, tp: number, fp: number }[]} a.prefixes the set's first 1, 2, ... rules on test (the last is the whole set)
 * @param {number} a.bots labelled bots on test
 * @param {number} a.humans labelled humans on test
 * @param {boolean} a.setPasses the whole set passes the set gate on test
 * @returns {{ status: 'met' | 'missed' | 'no tree leaf', text: string, leaf?: object, at?: object }}
 */
export function targetVerdict({ leaves, gate, prefixes, bots, humans, setPasses }) {
  const recall = (tp) => (bots ? tp / bots : 0);
  const fpr = (fp) => (humans ? fp / humans : 0);
  const set = prefixes.at(-1) ?? { rules: 0, tp: 0, fp: 0 };
  const setText =
    `covering set ${pct(recall(set.tp))} at FPR ${fpct(fpr(set.fp))} ` +
    `(${set.tp} bots, ${set.fp} humans; ${setPasses ? 'passes' : 'fails'} the set gate on test)`;
  const passing = leaves.filter((l) => leafPasses(l, gate)).sort((x, y) => y.tp - x.tp || x.fp - y.fp);
  const leaf = passing[0];
  if (!leaf) return { status: 'no tree leaf', text: `NO TREE LEAF PASSES this gate: nothing to compare; ${setText}` };
  const leafText = `tree's best passing leaf ${pct(recall(leaf.tp))} at FPR ${fpct(fpr(leaf.fp))} (${leaf.tp} bots, ${leaf.fp} humans)`;
  // the set, or its longest-recall prefix, at an FPR no higher than the leaf's (same test window: fp <= the leaf's)
  const within = prefixes.filter((p) => p.fp <= leaf.fp).sort((x, y) => y.tp - x.tp || x.fp - y.fp || x.rules - y.rules)[0];
  if (within && within.tp >= leaf.tp) {
    const who = within === set ? 'the whole set' : `the set's first ${within.rules} rule(s)`;
    return { status: 'met', leaf, at: within, text: `MET: ${who} ${pct(recall(within.tp))} at FPR ${fpct(fpr(within.fp))} >= ${leafText}; ${setText}` };
  }
  const best = within
    ? `at an FPR no higher, the set's first ${within.rules} rule(s) reach ${pct(recall(within.tp))} (${within.tp} bots, ${within.fp} humans)`
    : 'no prefix of the set has an FPR that low';
  const over = set.tp >= leaf.tp && set.fp > leaf.fp ? `; the whole set has the recall but ${set.fp - leaf.fp} false positive(s) more` : '';
  return { status: 'missed', leaf, ...(within ? { at: within } : {}), text: `MISSED vs the ${leafText}: ${best}${over}; ${setText}` };
}
