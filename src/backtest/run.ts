/**
 * `rulegen backtest`: which rules, on which window, with which breakdowns — and the evidence
 * written back into each rule file's `backtest:` block.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, type Document } from 'yaml';
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { InputError, type Problem } from '../errors.js';
import { quoteIdent, type Store } from '../db/store.js';
import { writeFileAtomic } from '../fsutil.js';
import { resolveRuleArg } from '../rule/resolve.js';
import { print } from '../rule/printer.js';
import { loadRuleDir, type Rule, type RuleLoad } from '../rule/file.js';
import type { Expr } from '../rule/ast.js';
import type { Workspace } from '../workspace.js';
import { runBacktest, type BacktestResult, type EngineRule, type RuleResult } from './engine.js';
import { QUANTILES, thresholdsOf, variantsOf } from './variations.js';
import { resolveWindow, type WindowName } from './window.js';

/** A rule to backtest: from a file (with its path) or an ad-hoc expression. */
export interface Target {
  id: string;
  title: string;
  status: string;
  condition: string;
  ast: Expr;
  file?: string;
  rule?: Rule;
}

export interface Variation {
  feature: string;
  op: string;
  value: number;
  current: boolean;
  condition: string;
  recall: number | null;
  fpr: number | null;
  fpr_upper95: number | null;
  precision: number | null;
}

export interface BacktestRun extends BacktestResult {
  targets: Target[];
  variations?: Record<string, Variation[]>;
}

/** Every candidate and approved rule of the workspace, with the problems of files that failed to load. */
export function workspaceRules(ws: Workspace, opts: { statuses?: readonly string[] } = {}): { targets: Target[]; loads: RuleLoad[]; problems: Problem[] } {
  const statuses = opts.statuses ?? ['candidate', 'approved'];
  const loads = [...loadRuleDir(ws.paths.rules, ws.catalog), ...loadRuleDir(ws.paths.candidates, ws.catalog)];
  const problems = loads.flatMap((l) => l.problems);
  const targets = loads.filter((l) => l.rule && statuses.includes(l.rule.status)).map((l) => fromRule(l.rule!, l.file));
  return { targets, loads, problems };
}

function fromRule(rule: Rule, file: string): Target {
  return { id: rule.id, title: rule.title, status: rule.status, condition: rule.condition, ast: rule.ast, file, rule };
}

/** Resolve command-line arguments (rule files, ids or id prefixes, expressions); keeps going past bad ones. */
export function resolveTargets(ws: Workspace, args: readonly string[], cwd: string): { targets: Target[]; problems: Problem[] } {
  const loads = [...loadRuleDir(ws.paths.rules, ws.catalog), ...loadRuleDir(ws.paths.candidates, ws.catalog)];
  const targets: Target[] = [];
  const problems: Problem[] = [];
  let exprCount = 0;
  for (const arg of args) {
    const r = resolveRuleArg(arg, ws, cwd, loads);
    if (r.kind === 'error') {
      problems.push(...r.problems);
      continue;
    }
    problems.push(...r.warnings);
    if (r.kind === 'rule') targets.push(fromRule(r.rule, r.file));
    else {
      const condition = print(r.ast);
      targets.push({ id: `expr-${++exprCount}`, title: condition, status: 'expression', condition, ast: r.ast });
    }
  }
  return { targets, problems };
}

export interface BacktestOptions {
  window: WindowName;
  /** Segment column to break FPR down by; default every configured segment present in the data. */
  by?: string;
  variations?: boolean;
  /** Skip the per-day, per-segment and overlap breakdowns (core counts only). */
  coreOnly?: boolean;
  onStep?: (m: string) => void;
}

export async function backtestTargets(store: Store, config: Config, catalog: Catalog, targets: readonly Target[], opts: BacktestOptions): Promise<BacktestRun> {
  const window = await resolveWindow(store, config, opts.window);
  const columns = new Set((await store.describe(`SELECT * FROM ${quoteIdent(config.data.table)}`)).map((c) => c.name));
  if (opts.by && !columns.has(opts.by)) {
    throw InputError.single({ message: `no segment column "${opts.by}" in the ${config.data.table} table`, where: { field: '--by' }, expected: `one of ${config.data.segments.filter((s) => columns.has(s)).join(', ') || 'the configured segments'}`, found: opts.by });
  }
  const segments = opts.by ? [opts.by] : config.data.segments.filter((s) => columns.has(s));
  const rules: EngineRule[] = targets.map((t) => ({ id: t.id, predicate: compilePredicate(t.ast, catalog), approved: t.status === 'approved' }));
  opts.onStep?.(`backtesting ${rules.length} rules on the ${window.name} window (${window.rows.toLocaleString('en-US')} sessions)`);
  const result = await runBacktest(store, config, window, rules, opts.coreOnly ? {} : { daily: true, segments, overlap: true });
  const run: BacktestRun = { ...result, targets: [...targets] };
  if (opts.variations) {
    opts.onStep?.('threshold variations');
    run.variations = await variations(store, config, catalog, targets, window);
  }
  return run;
}

async function variations(store: Store, config: Config, catalog: Catalog, targets: readonly Target[], window: BacktestResult['window']): Promise<Record<string, Variation[]>> {
  const perRule = targets.map((t) => ({ t, features: new Set<string>() }));
  for (const p of perRule) for (const th of thresholdsOf(p.t.ast, catalog)) p.features.add(th.feature);
  const features = [...new Set(perRule.flatMap((p) => [...p.features]))];
  const out: Record<string, Variation[]> = {};
  if (features.length === 0) return out;
  // one scan for the quantiles of every feature involved (exact: the evidence must be reproducible)
  const qs = `[${QUANTILES.join(', ')}]`;
  const row = (await store.one<Record<string, number[] | null>>(`SELECT ${features.map((f, i) => `quantile_cont(${quoteIdent(f)}, ${qs}) AS q${i}`).join(', ')} FROM ${quoteIdent(config.data.table)} WHERE ${window.where}`, window.parameters))!;
  const quantiles = new Map(features.map((f, i) => [f, (row[`q${i}`] ?? []).map(Number)]));
  const variants = targets.map((t) => variantsOf(t.ast, catalog, quantiles));
  const flat = variants.flatMap((vs, ti) => vs.map((v, vi) => ({ id: `${ti}:${vi}`, predicate: compilePredicate(v.ast, catalog) })));
  // one more scan for every variant of every rule (core counts only)
  const r = await runBacktest(store, config, window, flat);
  targets.forEach((t, ti) => {
    out[t.id] = variants[ti]!.map((v, vi) => {
      const res = r.rules.find((x) => x.id === `${ti}:${vi}`)!;
      return { feature: v.threshold.feature, op: v.threshold.op, value: v.value, current: v.value === v.threshold.value, condition: v.condition, recall: res.recall, fpr: res.fpr, fpr_upper95: res.fpr_upper95, precision: res.precision };
    });
  });
  return out;
}

const round = (x: number | null | undefined, digits = 6): number | null => (x === null || x === undefined ? null : Number(x.toPrecision(digits)));

/** The `backtest:` block of DESIGN.md for one rule's result. */
export function evidenceBlock(run: BacktestRun, r: RuleResult): Record<string, unknown> {
  const block: Record<string, unknown> = {
    as_of: new Date().toISOString(),
    data: { rows: run.rows, from: run.window.from, to: run.window.to, window: run.window.name },
    counts: r.counts,
    precision: round(r.precision),
    precision_lower95: round(r.precision_lower95),
    recall: round(r.recall),
    fpr: round(r.fpr),
    fpr_upper95: round(r.fpr_upper95),
    hit_rate: round(r.hit_rate),
  };
  if (r.daily) block['daily'] = { worst_fpr: round(r.daily.worst_fpr), worst_day: r.daily.worst_day, days: r.daily.days };
  if (r.segments) block['segments'] = Object.fromEntries(Object.entries(r.segments).map(([k, s]) => [k, { fpr: round(s.fpr), fpr_upper95: round(s.fpr_upper95), hits: s.hits }]));
  if (r.incremental_recall !== undefined) block['incremental_recall'] = round(r.incremental_recall);
  if (r.overlap) block['overlap'] = r.overlap.filter((o) => o.jaccard >= 0.05).slice(0, 5).map((o) => ({ id: o.id, jaccard: round(o.jaccard, 4) }));
  const v = run.variations?.[r.id];
  if (v) block['variations'] = v.map((x) => ({ feature: x.feature, op: x.op, value: x.value, recall: round(x.recall), fpr: round(x.fpr), fpr_upper95: round(x.fpr_upper95), precision: round(x.precision) }));
  return block;
}

/**
 * Write each rule's evidence into its file, keeping the rest of the file (comments, order) as
 * it is. Approved rules are only rewritten when `updateApproved` is set.
 */
export function writeEvidence(run: BacktestRun, updateApproved: boolean): { written: string[]; skipped: string[] } {
  const written: string[] = [];
  const skipped: string[] = [];
  run.targets.forEach((t, i) => {
    if (!t.file) return;
    if (t.status === 'approved' && !updateApproved) {
      skipped.push(t.file);
      return;
    }
    const doc: Document = parseDocument(readFileSync(t.file, 'utf8'));
    doc.set('backtest', doc.createNode(evidenceBlock(run, run.rules[i]!)));
    writeFileAtomic(t.file, doc.toString({ lineWidth: 100 }));
    written.push(t.file);
  });
  return { written, skipped };
}
