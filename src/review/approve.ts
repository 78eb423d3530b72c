/**
 * `rulegen approve`: a candidate becomes an approved rule in rules/ only if it passes the gate
 * on the test window, judged next to the rules already approved (or with a recorded override).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isNode, type Document } from 'yaml';
import type { Store } from '../db/store.js';
import { GateError, type Problem } from '../errors.js';
import { backtestTargets, evidenceBlock, type Target } from '../backtest/run.js';
import { findingsOf, incrementalOf, incrementalText, judgedSetVerdict, powerNote, validate, type Incremental, type Validation } from './findings.js';
import type { Rule, RuleLoad } from '../rule/file.js';
import { loadWorkspaceRules } from '../rules/load.js';
import { targetOf, targetsOf } from '../rules/targets.js';
import type { Workspace } from '../workspace.js';
import { fail, problem, requireText, resolveCandidates, statusProblem, type DecisionOptions, type DecisionResult } from './decision.js';
import { applyPrepared, checkedText, edit, prepareCommit, recovered, type Planned, type Prepared } from './commit.js';

export interface ApproveOptions extends DecisionOptions {
  ids: readonly string[];
  reviewer: string;
  note?: string;
  /** Approve even if the gate fails; the reason is recorded in the rule's review block. */
  override?: string;
}

export interface Approval {
  /** The approved rule's id: the candidate's, or a new one when it changes an approved rule. */
  id: string;
  title: string;
  /** The candidate file, now removed. */
  from: string;
  /** The new file under rules/. */
  file: string;
  /** The approved rule this one was derived from, if any. */
  derivedFrom?: string;
  /** The per-rule gate with every issue-12 finding (set, segments, stability, duplicates). */
  verdict: Validation;
  /** What it adds to the deployed set: humans and bots only it hits (null for a log rule's set view). */
  incremental: Incremental | null;
  /** True when the gate failed and --override was used. */
  overridden: boolean;
}

/** The candidate's "review with `rulegen review`" header no longer applies once approved; other comments stay. */
function dropCandidateHeader(doc: Document): void {
  const first = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  const holders: { commentBefore?: string | null }[] = [doc, ...(isNode(doc.contents) ? [doc.contents] : []), ...(isNode(first) ? [first] : [])];
  for (const h of holders) if (/rulegen review|approve or reject/.test(h.commentBefore ?? '')) h.commentBefore = null;
}

/**
 * `rulegen approve`: re-run the backtest on the test window, apply the gate, move each
 * candidate to rules/ as approved with fresh evidence and a review block, regenerate docs.
 * All or nothing: one unknown id or one failing gate (without --override) writes nothing.
 */
export async function approve(ws: Workspace, store: Store, opts: ApproveOptions): Promise<DecisionResult<Approval>> {
  return applyPrepared(ws, await prepareApprove(ws, store, opts));
}

/** `approve` up to (not including) writing: what the crash tests apply with faults injected. */
export async function prepareApprove(ws: Workspace, store: Store, opts: ApproveOptions): Promise<Prepared<Approval>> {
  const now = opts.now ?? new Date();
  const recoveryNotes = recovered(ws);
  const reviewer = requireText(opts.reviewer, '--reviewer', 'who approves the rule (recorded in the file)');
  const override = opts.override === undefined ? undefined : requireText(opts.override, '--override', 'why a rule that fails the gate is approved anyway');
  const note = opts.note?.trim() || null;
  const { rules: rulesLoads, candidates: candLoads, all } = loadWorkspaceRules(ws);
  const { found, problems } = resolveCandidates(opts.ids, ws, 'approve', rulesLoads, candLoads);
  const approved = rulesLoads.filter((l) => l.rule?.status === 'approved').map((l) => l.rule!);
  const takenIds = new Set(rulesLoads.map((l) => l.id).filter((x): x is string => Boolean(x)));

  interface Item {
    load: RuleLoad;
    rule: Rule;
    id: string;
    derivedFrom?: string;
    addRelation: boolean;
  }
  const items: Item[] = [];
  for (const f of found) {
    const sp = statusProblem('approve', f);
    if (sp) {
      problems.push(sp);
      continue;
    }
    const same = approved.find((r) => r.condition === f.rule.condition);
    if (same) {
      problems.push(
        same.id === f.rule.id
          ? problem(
              `rule ${same.id} is already approved`,
              f.rule.id,
              'a candidate that is not yet approved (an approved rule is never overwritten)',
              `${join(ws.paths.rules, `${same.id}.yaml`)} with the same condition`,
              f.load.file,
              f.rule.id,
            )
          : problem(
              `candidate ${f.rule.id} has the same condition as approved rule ${same.id} (${same.title})`,
              f.rule.id,
              'a condition no approved rule has',
              f.rule.condition,
              f.load.file,
              f.rule.id,
            ),
      );
      continue;
    }
    const declared = f.rule.related.find((r) => r.type === 'derived' && approved.some((a) => a.id === r.id));
    if (takenIds.has(f.rule.id) || items.some((i) => i.id === f.rule.id)) {
      // Same id as a rule in rules/ with another condition: the change becomes a new rule.
      items.push({
        load: f.load,
        rule: f.rule,
        id: randomUUID(),
        derivedFrom: f.rule.id,
        addRelation: !f.rule.related.some((r) => r.id === f.rule.id && r.type === 'derived'),
      });
    } else items.push({ load: f.load, rule: f.rule, id: f.rule.id, derivedFrom: declared?.id, addRelation: false });
  }
  if (problems.length) fail('approve', problems);

  // The gate is judged on current data, next to the approved rules (overlap, incremental recall).
  opts.onStep?.(`backtesting ${items.length} candidate${items.length === 1 ? '' : 's'} on the test window`);
  const targets: Target[] = [...items.map((i) => targetOf(i.rule, i.load.file, { id: i.id, status: 'candidate' })), ...approved.map((r) => targetOf(r))];
  // The rest of the workspace is measured alongside: other candidates and rejected rules (duplicates
  // by behaviour); the approved block/challenge rules are the deployed set the candidates join.
  const itemFiles = new Set(items.map((i) => i.load.file));
  const context = targetsOf(all, ['approved', 'candidate', 'rejected']).filter((t) => !(t.file && itemFiles.has(t.file)));
  const run = await backtestTargets(store, ws.config, ws.catalog, targets, {
    window: 'test',
    variations: true,
    onStep: opts.onStep,
    context,
    extra: items.filter((i) => i.rule.action !== 'log').map((i) => i.id),
    configFile: ws.paths.config,
  });
  const verdicts = items.map((it, k) => validate(run.rules[k]!, ws.config.gate, findingsOf(run, it.id, { derivedFrom: it.derivedFrom })));
  // each candidate may keep the set within set_max_fpr on its own and still break it together
  const together = judgedSetVerdict(run, ws.config.gate, items.filter((i) => i.rule.action !== 'log').length);
  const power = powerNote(run);
  const failing = items.map((it, k) => ({ it, v: verdicts[k]! })).filter((x) => !x.v.pass);
  if ((failing.length || !together.pass) && !override) {
    const what = [
      failing.length ? `${failing.length} candidate${failing.length === 1 ? ' fails' : 's fail'} the gate on the test window` : '',
      together.pass ? '' : 'together they break the set gate',
    ]
      .filter(Boolean)
      .join('; ');
    const problems: Problem[] = failing.flatMap(({ it, v }) =>
      v.reasons.map((r): Problem => ({ severity: 'error', message: r, where: { file: it.load.file, ruleId: it.rule.id } })),
    );
    problems.push(...together.reasons.map((r): Problem => ({ severity: 'error', message: r })));
    // the evidence a reviewer weighs an override against, said once per candidate
    items.forEach((it, k) => {
      const inc = incrementalOf(run.rules[k]!);
      if (inc)
        problems.push({
          severity: 'warning',
          message: `${it.rule.id.slice(0, 8)}: ${incrementalText(inc)}`,
          where: { file: it.load.file, ruleId: it.rule.id },
        });
    });
    if (power) problems.push({ severity: 'warning', message: power });
    throw new GateError(`cannot approve: ${what}; nothing was written (give --override REASON to approve anyway; the reason is recorded)`, problems);
  }

  const plan: Planned[] = [];
  const decisions: Approval[] = [];
  const notes: string[] = [];
  items.forEach((it, k) => {
    const verdict = verdicts[k]!;
    const path = join(ws.paths.rules, `${it.id}.yaml`);
    if (existsSync(path))
      fail('approve', [
        problem('refusing to overwrite an existing rule file', it.id, 'a new file (an approved rule is never overwritten)', 'the file exists', path, it.id),
      ]);
    const doc = edit(it.load.file);
    dropCandidateHeader(doc);
    doc.commentBefore =
      ` Approved with \`rulegen approve\`. Never edited in place: a changed condition becomes a new rule\n (related: derived); to retire it, ` +
      `\`rulegen deprecate ${it.id} --reason TEXT\`.`;
    doc.set('id', it.id);
    doc.set('status', 'approved');
    if (it.derivedFrom && it.addRelation) doc.set('related', doc.createNode([...it.rule.related, { id: it.derivedFrom, type: 'derived' }]));
    doc.set('backtest', doc.createNode({ ...evidenceBlock(run, run.rules[k]!), as_of: now.toISOString() }));
    const failures = [...verdict.reasons, ...together.reasons];
    const review: Record<string, unknown> = { decision: 'approved', reviewer, at: now.toISOString(), note, override: failures.length ? override! : null };
    if (failures.length) review['gate_failures'] = failures;
    doc.set('review', doc.createNode(review));
    plan.push({ path, text: checkedText(path, doc, ws), mode: 'create', remove: it.load.file });
    decisions.push({
      id: it.id,
      title: it.rule.title,
      from: it.load.file,
      file: path,
      derivedFrom: it.derivedFrom,
      verdict,
      incremental: incrementalOf(run.rules[k]!),
      overridden: failures.length > 0,
    });
    if (it.derivedFrom) {
      // the rule it changes may be approved (it stays so) or already deprecated (nothing to retire)
      const parent = rulesLoads.find((l) => l.id === it.derivedFrom)?.rule?.status ?? 'approved';
      notes.push(
        parent === 'approved'
          ? `${it.id} is derived from approved rule ${it.derivedFrom}, which stays approved; if the new rule replaces it: rulegen ` +
              `deprecate ${it.derivedFrom} --reason "replaced by ${it.id}"`
          : `${it.id} is derived from ${parent} rule ${it.derivedFrom}, which stays ${parent}`,
      );
    }
  });
  if (power) notes.push(power);
  const { journal, docs } = await prepareCommit(ws, store, 'approve', plan, { ...opts, now });
  return { journal, result: { decisions, docs, notes: [...recoveryNotes, ...notes] } };
}
