/**
 * How many false positives a rule may have on the fit slice, from the validation slice's power.
 * A rule goes on from the fit slice to be judged on the validation slice; what barely passes
 * where it was fitted fails where it was not. A constant share of max_fpr (FIT_MARGIN) counts
 * that caution twice on a small slice, whose Wilson bound is already wide: on the real Apache
 * log (380 validation humans, max_fpr 11%) a rule passes there with up to 29 false positives,
 * a point FPR of 7.6%, while the margin 0.5 keeps the fit slice's bound under 5.5%, and the
 * depth-3 tree's best leaf (5.9% on the fit slice) never reaches validation. The power
 * allowance asks instead: given k false positives among the fit slice's humans, how likely is
 * the validation slice to see few enough to pass (beta-binomial, the FPR's posterior from the
 * fit slice with Jeffreys' prior)? On the eval suite's 20,000-session cases it allows the same
 * counts as the margin (1, 3 and 1 false positives); on large slices about twice as many.
 */
import { wilson } from '../../backtest/stats.js';

/** The chance of passing on the validation slice a rule must have to go on from the fit slice. */
export const FIT_PASS_CHANCE = 0.7;

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 coefficients; about 15 digits). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The most false positives among `humans` whose Wilson upper bound stays within `maxFpr`; -1 when even none is too many. */
export function maxPassingFp(humans: number, maxFpr: number): number {
  if (humans <= 0 || wilson(0, humans).upper > maxFpr) return -1;
  let lo = 0;
  let hi = humans;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (wilson(mid, humans).upper <= maxFpr) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The chance that a rule with `k` false positives among `fitHumans` has at most `kMax` among
 * `valHumans`: the beta-binomial predictive distribution, FPR ~ Beta(k + 1/2, fitHumans - k + 1/2).
 */
export function passChance(k: number, fitHumans: number, valHumans: number, kMax: number): number {
  if (kMax < 0) return 0;
  if (kMax >= valHumans) return 1;
  const a = k + 0.5;
  const b = fitHumans - k + 0.5;
  const lnBeta = (x: number, y: number) => lnGamma(x) + lnGamma(y) - lnGamma(x + y);
  let pmf = Math.exp(lnBeta(a, valHumans + b) - lnBeta(a, b));
  let sum = pmf;
  for (let x = 0; x < kMax; x++) {
    pmf *= ((valHumans - x) / (x + 1)) * ((x + a) / (valHumans - x - 1 + b));
    sum += pmf;
  }
  return Math.min(1, sum);
}

/** The most false positives on the fit slice that pass on the validation slice with at least `chance`; -1 when none does. */
export function powerFitFp(fitHumans: number, valHumans: number, maxFpr: number, chance = FIT_PASS_CHANCE): number {
  const kMax = maxPassingFp(valHumans, maxFpr);
  if (fitHumans <= 0 || passChance(0, fitHumans, valHumans, kMax) < chance) return -1;
  let lo = 0;
  let hi = fitHumans;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (passChance(mid, fitHumans, valHumans, kMax) >= chance) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** powerFitFp as an FPR bound for the fit slice's gate (the Wilson bound of that count, so the gate admits exactly those counts). */
export function powerFitMaxFpr(fitHumans: number, valHumans: number, maxFpr: number, chance = FIT_PASS_CHANCE): number {
  const k = powerFitFp(fitHumans, valHumans, maxFpr, chance);
  return k < 0 ? 0 : wilson(k, fitHumans).upper * (1 + 1e-9);
}
