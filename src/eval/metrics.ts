/**
 * What eval measures for one case and one provider/model, and which way each metric is better.
 * The rules are the provider's valid candidates; the gate is the case's, applied on the test
 * window as approve applies it (per rule, judged on labels). The set, its FPR and the
 * per-population figures are judged against ground truth where the case has it (labels
 * otherwise): a rule that fits noisy labels well but real bots badly shows here.
 */
import { applyGate } from '../backtest/gate.js';
import { backtestTargets, type Target } from '../backtest/run.js';
import { conditionTarget } from '../rules/targets.js';
import { wilson } from '../backtest/stats.js';
import { resolveWindow, sqlTimestamp } from '../db/window.js';
import type { Catalog } from '../catalog/schema.js';
import { compilePredicate } from '../compile/compile.js';
import type { Config } from '../config/schema.js';
import { quoteIdent, type Param, type Store } from '../db/store.js';
import { parse } from '../rule/parser.js';
import type { Truth } from './data.js';

/** `higher`/`lower`: which way is better (compared with a baseline); `info`: shown, never compared. */
export type Direction = 'higher' | 'lower' | 'info';

export const METRICS = {
  rules: { direction: 'info', label: 'rules', what: 'valid rules proposed' },
  valid_rate: { direction: 'higher', label: 'valid', what: 'share of proposed rules that parse and check' },
  repair_rounds: { direction: 'lower', label: 'repairs', what: 'repair turns the model needed' },
  passing: { direction: 'higher', label: 'pass gate', what: 'rules passing the gate on the test window' },
  best_recall: { direction: 'higher', label: 'best recall', what: 'recall of the best rule passing the gate (labels, test window)' },
  set_recall: { direction: 'higher', label: 'set recall', what: 'recall of the union of passing rules (ground truth, test window)' },
  set_fpr: { direction: 'lower', label: 'set FPR', what: 'FPR of the union of passing rules (ground truth, test window)' },
  set_fpr_upper95: { direction: 'lower', label: 'FPR ub95', what: 'upper 95% Wilson bound of set_fpr' },
  drift_survival: { direction: 'higher', label: 'drift surv.', what: 'set recall after the drift day / before it' },
  duplicates: { direction: 'lower', label: 'dups', what: 'pairs of proposed rules whose hit sets overlap at or above gate.max_jaccard' },
  input_tokens: { direction: 'lower', label: 'tok in', what: 'model input tokens (cache reads and writes included)' },
  output_tokens: { direction: 'lower', label: 'tok out', what: 'model output tokens' },
  cost_usd: { direction: 'lower', label: 'cost', what: 'cost at src/llm/prices.json' },
  latency_ms: { direction: 'info', label: 'latency', what: 'wall time of the propose step (recorded latency for replay)' },
} as const satisfies Record<string, { direction: Direction; label: string; what: string }>;

export type MetricName = keyof typeof METRICS;
export type Metrics = Record<MetricName, number | null>;

export interface PopulationFigure {
  population: string;
  truth: 'bot' | 'human';
  /** Sessions of the population in the test window. */
  sessions: number;
  /** Hit by the passing set: recall for a bot population, FPR for a human one. */
  rate: number | null;
}

export interface RuleFigure {
  condition: string;
  pass: boolean;
  recall: number | null;
  precision: number | null;
  fpr_upper95: number | null;
  reasons: string[];
}

export interface Measured {
  metrics: Pick<Metrics, 'passing' | 'best_recall' | 'set_recall' | 'set_fpr' | 'set_fpr_upper95' | 'drift_survival' | 'duplicates'>;
  populations: PopulationFigure[];
  rules: RuleFigure[];
  judged_on: 'truth' | 'labels';
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
const ratio = (k: number, n: number): number | null => (n > 0 ? k / n : null);

/**
 * Measure valid rule `conditions` on the test window: per-rule gate, the passing set against
 * truth, per-population rates, drift survival (split at `drift`), duplicates. Two scans.
 */
export async function measure(
  store: Store,
  config: Config,
  catalog: Catalog,
  conditions: readonly string[],
  truth: Truth | null,
  drift: Date | null,
): Promise<Measured> {
  const judged_on = truth ? 'truth' : 'labels';
  const targets: Target[] = conditions.map((c, i) => conditionTarget(`r${i}`, c, 'candidate', c, parse(c)));
  const run = targets.length ? await backtestTargets(store, config, catalog, targets, { window: 'test', coreOnly: true }) : undefined;
  const rules: RuleFigure[] = targets.map((t, i) => {
    const r = run!.rules[i]!;
    const v = applyGate(r, config.gate);
    return { condition: t.condition, pass: v.pass, recall: r.recall, precision: r.precision, fpr_upper95: r.fpr_upper95, reasons: v.reasons };
  });
  const passing = rules.filter((r) => r.pass);
  const best = passing.reduce<number | null>((m, r) => (r.recall !== null && (m === null || r.recall > m) ? r.recall : m), null);

  const window = await resolveWindow(store, config, 'test');
  const table = quoteIdent(config.data.table);
  const preds = targets.map((t) => compilePredicate(t.ast, catalog));
  /** 1 when any of rules `idx` fires, with its parameters. */
  const anyOf = (idx: readonly number[]): { sql: string; parameters: Param[] } =>
    idx.length
      ? { sql: `(CASE WHEN ${idx.map((i) => `(${preds[i]!.sql})`).join(' OR ')} THEN 1 ELSE 0 END)`, parameters: idx.flatMap((i) => [...preds[i]!.parameters]) }
      : { sql: '0', parameters: [] };
  const passIdx = rules.flatMap((r, i) => (r.pass ? [i] : []));
  const set = anyOf(passIdx);
  // the population of a row: its truth value, or its label when there is no truth
  const label = quoteIdent(config.data.label);
  const group = truth ? `CAST(${quoteIdent(truth.column)} AS VARCHAR)` : `CASE ${label} WHEN 1 THEN 'bot' WHEN 0 THEN 'human' END`;
  const bots = new Set(truth ? truth.bots : ['bot']);
  const humans = new Set(truth ? truth.humans : ['human']);

  const groups = await store.all<{ g: string | null; n: number; hit: number }>(
    `SELECT ${group} AS g, count(*) AS n, sum(${set.sql}) AS hit FROM ${table} WHERE ${window.where} GROUP BY 1 ORDER BY 1`,
    [...set.parameters, ...window.parameters],
  );
  const populations: PopulationFigure[] = [];
  let bt = 0;
  let bh = 0;
  let ht = 0;
  let hh = 0;
  for (const r of groups) {
    if (r.g === null) continue;
    const n = num(r.n);
    const h = num(r.hit);
    if (bots.has(r.g)) {
      bt += n;
      bh += h;
      populations.push({ population: r.g, truth: 'bot', sessions: n, rate: ratio(h, n) });
    } else if (humans.has(r.g)) {
      ht += n;
      hh += h;
      populations.push({ population: r.g, truth: 'human', sessions: n, rate: ratio(h, n) });
    }
  }
  const set_fpr = ratio(hh, ht);

  // drift: judged inside the test window when the drift starts there, else over the whole span
  let drift_survival: number | null = null;
  if (drift) {
    const inTest = drift.getTime() > new Date(window.from).getTime() && drift.getTime() < new Date(window.to).getTime();
    const region = inTest ? { sql: window.where, parameters: [...window.parameters] } : { sql: 'TRUE', parameters: [] as Param[] };
    const botList = [...bots];
    const d = await store.all<{ after: boolean; n: number; hit: number }>(
      `SELECT (${quoteIdent(config.data.time)} >= ?::TIMESTAMP) AS after, count(*) AS n, sum(${set.sql}) AS hit FROM ${table} WHERE ` +
        `(${region.sql}) AND ${group} IN (${botList.map(() => '?').join(', ')}) GROUP BY 1`,
      [sqlTimestamp(drift), ...set.parameters, ...region.parameters, ...botList],
    );
    const before = d.find((r) => !r.after);
    const after = d.find((r) => r.after);
    const rb = before ? ratio(num(before.hit), num(before.n)) : null;
    const ra = after ? ratio(num(after.hit), num(after.n)) : null;
    drift_survival = rb && ra !== null ? ra / rb : null;
  }

  // duplicates: pairs of proposed rules whose hit sets (test window) overlap at max_jaccard or more
  let duplicates = 0;
  if (targets.length > 1) {
    const cols: string[] = [];
    const parameters: Param[] = [];
    targets.forEach((_, i) => {
      const a = anyOf([i]);
      cols.push(`sum(${a.sql}) AS a${i}`);
      parameters.push(...a.parameters);
    });
    for (let i = 0; i < targets.length; i++)
      for (let j = i + 1; j < targets.length; j++) {
        cols.push(`sum(CASE WHEN (${preds[i]!.sql}) AND (${preds[j]!.sql}) THEN 1 ELSE 0 END) AS b${i}_${j}`);
        parameters.push(...preds[i]!.parameters, ...preds[j]!.parameters);
      }
    const r = (await store.one<Record<string, number>>(`SELECT ${cols.join(', ')} FROM ${table} WHERE ${window.where}`, [
      ...parameters,
      ...window.parameters,
    ]))!;
    for (let i = 0; i < targets.length; i++)
      for (let j = i + 1; j < targets.length; j++) {
        const both = num(r[`b${i}_${j}`]);
        const union = num(r[`a${i}`]) + num(r[`a${j}`]) - both;
        if (union > 0 && both / union >= config.gate.max_jaccard) duplicates++;
      }
  }

  return {
    metrics: {
      passing: passing.length,
      best_recall: best,
      set_recall: ratio(bh, bt),
      set_fpr,
      set_fpr_upper95: ht > 0 ? wilson(hh, ht).upper : null,
      drift_survival,
      duplicates,
    },
    populations,
    rules,
    judged_on,
  };
}
