/**
 * `rulegen reject`: a candidate stays in candidates/ with status rejected and the reason, which
 * later proposals are shown as a negative example.
 */
import type { Store } from '../db/store.js';
import { loadWorkspaceRules } from '../rules/load.js';
import type { Workspace } from '../workspace.js';
import { reviewTrail } from './trail.js';
import {
  decidedBy,
  fail,
  problem,
  requireText,
  resolveCandidates,
  statusProblem,
  type DecisionOptions,
  type DecisionResult,
  type Decided,
} from './decision.js';
import { applyPrepared, planInPlace, prepareCommit, recovered, type Planned, type Prepared } from './commit.js';

export interface RejectOptions extends DecisionOptions {
  ids: readonly string[];
  reviewer: string;
  reason: string;
}

/** `rulegen reject`: the candidate stays in candidates/ with status rejected and the reason. */
export async function reject(ws: Workspace, store: Store | null, opts: RejectOptions): Promise<DecisionResult<Decided>> {
  return applyPrepared(ws, await prepareReject(ws, store, opts));
}

/** `reject` up to (not including) writing: what the crash tests apply with faults injected. */
export async function prepareReject(ws: Workspace, store: Store | null, opts: RejectOptions): Promise<Prepared<Decided>> {
  const now = opts.now ?? new Date();
  const recoveryNotes = recovered(ws);
  const reviewer = requireText(opts.reviewer, '--reviewer', 'who rejects the rule (recorded in the file)');
  const reason = requireText(opts.reason, '--reason', 'why the rule is rejected (recorded, and shown to the next proposal as a negative example)');
  const { rules: rulesLoads, candidates: candLoads } = loadWorkspaceRules(ws);
  const { found, problems } = resolveCandidates(opts.ids, ws, 'reject', rulesLoads, candLoads);
  for (const f of found) {
    const sp =
      f.rule.status === 'rejected'
        ? problem(
            `candidate ${f.rule.id} is already rejected${decidedBy(f.rule)}`,
            f.rule.id,
            'a rule with status candidate',
            'status rejected',
            f.load.file,
            f.rule.id,
          )
        : statusProblem('reject', f);
    if (sp) problems.push(sp);
  }
  if (problems.length) fail('reject', problems);
  const plan: Planned[] = found.map((f) => planInPlace(ws, f, 'rejected', { reviewer, at: now, note: reason }));
  const { journal, docs } = await prepareCommit(ws, store, 'reject', plan, { ...opts, now });
  return { journal, result: { decisions: found.map(({ load, rule }) => ({ id: rule.id, title: rule.title, file: load.file })), docs, notes: recoveryNotes } };
}

/** A rejected rule and why, for the next proposal's prompt ("do not suggest this"). */
export interface RejectedExample {
  condition: string;
  reason: string;
}

/** Every rejected rule of the workspace (candidates/ and rules/), in file order. Invalid files are skipped. */
export function rejectedExamples(ws: Workspace): RejectedExample[] {
  const { rules, candidates } = loadWorkspaceRules(ws);
  // candidates first: the prompt lists them in this order (and replayed cassettes are keyed by the prompt)
  const loads = [...candidates, ...rules];
  return loads
    .filter((l) => l.rule?.status === 'rejected')
    .map((l) => {
      const last = reviewTrail(l.rule!)
        .filter((t) => t.decision === 'rejected')
        .at(-1);
      return { condition: l.rule!.condition, reason: last?.note?.trim() || 'no reason recorded' };
    });
}
