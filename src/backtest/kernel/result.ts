/** The kernel's summed partial as the engine's BacktestResult (the shape and values of engine.ts). */
import type { BacktestResult, DailyPoint, RuleResult, SegmentResult, SetMetrics } from '../engine.js';
import { metrics, ratio, wilson, type Counts } from '../stats.js';
import type { Window } from '../../db/window.js';
import { daySlots, type KernelPlan, type Partial } from './compute.js';
import type { KernelOptions, KernelRule } from './index.js';
import type { ColumnSpec } from './plan.js';

const dayString = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
const byKey = <T>([a]: [string, T], [b]: [string, T]) => (a < b ? -1 : a > b ? 1 : 0);

export interface Shape {
  breakdowns: boolean;
  daily: boolean;
  overlap: boolean;
  train: Window | undefined;
  segSpecs: ColumnSpec[];
  dicts: ReadonlyMap<string, readonly string[]>;
  pops: readonly { name: string }[];
}

/** The engine's result shape from the summed partial, metric by metric as engine.ts computes it. */
export function assemble(
  plan: KernelPlan,
  part: Partial,
  window: Window,
  rules: readonly KernelRule[],
  opts: KernelOptions,
  sh: Shape,
  warnings: string[],
): Omit<BacktestResult, 'warnings' | 'timings'> {
  const K = rules.length;
  const DS = daySlots(plan);
  const G = (s: number, d: number, l: number) => part.groups[(s * DS + d) * 4 + l]!;
  const RG = (k: number, s: number, d: number, l: number) => part.ruleGroups[k * 2 * DS * 4 + (s * DS + d) * 4 + l]!;
  const sum = (f: (d: number) => number) => {
    let x = 0;
    for (let d = 0; d < DS; d++) x += f(d);
    return x;
  };
  const bots = sum((d) => G(0, d, 1));
  const humans = sum((d) => G(0, d, 0));
  const unlabeled = sum((d) => G(0, d, 2));
  const rows = bots + humans + unlabeled;
  if (bots + humans === 0) warnings.push(`the ${window.name} window has no labelled sessions: precision, recall and FPR are n/a`);
  else if (humans === 0) warnings.push(`the ${window.name} window has no sessions labelled human: FPR is n/a`);
  else if (bots === 0) warnings.push(`the ${window.name} window has no sessions labelled bot: recall is n/a`);

  const results: RuleResult[] = rules.map((r, k) => {
    const h = (l: number) => sum((d) => RG(k, 0, d, l));
    const counts: Counts = { tp: h(1), fp: h(0), tn: humans - h(0), fn: bots - h(1), unlabeled_hits: h(2) };
    return { id: r.id, counts, ...metrics(counts, rows) };
  });
  let populationTotals: BacktestResult['populations'];

  const series = (k: number, s: number, name: DailyPoint['window']): DailyPoint[] => {
    const pts: [string, DailyPoint][] = [];
    for (let d = 0; d < DS; d++) {
      const n = G(s, d, 0) + G(s, d, 1) + G(s, d, 2) + G(s, d, 3);
      if (n === 0) continue;
      const day = d === plan.nDays ? '(none)' : dayString(plan.minDay + d);
      const hum = G(s, d, 0);
      const bot = G(s, d, 1);
      const tp = RG(k, s, d, 1);
      const fp = RG(k, s, d, 0);
      const hits = tp + fp + RG(k, s, d, 2) + RG(k, s, d, 3);
      pts.push([day, { day, window: name, rows: n, humans: hum, bots: bot, hits, tp, fp, recall: bot ? tp / bot : null, fpr: hum ? fp / hum : null }]);
    }
    return pts.sort(byKey).map(([, p]) => p);
  };
  const segmentResult = (n: number, hum: number, fp: number, hits: number): SegmentResult => {
    const w = hum ? wilson(fp, hum) : null;
    return { rows: n, humans: hum, hits, fp, fpr: hum ? fp / hum : null, fpr_upper95: w ? w.upper : null, fpr_lower95: w ? w.lower : null };
  };

  if (sh.breakdowns) {
    if (sh.daily) {
      results.forEach((res, k) => {
        const s = series(k, 0, window.name);
        let worst: DailyPoint | undefined;
        for (const p of s) if (p.fpr !== null && (!worst || p.fpr > worst.fpr!)) worst = p;
        res.daily = { worst_fpr: worst?.fpr ?? null, worst_day: worst?.day ?? null, days: s.length, series: s };
      });
    }
    sh.segSpecs.forEach((spec, j) => {
      const V = plan.segSizes[j]!;
      const dict = sh.dicts.get(spec.column)!;
      const T = part.segTotals[j]!;
      const H = part.segHits[j]!;
      // values by their text (NULL reads "(none)", as in the engine's grouping)
      const keys = new Map<string, number[]>();
      for (let v = 0; v <= V; v++) {
        if (T[v * 4]! + T[v * 4 + 1]! + T[v * 4 + 2]! + T[v * 4 + 3]! === 0) continue;
        const name = v === V ? '(none)' : dict[v]!;
        keys.set(name, [...(keys.get(name) ?? []), v]);
      }
      const sorted = [...keys.entries()].sort(byKey);
      results.forEach((res, k) => {
        res.segments ??= {};
        for (const [name, vs] of sorted) {
          let n = 0;
          let hum = 0;
          let fp = 0;
          let hits = 0;
          for (const v of vs) {
            n += T[v * 4]! + T[v * 4 + 1]! + T[v * 4 + 2]! + T[v * 4 + 3]!;
            hum += T[v * 4]!;
            const o = k * (V + 1) * 4 + v * 4;
            fp += H[o]!;
            hits += H[o]! + H[o + 1]! + H[o + 2]! + H[o + 3]!;
          }
          res.segments[`${spec.column}=${name}`] = segmentResult(n, hum, fp, hits);
        }
      });
    });
    const P = sh.pops.length;
    sh.pops.forEach((pop, q) => {
      const T = (l: number) => part.popTotals[q * 4 + l]!;
      populationTotals ??= {};
      populationTotals[pop.name] = { rows: T(0) + T(1) + T(2) + T(3), humans: T(0), bots: T(1) };
      if (populationTotals[pop.name]!.rows === 0) warnings.push(`population "${pop.name}" matches no session in the ${window.name} window`);
      results.forEach((res, k) => {
        const H = (l: number) => part.popHits[(k * P + q) * 4 + l]!;
        res.populations ??= {};
        res.populations[pop.name] = segmentResult(T(0) + T(1) + T(2) + T(3), T(0), H(0), H(0) + H(1) + H(2) + H(3));
      });
    });
  }

  if (sh.train) {
    const tBots = sum((d) => G(1, d, 1));
    const tHumans = sum((d) => G(1, d, 0));
    results.forEach((res, k) => {
      const tp = sum((d) => RG(k, 1, d, 1));
      const fp = sum((d) => RG(k, 1, d, 0));
      res.train = {
        counts: { tp, fp, tn: tHumans - fp, fn: tBots - tp, unlabeled_hits: sum((d) => RG(k, 1, d, 2)) },
        recall: tBots ? tp / tBots : null,
        fpr: tHumans ? fp / tHumans : null,
      };
      if (res.daily) res.daily.series = [...series(k, 1, sh.train!.name), ...res.daily.series];
    });
  }

  let set: BacktestResult['set'];
  if (sh.overlap) {
    const totals = { bots, humans, rows };
    const setMetrics = (ids: string[], t: ArrayLike<number>): SetMetrics => {
      const counts: Counts = { tp: t[0]!, fp: t[1]!, tn: humans - t[1]!, fn: bots - t[0]!, unlabeled_hits: t[2]! };
      return { ids, counts, ...metrics(counts, rows) };
    };
    const J = plan.judged.reduce((a, b) => a + b, 0);
    const hits = results.map((_, k) => sum((d) => RG(k, 0, d, 0) + RG(k, 0, d, 1) + RG(k, 0, d, 2) + RG(k, 0, d, 3)));
    results.forEach((res, i) => {
      res.incremental_recall = bots > 0 ? part.incremental[i]! / bots : null;
      res.overlap = [];
      const inc = [part.outside[i * 3]!, part.outside[i * 3 + 1]!, part.outside[i * 3 + 2]!];
      const base = part.base;
      const withT = plan.deployed[i] ? [base[0]!, base[1]!, base[2]!] : [base[0]! + inc[0]!, base[1]! + inc[1]!, base[2]! + inc[2]!];
      const w = setMetrics([], withT);
      let share = 0;
      for (let m = 1; m <= J; m++) share += part.fpShare[i * (J + 1) + m]! / m;
      res.set = {
        incremental_tp: inc[0]!,
        incremental_fp: inc[1]!,
        incremental_recall: ratio(inc[0]!, totals.bots),
        incremental_fpr: ratio(inc[1]!, totals.humans),
        fp_share: share,
        with: { counts: w.counts, fpr: w.fpr, fpr_upper95: w.fpr_upper95, recall: w.recall },
      };
    });
    for (let a = 0; a < K; a++) {
      for (let b = a + 1; b < K; b++) {
        const n = part.inter[a * K + b]!;
        if (n === 0) continue;
        const j = n / (hits[a]! + hits[b]! - n);
        results[a]!.overlap!.push({ id: rules[b]!.id, jaccard: j });
        results[b]!.overlap!.push({ id: rules[a]!.id, jaccard: j });
      }
    }
    for (const r of results) r.overlap!.sort((x, y) => y.jaccard - x.jaccard);
    set = {
      deployed: setMetrics(
        rules.filter((r) => r.deployed).map((r) => r.id),
        part.base,
      ),
      judged: setMetrics(
        rules.filter((r) => r.deployed || r.extra).map((r) => r.id),
        part.all,
      ),
    };
    if (!opts.set) {
      set = undefined;
      for (const r of results) delete r.set;
    }
  }
  return { window, rows, bots, humans, unlabeled, rules: results, ...(populationTotals ? { populations: populationTotals } : {}), ...(set ? { set } : {}) };
}
