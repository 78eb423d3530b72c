/** What the export targets take: approved rules with their rollout stage, from the workspace or a bundle. */
import type { Expr } from '../rule/ast.js';
import type { Action, Stage } from '../release/schema.js';
import { effectiveAction } from '../runtime/evaluator.js';
import { InputError } from '../errors.js';
import { stageOf } from '../release/build.js';
import { loadRuleDir } from '../rules/load.js';
import type { Workspace } from '../workspace.js';

/** One rule to export; `effective` is the action at its stage (null: shadow, evaluated but not acted on). */
export interface ExportRule {
  readonly id: string;
  readonly title: string;
  readonly action: Action;
  readonly stage: Stage;
  readonly ast: Expr;
}

export function effectiveOf(r: ExportRule): Action | null {
  return effectiveAction(r.action, r.stage);
}

/** The workspace's approved rules, in id order; an invalid rule file stops the export (exit 2) naming every problem. */
export function workspaceExportRules(ws: Workspace): ExportRule[] {
  const loads = loadRuleDir(ws.paths.rules, ws.catalog);
  const bad = loads.filter((l) => !l.rule);
  if (bad.length)
    throw new InputError(
      `${bad.length} invalid rule file${bad.length === 1 ? '' : 's'}`,
      bad.flatMap((l) => l.problems.filter((p) => p.severity === 'error')),
    );
  return loads
    .map((l) => l.rule!)
    .filter((r) => r.status === 'approved')
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => ({ id: r.id, title: r.title, action: r.action, stage: stageOf(r), ast: r.ast }));
}
