/**
 * `rulegen backtest`: the given targets on a window, with breakdowns, gate findings and
 * variations, and the evidence block of each result. Which rules (the workspace's files,
 * arguments) and writing the evidence back are src/rules/'s.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compileBound, compilePredicate } from '../compile/compile.js';
import { requireColumns, resolveEngineWindow } from '../engine/window.js';
import type { Engine } from '../engine/types.js';
import { InputError } from '../errors.js';
import { quoteIdent, type Store } from '../db/store.js';
import type { Evidence } from '../rule/evidence.js';
import type { Rule } from '../rule/file.js';
import type { Expr } from '../rule/ast.js';
import { reviewTrail } from '../review/trail.js';
import { runBacktest, type BacktestResult, type RuleResult } from './engine.js';
import type { Evaluator, EvaluatorName } from './engine-types.js';
import { KernelUnsupportedError, runKernelBacktest, type KernelOptions, type KernelRule } from './kernel/index.js';
import {
  applyCandidateSetGate,
  applySegmentGate,
  applySetGate,
  applyStabilityGate,
  findDuplicates,
  gatePower,
  powerMessage,
  topContributors,
  type Counterpart,
  type GatePower,
  type GateVerdict,
  type RuleFindings,
} from './gate.js';
import { compilePopulations, presentSegments, type Population } from './populations.js';
import { QUANTILES, thresholdsOf, variantsOf } from './variations.js';
import { resolveGate } from '../config/schema.js';
import { resolveWindow, type WindowName } from '../db/window.js';
import type { OnProgress } from '../progress.js';

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
  /** Workspace rules measured alongside the targets (the deployed set, duplicates): not reported as targets. */
  context?: { target: Target; result: RuleResult }[];
  /** The compiled populations of the config (name, where, protected). */
  population_specs?: { name: string; where: string; protected: boolean }[];
  /** Issue-12 findings per target id (set, segment, stability, duplicate; warnings; undetermined). */
  findings?: Record<string, RuleFindings>;
  /** Can a rule pass max_fpr at all on this window's humans? */
  power?: GatePower;
  /** The max_fpr `power` was judged against (for its message). */
  power_max_fpr?: number;
  /** The deployed set (approved block/challenge rules) on its own, with the rules that add most false positives. */
  set_gate?: GateVerdict & { top: { id: string; fp_share: number; incremental_fp: number }[] };
}

/** A rule reaches customers (counts in the deployed set) when approved with action block or challenge. */
export function isDeployed(t: Target): boolean {
  // a rule in shadow (staged rollout) is evaluated and logged, never acted on: customers do not feel it
  if (t.rule?.rollout?.stage === 'shadow') return false;
  return t.status === 'approved' && (t.rule?.action === 'block' || t.rule?.action === 'challenge');
}

function rejectionReason(t: Target): string | undefined {
  if (!t.rule) return undefined;
  const last = reviewTrail(t.rule)
    .filter((e) => e.decision === 'rejected')
    .at(-1);
  return last?.note?.trim() || undefined;
}

/** Earlier rules are the originals of look-alikes: by creation time, then id; expressions last. */
function orderKey(t: Target): string {
  // expressions and unsaved rules keep their command-line order (the sort is stable)
  if (!t.rule) return '~';
  const created = t.rule.provenance?.created;
  const at = created instanceof Date ? created.toISOString() : (created ?? '');
  return `${at} ${t.id}`;
}

export interface BacktestOptions {
  window: WindowName;
  /** Segment column to break FPR down by; default every configured segment present in the data. */
  by?: string;
  variations?: boolean;
  /** Skip the per-day, per-segment and overlap breakdowns (core counts only). */
  coreOnly?: boolean;
  onStep?: (m: string) => void;
  /** Workspace rules to judge against (workspaceContext(ws)): the deployed set and duplicates. */
  context?: readonly Target[];
  /** Ids of targets judged together with the deployed set (the candidates being approved). */
  extra?: readonly string[];
  /** rulegen.yaml, re-read to point population problems at file:line:column. */
  configFile?: string;
  /** Run on this engine (issue 18) instead of `store`; the run then carries `execution`. */
  engine?: Engine;
  /** Statements done, for a progress line. */
  onProgress?: OnProgress;
  /** Which evaluator on the embedded store (issue 13): the kernel, SQL, or `auto` (default: the kernel, SQL where it cannot run). */
  evaluator?: Evaluator;
}

/** How one backtest was evaluated: what a run record keeps of it. */
export interface Evaluation {
  engine: EvaluatorName;
  kernel?: { simd: boolean; workers: number };
  /** Why the kernel was not used (`auto` fell back to SQL). */
  fallback?: string;
}

const watchers = new Set<(e: Evaluation) => void>();

/**
 * Be told of every backtest evaluateRules makes from now on (the CLI's run record: which engine
 * made a command's backtests, however deep in the core they ran); returns the unsubscribe.
 */
export function watchEvaluations(fn: (e: Evaluation) => void): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}

/** File-system failures of the kernel's column cache (a read-only or vanished folder): the kernel then reads DuckDB directly. */
const CACHE_FS_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENOSPC', 'EDQUOT']);
const isCacheFsError = (e: unknown): boolean => e instanceof Error && CACHE_FS_ERRORS.has(String((e as NodeJS.ErrnoException).code));

export interface EvaluateOptions extends KernelOptions {
  evaluator?: Evaluator;
}

/**
 * Backtest `rules` on `window` (one pass) with the chosen evaluator; the result says which made
 * it (`engine`, and `kernel` or `kernel_fallback`). The kernel runs on the embedded store only:
 * an explicit engine other than DuckDB always takes the SQL path. With `auto`, a shape the kernel
 * cannot take (KernelUnsupportedError, thrown before any work) falls back to SQL quietly; with
 * `kernel` it is an input error (exit 2). A column cache that cannot be written or read (a
 * read-only workspace, a cache removed by another process meanwhile) costs the cache, not the run:
 * the kernel then reads DuckDB directly.
 */
export async function evaluateRules(
  store: Store,
  config: Config,
  catalog: Catalog,
  window: BacktestResult['window'],
  rules: readonly KernelRule[],
  opts: EvaluateOptions = {},
): Promise<BacktestResult> {
  const { evaluator = 'auto', workers, cache, verifyHash, simd, ...common } = opts;
  const tell = (r: BacktestResult): BacktestResult => {
    const e: Evaluation = {
      engine: r.engine ?? 'sql',
      ...(r.kernel ? { kernel: r.kernel } : {}),
      ...(r.kernel_fallback ? { fallback: r.kernel_fallback } : {}),
    };
    for (const w of watchers) w(e);
    return r;
  };
  const viaSql = async (fallback?: string) =>
    tell({ ...(await runBacktest(store, config, window, rules, common)), engine: 'sql', ...(fallback ? { kernel_fallback: fallback } : {}) });
  const remote = common.engine !== undefined && common.engine.kind !== 'duckdb';
  if (evaluator === 'sql' || remote) return viaSql();
  // `--engine duckdb` names the embedded store: the kernel reads it itself (progress: blocks counted, rows of a cache build)
  const { engine: _embedded, ...k } = common;
  const kopts: KernelOptions = {
    ...k,
    ...(workers !== undefined ? { workers } : {}),
    ...(cache !== undefined ? { cache } : {}),
    ...(verifyHash !== undefined ? { verifyHash } : {}),
    ...(simd !== undefined ? { simd } : {}),
  };
  try {
    try {
      return tell(await runKernelBacktest(store, config, catalog, window, rules, kopts));
    } catch (e) {
      if (!isCacheFsError(e) || kopts.cache === false) throw e;
      return tell(await runKernelBacktest(store, config, catalog, window, rules, { ...kopts, cache: false }));
    }
  } catch (e) {
    if (!(e instanceof KernelUnsupportedError)) throw e;
    if (evaluator === 'kernel')
      throw InputError.single({
        message: `the kernel cannot run this backtest: ${e.message}`,
        where: { field: '--engine' },
        expected: 'a TIMESTAMP time column, a window split on it, rules of the condition language; or --engine sql',
        found: '--engine kernel',
      });
    return viaSql(e.message);
  }
}

export async function backtestTargets(store: Store, config: Config, catalog: Catalog, targets: readonly Target[], opts: BacktestOptions): Promise<BacktestRun> {
  const engine = opts.engine;
  if (opts.variations && engine && engine.kind !== 'duckdb')
    throw InputError.single({
      message: `--variations runs on the embedded engine only`,
      where: { field: '--variations' },
      expected: '--engine duckdb, or no --variations',
      found: `--engine ${engine.kind}`,
    });
  const window = engine ? await resolveEngineWindow(engine, config, opts.window) : await resolveWindow(store, config, opts.window);
  const columns = new Set(
    engine
      ? (await requireColumns(engine, config)).map((c) => c.name)
      : (await store.describe(`SELECT * FROM ${quoteIdent(config.data.table)}`)).map((c) => c.name),
  );
  const present = presentSegments(config, columns);
  if (opts.by && !columns.has(opts.by)) {
    throw InputError.single({
      message: `no segment column "${opts.by}" in the ${config.data.table} table`,
      where: { field: '--by' },
      expected: `one of ${present.columns.join(', ') || 'the configured segments'}`,
      found: opts.by,
    });
  }
  const segments = opts.by ? [opts.by] : present.columns;
  const dialect = engine?.dialect ?? 'duckdb';
  const populations: Population[] = (opts.coreOnly ? [] : compilePopulations(config, catalog, opts.configFile).populations).map((p) =>
    dialect === 'duckdb' ? p : { ...p, predicate: compileBound(p.ast, catalog, dialect) },
  );
  const ids = new Set(targets.map((t) => t.id));
  const context = opts.coreOnly ? [] : (opts.context ?? []).filter((t) => !ids.has(t.id));
  const extra = new Set(opts.extra ?? []);
  const all = [...targets, ...context];
  const rules: KernelRule[] = all.map((t) => ({
    id: t.id,
    ast: t.ast,
    predicate: compileBound(t.ast, catalog, dialect),
    approved: t.status === 'approved',
    deployed: isDeployed(t),
    extra: extra.has(t.id),
  }));
  opts.onStep?.(
    `backtesting ${targets.length} rules${context.length ? ` (and ${context.length} workspace rules)` : ''} on the ${window.name} window ` +
      `(${window.rows.toLocaleString('en-US')} sessions)`,
  );
  const train =
    !opts.coreOnly && window.name === 'test'
      ? await (engine ? resolveEngineWindow(engine, config, 'train') : resolveWindow(store, config, 'train')).catch(() => undefined)
      : undefined;
  const on = {
    ...(engine ? { engine } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.evaluator ? { evaluator: opts.evaluator } : {}),
  };
  const result = await evaluateRules(
    store,
    config,
    catalog,
    window,
    rules,
    opts.coreOnly ? on : { daily: true, segments, overlap: true, set: true, populations, ...(train ? { train } : {}), ...on },
  );
  const run: BacktestRun = { ...result, rules: result.rules.slice(0, targets.length), targets: [...targets] };
  if (context.length) run.context = context.map((t, i) => ({ target: t, result: result.rules[targets.length + i]! }));
  if (!opts.coreOnly) judge(run, config, all, result.rules, present.protectedColumns, populations);
  if (opts.variations) {
    opts.onStep?.('threshold variations');
    run.variations = await variations(store, config, catalog, targets, window, opts.onProgress, opts.evaluator);
  }
  return run;
}

/** Attach power, the deployed set's verdict and every target's findings to the run. */
function judge(
  run: BacktestRun,
  config: Config,
  all: readonly Target[],
  results: readonly RuleResult[],
  protectedColumns: Set<string>,
  populations: readonly Population[],
): void {
  const gate = resolveGate(config.gate);
  run.power = gatePower(run.humans, gate.max_fpr);
  run.power_max_fpr = gate.max_fpr;
  if (!run.power.reachable && run.window.name === 'test') run.warnings.push(powerMessage(run.power, gate.max_fpr));
  run.population_specs = populations.map((p) => ({ name: p.name, where: p.where, protected: p.protected }));
  if (run.set) {
    const v = applySetGate(run.set.deployed, gate);
    run.set_gate = { ...v, top: topContributors(results, run.set.deployed.ids) };
  }
  const sorted = [...all].sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : orderKey(a) > orderKey(b) ? 1 : 0));
  const order = new Map(sorted.map((t, i) => [t.id, i]));
  const others = new Map<string, Counterpart>(
    all.map((t) => [t.id, { id: t.id, status: t.status, reason: t.status === 'rejected' ? rejectionReason(t) : undefined, order: order.get(t.id)! }]),
  );
  const protection = { columns: protectedColumns, populations: new Set(populations.filter((p) => p.protected).map((p) => p.name)) };
  run.findings = {};
  run.targets.forEach((t, i) => {
    const r = run.rules[i]!;
    const seg = applySegmentGate(r, gate, protection);
    const candidate = t.status === 'candidate' || t.status === 'expression';
    run.findings![t.id] = {
      // a log rule is a shadow rule: it never joins the set customers feel
      set: candidate && t.rule?.action !== 'log' ? applyCandidateSetGate(r, gate).reasons : [],
      segment: seg.reasons,
      stability: applyStabilityGate(r, gate).reasons,
      duplicate: candidate ? findDuplicates(r, { order: order.get(t.id)! }, others, gate).map((d) => d.message) : [],
      warnings: seg.warnings,
      undetermined: seg.undetermined,
    };
  });
}

/**
 * For propose: drop candidates that behave like another rule (hit-set Jaccard >= max_jaccard
 * with an approved, candidate or rejected rule, or with an earlier new candidate). `run` must
 * come from backtestTargets with `context: workspaceContext(ws)` and the new candidates as targets.
 */
export function dropDuplicates(run: BacktestRun): { keep: Target[]; dropped: { target: Target; reasons: string[] }[] } {
  const keep: Target[] = [];
  const dropped: { target: Target; reasons: string[] }[] = [];
  for (const t of run.targets) {
    const reasons = run.findings?.[t.id]?.duplicate ?? [];
    if (reasons.length) dropped.push({ target: t, reasons });
    else keep.push(t);
  }
  return { keep, dropped };
}

async function variations(
  store: Store,
  config: Config,
  catalog: Catalog,
  targets: readonly Target[],
  window: BacktestResult['window'],
  onProgress?: OnProgress,
  evaluator?: Evaluator,
): Promise<Record<string, Variation[]>> {
  const perRule = targets.map((t) => ({ t, features: new Set<string>() }));
  for (const p of perRule) for (const th of thresholdsOf(p.t.ast, catalog)) p.features.add(th.feature);
  const features = [...new Set(perRule.flatMap((p) => [...p.features]))];
  const out: Record<string, Variation[]> = {};
  if (features.length === 0) return out;
  // one scan for the quantiles of every feature involved (exact: the evidence must be reproducible)
  const qs = `[${QUANTILES.join(', ')}]`;
  const row = (await store.one<Record<string, number[] | null>>(
    `SELECT ${features.map((f, i) => `quantile_cont(${quoteIdent(f)}, ${qs}) AS q${i}`).join(', ')} FROM ${quoteIdent(config.data.table)} ` +
      `WHERE ${window.where}`,
    window.parameters,
  ))!;
  const quantiles = new Map(features.map((f, i) => [f, (row[`q${i}`] ?? []).map(Number)]));
  const variants = targets.map((t) => variantsOf(t.ast, catalog, quantiles));
  const flat = variants.flatMap((vs, ti) => vs.map((v, vi) => ({ id: `${ti}:${vi}`, ast: v.ast, predicate: compilePredicate(v.ast, catalog) })));
  // one more scan for every variant of every rule (core counts only)
  const r = await evaluateRules(store, config, catalog, window, flat, { ...(onProgress ? { onProgress } : {}), ...(evaluator ? { evaluator } : {}) });
  targets.forEach((t, ti) => {
    out[t.id] = variants[ti]!.map((v, vi) => {
      const res = r.rules.find((x) => x.id === `${ti}:${vi}`)!;
      return {
        feature: v.threshold.feature,
        op: v.threshold.op,
        value: v.value,
        current: v.value === v.threshold.value,
        condition: v.condition,
        recall: res.recall,
        fpr: res.fpr,
        fpr_upper95: res.fpr_upper95,
        precision: res.precision,
      };
    });
  });
  return out;
}

const round = (x: number | null | undefined, digits = 6): number | null => (x === null || x === undefined ? null : Number(x.toPrecision(digits)));

/** The `backtest:` block of DESIGN.md for one rule's result. */
export function evidenceBlock(run: BacktestRun, r: RuleResult): Evidence {
  const block: Evidence = {
    as_of: new Date().toISOString(),
    data: { rows: run.rows, from: run.window.from, to: run.window.to, window: run.window.name },
    ...(run.engine ? { engine: run.engine } : {}),
    counts: { ...r.counts },
    precision: round(r.precision),
    precision_lower95: round(r.precision_lower95),
    recall: round(r.recall),
    fpr: round(r.fpr),
    fpr_upper95: round(r.fpr_upper95),
    hit_rate: round(r.hit_rate),
  };
  if (r.train) block.train = { counts: { ...r.train.counts }, recall: round(r.train.recall), fpr: round(r.train.fpr) };
  if (r.daily) {
    // `days` and `worst_*` are the judged window's; the series runs across the split, marked per point
    const series = r.daily.series.map((p) => ({
      day: p.day,
      window: p.window,
      hits: p.hits,
      tp: p.tp,
      fp: p.fp,
      recall: round(p.recall, 4),
      fpr: round(p.fpr, 4),
    }));
    block.daily = {
      worst_fpr: round(r.daily.worst_fpr),
      worst_day: r.daily.worst_day,
      days: r.daily.days,
      ...(run.window.name === 'test' ? { split: run.window.cutoff } : {}),
      series,
    };
  }
  if (r.segments)
    block.segments = Object.fromEntries(
      Object.entries(r.segments).map(([k, s]) => [
        k,
        { fpr: round(s.fpr), fpr_upper95: round(s.fpr_upper95), fpr_lower95: round(s.fpr_lower95), humans: s.humans, hits: s.hits },
      ]),
    );
  if (r.populations) {
    const spec = new Map((run.population_specs ?? []).map((p) => [p.name, p]));
    block.populations = Object.fromEntries(
      Object.entries(r.populations).map(([k, s]) => [
        k,
        {
          protected: spec.get(k)?.protected ?? false,
          fpr: round(s.fpr),
          fpr_upper95: round(s.fpr_upper95),
          fpr_lower95: round(s.fpr_lower95),
          humans: s.humans,
          fp: s.fp,
          hits: s.hits,
        },
      ]),
    );
  }
  if (r.incremental_recall !== undefined) block.incremental_recall = round(r.incremental_recall);
  if (r.set && run.set) {
    block.set = {
      deployed_rules: run.set.deployed.ids.length,
      incremental_fp: r.set.incremental_fp,
      incremental_fpr: round(r.set.incremental_fpr),
      incremental_tp: r.set.incremental_tp,
      incremental_recall: round(r.set.incremental_recall),
      fp_share: round(r.set.fp_share, 4),
      with_rule: { fp: r.set.with.counts.fp, fpr: round(r.set.with.fpr), fpr_upper95: round(r.set.with.fpr_upper95), recall: round(r.set.with.recall) },
    };
  }
  const f = run.findings?.[r.id];
  if (f) {
    const gate: NonNullable<Evidence['gate']> = {};
    for (const k of ['set', 'segment', 'stability', 'duplicate', 'warnings', 'undetermined'] as const) if (f[k].length) gate[k] = f[k];
    if (run.power && !run.power.reachable) gate['power'] = powerMessage(run.power, run.power_max_fpr ?? 0);
    if (Object.keys(gate).length) block.gate = gate;
  }
  if (r.overlap)
    block.overlap = r.overlap
      .filter((o) => o.jaccard >= 0.05)
      .slice(0, 5)
      .map((o) => ({ id: o.id, jaccard: Number(o.jaccard.toPrecision(4)) }));
  const v = run.variations?.[r.id];
  if (v)
    block.variations = v.map((x) => ({
      feature: x.feature,
      op: x.op,
      value: x.value,
      recall: round(x.recall),
      fpr: round(x.fpr),
      fpr_upper95: round(x.fpr_upper95),
      precision: round(x.precision),
    }));
  return block;
}
