/**
 * Backtest targets from the workspace's rules: every place that measures rules builds them here,
 * so a target always carries its rule (action, rollout, review trail) and its file.
 */
import type { Problem } from '../errors.js';
import type { Expr } from '../rule/ast.js';
import type { Rule, RuleLoad } from '../rule/file.js';
import { print } from '../rule/printer.js';
import type { Target } from '../backtest/run.js';
import type { Workspace } from '../workspace.js';
import { loadWorkspaceRules } from './load.js';
import { resolveRuleArg } from './resolve.js';

/** A rule as a target; `status` and `id` may be overridden (a candidate judged under a new id). */
export function targetOf(rule: Rule, file?: string, over: { id?: string; status?: string } = {}): Target {
  return {
    id: over.id ?? rule.id,
    title: rule.title,
    status: over.status ?? rule.status,
    condition: rule.condition,
    ast: rule.ast,
    ...(file !== undefined ? { file } : {}),
    rule,
  };
}

/** A condition not (yet) in a file: an expression argument or a new candidate. */
export function conditionTarget(id: string, title: string, status: string, condition: string, ast: Expr): Target {
  return { id, title, status, condition, ast };
}

/** The targets of the valid loads with one of `statuses`. */
export function targetsOf(loads: readonly RuleLoad[], statuses: readonly string[]): Target[] {
  return loads.filter((l) => l.rule && statuses.includes(l.rule.status)).map((l) => targetOf(l.rule!, l.file));
}

/**
 * Every candidate and approved rule of the workspace (or those of `statuses`), with the problems
 * of files that failed to load. `loads` (loadWorkspaceRules(ws).all) saves reading the files again.
 */
export function workspaceRules(
  ws: Workspace,
  opts: { statuses?: readonly string[]; loads?: readonly RuleLoad[] } = {},
): { targets: Target[]; loads: RuleLoad[]; problems: Problem[] } {
  const statuses = opts.statuses ?? ['candidate', 'approved'];
  const loads = [...(opts.loads ?? loadWorkspaceRules(ws).all)];
  const problems = loads.flatMap((l) => l.problems);
  return { targets: targetsOf(loads, statuses), loads, problems };
}

/**
 * The workspace's rules that targets are judged against: approved (the deployed set), candidates
 * and rejected rules (duplicates). Pass as `context` to backtestTargets; rules already among the
 * targets are skipped there.
 */
export function workspaceContext(ws: Workspace, loads?: readonly RuleLoad[]): Target[] {
  return targetsOf(loads ?? loadWorkspaceRules(ws).all, ['approved', 'candidate', 'rejected']);
}

/** Resolve command-line arguments (rule files, ids or id prefixes, expressions); keeps going past bad ones. */
export function resolveTargets(
  ws: Workspace,
  args: readonly string[],
  cwd: string,
  loads: readonly RuleLoad[] = loadWorkspaceRules(ws).all,
): { targets: Target[]; problems: Problem[] } {
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
    if (r.kind === 'rule') targets.push(targetOf(r.rule, r.file));
    else {
      const condition = print(r.ast);
      targets.push(conditionTarget(`expr-${++exprCount}`, condition, 'expression', condition, r.ast));
    }
  }
  return { targets, problems };
}
