/** `rulegen deprecate`: an approved rule is retired in place; its approval stays in the trail. */
import { basename } from 'node:path';
import type { Store } from '../db/store.js';
import type { Problem } from '../errors.js';
import { loadWorkspaceRules } from '../rules/load.js';
import { matchRules as matching } from '../rules/resolve.js';
import type { Workspace } from '../workspace.js';
import { decidedBy, fail, problem, requireText, type DecisionOptions, type DecisionResult, type Decided } from './decision.js';
import { applyPrepared, planInPlace, prepareCommit, recovered, type Planned, type Prepared } from './commit.js';

export interface DeprecateOptions extends DecisionOptions {
  id: string;
  reason: string;
  reviewer: string;
}

/** `rulegen deprecate`: the rule stays in rules/ with status deprecated; its approval stays in the trail. */
export async function deprecate(ws: Workspace, store: Store | null, opts: DeprecateOptions): Promise<DecisionResult<Decided>> {
  return applyPrepared(ws, await prepareDeprecate(ws, store, opts));
}

/** `deprecate` up to (not including) writing: what the crash tests apply with faults injected. */
export async function prepareDeprecate(ws: Workspace, store: Store | null, opts: DeprecateOptions): Promise<Prepared<Decided>> {
  const now = opts.now ?? new Date();
  const recoveryNotes = recovered(ws);
  const reason = requireText(opts.reason, '--reason', 'why the rule is retired (recorded in the file)');
  const reviewer = requireText(opts.reviewer, '--reviewer', 'who retires the rule');
  const { rules: rulesLoads, candidates: candLoads } = loadWorkspaceRules(ws);
  const hits = matching(opts.id, rulesLoads);
  const problems: Problem[] = [];
  if (hits.length > 1)
    problems.push(problem(`"${opts.id}" matches several rules`, 'ID', 'a unique id or prefix', hits.map((h) => h.id ?? basename(h.file)).join(', ')));
  else if (hits.length === 0) {
    const cand = matching(opts.id, candLoads)[0];
    if (cand)
      problems.push(
        problem(
          `${cand.id ?? opts.id} is a candidate, not an approved rule`,
          opts.id,
          `an approved rule in ${ws.paths.rules} (a candidate is turned down with \`rulegen reject\`)`,
          `a candidate in ${cand.file}`,
          cand.file,
          cand.id,
        ),
      );
    else
      problems.push(
        problem(`unknown rule id "${opts.id}"`, opts.id, `the id (or a unique 8+ character prefix) of an approved rule in ${ws.paths.rules}`, opts.id),
      );
  } else {
    const load = hits[0]!;
    if (!load.rule)
      problems.push(
        problem(
          `cannot deprecate ${load.id ?? opts.id}: its file is not a valid rule`,
          opts.id,
          'a rule file that `rulegen lint` accepts',
          'errors below',
          load.file,
          load.id,
        ),
        ...load.problems.filter((p) => p.severity === 'error'),
      );
    else if (load.rule.status === 'deprecated')
      problems.push(
        problem(`rule ${load.rule.id} is already deprecated${decidedBy(load.rule)}`, opts.id, 'an approved rule', 'status deprecated', load.file, load.rule.id),
      );
    else if (load.rule.status !== 'approved')
      problems.push(
        problem(
          `cannot deprecate ${load.rule.id}: status ${load.rule.status}`,
          opts.id,
          'an approved rule',
          `status ${load.rule.status}`,
          load.file,
          load.rule.id,
        ),
      );
  }
  if (problems.length) fail('deprecate', problems);
  const load = hits[0]!;
  const rule = load.rule!;
  const plan: Planned[] = [planInPlace(ws, { load, rule }, 'deprecated', { reviewer, at: now, note: reason })];
  const { journal, docs } = await prepareCommit(ws, store, 'deprecate', plan, { ...opts, now });
  return { journal, result: { decisions: [{ id: rule.id, title: rule.title, file: load.file }], docs, notes: recoveryNotes } };
}
