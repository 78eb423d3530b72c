/**
 * `rulegen backtest`: the given targets on a window, with breakdowns, gate findings and
 * variations, and the evidence block of each result. Which rules (the workspace's files,
 * arguments) and writing the evidence back are src/rules/'s.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compileBound } from '../compile/compile.js';
import { requireColumns, resolveEngineWindow } from '../engine/window.js';
import type { Engine } from '../engine/types.js';
import { InputError } from '../errors.js';
import { quoteIdent, type Store } from '../db/store.js';
import type { Rule } from '../rule/file.js';
import type { Expr } from '../rule/ast.js';
import { reviewTrail } from '../review/trail.js';
import type { BacktestResult, RuleResult } from './engine.js';
import type { Evaluator } from './engine-types.js';
import type { KernelRule } from './kernel/index.js';
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
import { evaluateRules } from './evaluate.js';
import { variations, type Variation } from './variations-run.js';
import { resolveGate } from '../config/schema.js';
import { resolveWindow, type WindowName } from '../db/window.js';
import type { OnProgress } from '../progress.js';

// moved out of this file; re-exported for the importers of run.js
export { evaluateRules, watchEvaluations, type EvaluateOptions, type Evaluation } from './evaluate.js';
export { evidenceBlock } from './evidence-block.js';
export type { Variation } from './variations-run.js';

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
