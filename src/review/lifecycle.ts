/**
 * The rule lifecycle: candidate -> approved -> deprecated, candidate -> rejected. Every
 * decision is written into the rule file (status and `review:` block) and kept for audit.
 *
 * Each command works in three steps, so that bad input or a failing gate leaves every file as
 * it was: (1) resolve and check everything, reporting all problems at once; (2) plan the new
 * file contents and render the docs from that planned state, in memory; (3) write them all as
 * one journaled batch (journal.ts): a kill -9 at any point leaves either nothing changed or a
 * journal that the next command replays to completion.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMap, isNode, parseDocument, type Document } from 'yaml';
import type { Store } from '../db/store.js';
import { GateError, InputError, type Problem } from '../errors.js';
import { backtestTargets, evidenceBlock, type Target } from '../backtest/run.js';
import { findingsOf, incrementalOf, incrementalText, judgedSetVerdict, powerNote, validate, type Incremental, type Validation } from './findings.js';
import { parseRuleFile, type Rule, type RuleLoad } from '../rule/file.js';
import { loadWorkspaceRules } from '../rules/load.js';
import { matchRules as matching } from '../rules/resolve.js';
import { targetOf, targetsOf } from '../rules/targets.js';
import { openWorkspace, openWorkspaceStore, type Workspace } from '../workspace.js';
import { collectDocs, docsChanges, generateDocs, renderDocs, type DocsResult, type Overlay } from '../report/docs.js';
import { loadTemplates } from '../report/templating.js';
import { reviewTrail } from './trail.js';
import { newJournal, recoverWorkspace, runJournal, type Journal, type JournalOp } from './journal.js';

/** Options every decision shares; `now` is injectable so tests and golden files can pin it. */
interface DecisionOptions {
  now?: Date;
  /** Regenerate docs/ (default true). */
  docs?: boolean;
  onStep?: (m: string) => void;
}

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

export interface DecisionResult<T> {
  decisions: T[];
  docs: DocsResult | null;
  /** Things the reviewer may want to do next (not errors). */
  notes: string[];
}

export interface Decided {
  id: string;
  title: string;
  file: string;
}

// ---------------------------------------------------------------------------------------------
// resolving ids

function requireText(value: string | undefined, flag: string, what: string): string {
  const v = value?.trim() ?? '';
  if (!v)
    throw InputError.single({
      message: `${flag} is required: ${what}`,
      where: { field: flag },
      expected: `${flag} followed by a non-empty text`,
      found: value === undefined ? 'nothing' : 'an empty text',
    });
  return v;
}

function problem(message: string, arg: string, expected: string, found: string, file?: string, ruleId?: string): Problem {
  return { severity: 'error', message, where: file ? { file, ruleId } : { field: arg }, expected, found };
}

const decidedBy = (rule: Rule) => {
  const last = reviewTrail(rule).at(-1);
  return last
    ? ` by ${last.reviewer} on ${String(last.at instanceof Date ? last.at.toISOString() : last.at).slice(0, 10)}${last.note ? ` (${last.note})` : ''}`
    : '';
};

/**
 * Find one candidate per argument. Every problem is collected: an unknown id, an ambiguous
 * prefix, an id that is already approved or deprecated, a file edited into an invalid state.
 */
function resolveCandidates(
  args: readonly string[],
  ws: Workspace,
  verb: string,
  rulesLoads: readonly RuleLoad[],
  candLoads: readonly RuleLoad[],
): { found: { load: RuleLoad; rule: Rule }[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const found: { load: RuleLoad; rule: Rule }[] = [];
  if (args.length === 0) problems.push(problem(`${verb} needs at least one candidate id`, 'ID', `ids of rules in ${ws.paths.candidates}`, 'none'));
  for (const arg of args) {
    const hits = matching(arg, candLoads);
    if (hits.length > 1) {
      problems.push(problem(`"${arg}" matches several candidates`, 'ID', 'a unique id or prefix', hits.map((h) => h.id ?? basename(h.file)).join(', ')));
      continue;
    }
    const load = hits[0];
    if (!load) {
      const inRules = matching(arg, rulesLoads)[0];
      const status = inRules?.rule?.status;
      if (inRules && status === 'approved')
        problems.push(
          problem(
            `rule ${inRules.id} is already approved`,
            arg,
            `a candidate in ${ws.paths.candidates} (an approved rule is never overwritten; change it by proposing a derived candidate)`,
            `an approved rule in ${inRules.file}`,
            inRules.file,
            inRules.id,
          ),
        );
      else if (inRules && status === 'deprecated')
        problems.push(
          problem(
            `rule ${inRules.id} is deprecated${decidedBy(inRules.rule!)}`,
            arg,
            `a candidate in ${ws.paths.candidates}`,
            `a deprecated rule in ${inRules.file}`,
            inRules.file,
            inRules.id,
          ),
        );
      else if (inRules)
        problems.push(
          problem(
            `rule file ${inRules.file} is not a candidate`,
            arg,
            `a candidate in ${ws.paths.candidates}`,
            status ? `status ${status}` : 'an invalid rule file',
            inRules.file,
            inRules.id,
          ),
        );
      else
        problems.push(problem(`unknown candidate id "${arg}"`, arg, `the id (or a unique 8+ character prefix) of a candidate in ${ws.paths.candidates}`, arg));
      continue;
    }
    if (!load.rule) {
      const errors = load.problems.filter((p) => p.severity === 'error');
      problems.push(
        problem(
          `cannot ${verb} ${load.id ?? arg}: its file is not a valid rule (${errors.length} error${errors.length === 1 ? '' : 's'} below); fix the file, or re-propose the rule`,
          arg,
          'a rule file that `rulegen lint` accepts',
          `${errors.length} error${errors.length === 1 ? '' : 's'}`,
          load.file,
          load.id,
        ),
      );
      problems.push(...errors);
      continue;
    }
    if (found.some((f) => f.load.file === load.file)) continue;
    found.push({ load, rule: load.rule });
  }
  return { found, problems };
}

function statusProblem(verb: string, arg: { load: RuleLoad; rule: Rule }): Problem | null {
  const { rule, load } = arg;
  if (rule.status === 'candidate') return null;
  const msg =
    rule.status === 'rejected'
      ? `candidate ${rule.id} was rejected${decidedBy(rule)}; it stays in candidates/ for the record`
      : `${load.file} has status ${rule.status}`;
  return problem(`cannot ${verb} ${rule.id}: ${msg}`, rule.id, 'a rule with status candidate', `status ${rule.status}`, load.file, rule.id);
}

function fail(verb: string, problems: Problem[]): never {
  const n = problems.filter((p) => p.severity === 'error').length;
  throw new InputError(`cannot ${verb}: ${n} problem${n === 1 ? '' : 's'}; nothing was written`, problems);
}

// ---------------------------------------------------------------------------------------------
// writing

interface Planned {
  /** Path to write and its text. */
  path: string;
  text: string;
  /** create: the file must not exist (an approved rule); replace: rewrite in place. */
  mode: 'create' | 'replace';
  /** A file to remove once `path` is written (the approved candidate). */
  remove?: string;
}

function edit(file: string): Document {
  return parseDocument(readFileSync(file, 'utf8'));
}

/** The candidate's "review with `rulegen review`" header no longer applies once approved; other comments stay. */
function dropCandidateHeader(doc: Document): void {
  const first = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  const holders: { commentBefore?: string | null }[] = [doc, ...(isNode(doc.contents) ? [doc.contents] : []), ...(isNode(first) ? [first] : [])];
  for (const h of holders) if (/rulegen review|approve or reject/.test(h.commentBefore ?? '')) h.commentBefore = null;
}

/** Check a planned file against the schema: the workflow never writes a rule lint would reject. */
function checked(path: string, text: string, ws: Workspace): string {
  const load = parseRuleFile(text, path, ws.catalog);
  if (!load.rule) throw new InputError(`internal: the planned ${path} is not a valid rule`, load.problems);
  return text;
}

/** A decision, fully planned: its result and the journal that makes it so. Nothing written yet. */
export interface Prepared<T> {
  result: DecisionResult<T>;
  journal: Journal;
}

/**
 * Render the docs for the planned state (before anything is written), then put the rule files
 * and the docs into one journal: applied all or nothing, and replayed by the next command if
 * this one is killed half way (see journal.ts). Rule files come first (a new approved file
 * before its candidate is removed), then the docs.
 */
async function prepareCommit(
  ws: Workspace,
  store: Store | null,
  command: string,
  plan: readonly Planned[],
  opts: DecisionOptions & { now: Date },
): Promise<{ journal: Journal; docs: DocsResult | null }> {
  const ops: JournalOp[] = [];
  for (const p of plan) ops.push({ op: 'write', path: p.path, text: p.text, ...(p.mode === 'create' ? { create: true } : {}) });
  for (const p of plan) if (p.remove) ops.push({ op: 'remove', path: p.remove });
  let docs: DocsResult | null = null;
  if (opts.docs !== false) {
    const templates = loadTemplates(ws.dir);
    const overlay: Map<string, string | null> = new Map();
    for (const p of plan) {
      overlay.set(p.path, p.text);
      if (p.remove) overlay.set(p.remove, null);
    }
    const { input, problems } = await collectDocs(ws, store, { now: opts.now, overlay: overlay as Overlay, onStep: opts.onStep });
    const files = renderDocs(ws, input, templates);
    const { writes, removed } = docsChanges(ws, files);
    for (const [path, text] of writes) ops.push({ op: 'write', path, text });
    for (const path of removed) ops.push({ op: 'remove', path });
    docs = { written: writes.map(([p]) => p), removed, files: [...files.keys()], problems };
  }
  return { journal: newJournal(command, ops, opts.now), docs };
}

/** Apply a prepared decision: all of its files change, or (after a crash) the next command finishes them. */
export function applyPrepared<T>(ws: Workspace, p: Prepared<T>): DecisionResult<T> {
  runJournal(ws, p.journal);
  return p.result;
}

/** Finish what a killed command left half done, before deciding anything new; its notes are reported with the result. */
function recovered(ws: Workspace): string[] {
  return recoverWorkspace(ws).notes;
}

// ---------------------------------------------------------------------------------------------
// approve

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
    doc.commentBefore = ` Approved with \`rulegen approve\`. Never edited in place: a changed condition becomes a new rule\n (related: derived); to retire it, \`rulegen deprecate ${it.id} --reason TEXT\`.`;
    doc.set('id', it.id);
    doc.set('status', 'approved');
    if (it.derivedFrom && it.addRelation) doc.set('related', doc.createNode([...it.rule.related, { id: it.derivedFrom, type: 'derived' }]));
    doc.set('backtest', doc.createNode({ ...evidenceBlock(run, run.rules[k]!), as_of: now.toISOString() }));
    const failures = [...verdict.reasons, ...together.reasons];
    const review: Record<string, unknown> = { decision: 'approved', reviewer, at: now.toISOString(), note, override: failures.length ? override! : null };
    if (failures.length) review['gate_failures'] = failures;
    doc.set('review', doc.createNode(review));
    plan.push({ path, text: checked(path, doc.toString({ lineWidth: 100 }), ws), mode: 'create', remove: it.load.file });
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
          ? `${it.id} is derived from approved rule ${it.derivedFrom}, which stays approved; if the new rule replaces it: rulegen deprecate ${it.derivedFrom} --reason "replaced by ${it.id}"`
          : `${it.id} is derived from ${parent} rule ${it.derivedFrom}, which stays ${parent}`,
      );
    }
  });
  if (power) notes.push(power);
  const { journal, docs } = await prepareCommit(ws, store, 'approve', plan, { ...opts, now });
  return { journal, result: { decisions, docs, notes: [...recoveryNotes, ...notes] } };
}

// ---------------------------------------------------------------------------------------------
// reject

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
  const plan: Planned[] = found.map(({ load, rule }) => {
    const doc = edit(load.file);
    doc.set('status', 'rejected');
    doc.set('review', doc.createNode(nextReview(rule, { decision: 'rejected', reviewer, at: now.toISOString(), note: reason, override: null })));
    return { path: load.file, text: checked(load.file, doc.toString({ lineWidth: 100 }), ws), mode: 'replace' };
  });
  const { journal, docs } = await prepareCommit(ws, store, 'reject', plan, { ...opts, now });
  return { journal, result: { decisions: found.map(({ load, rule }) => ({ id: rule.id, title: rule.title, file: load.file })), docs, notes: recoveryNotes } };
}

/** The new review block; an earlier decision moves into `history`, so the trail is never lost. */
function nextReview(rule: Rule, entry: Record<string, unknown>): Record<string, unknown> {
  if (!rule.review) return entry;
  const { history, ...previous } = rule.review as Record<string, unknown>;
  return { ...entry, history: [...(Array.isArray(history) ? history : []), previous] };
}

// ---------------------------------------------------------------------------------------------
// deprecate

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
  const doc = edit(load.file);
  doc.set('status', 'deprecated');
  doc.set('review', doc.createNode(nextReview(rule, { decision: 'deprecated', reviewer, at: now.toISOString(), note: reason, override: null })));
  const plan: Planned[] = [{ path: load.file, text: checked(load.file, doc.toString({ lineWidth: 100 }), ws), mode: 'replace' }];
  const { journal, docs } = await prepareCommit(ws, store, 'deprecate', plan, { ...opts, now });
  return { journal, result: { decisions: [{ id: rule.id, title: rule.title, file: load.file }], docs, notes: recoveryNotes } };
}

// ---------------------------------------------------------------------------------------------
// negative examples

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

// ---------------------------------------------------------------------------------------------
// recovery at the start of every command

/**
 * What the CLI runs before any command on a workspace: finish or roll back what a killed
 * command left (journal.ts), and regenerate the docs when rule files were repaired without them.
 * Returns the notes for stderr. A folder that is not a loadable workspace is left to the command.
 */
export async function recoverBeforeCommand(dir: string, opts: { now?: Date } = {}): Promise<string[]> {
  if (!existsSync(join(dir, 'rulegen.yaml'))) return [];
  let ws: Workspace;
  try {
    ws = openWorkspace(dir);
  } catch {
    return []; // the command itself reports a broken config or catalog, with file and line
  }
  const r = recoverWorkspace(ws);
  if (!r.docsStale) return r.notes;
  const store = await openWorkspaceStore(ws);
  try {
    const docs = await generateDocs(ws, store, { now: opts.now ?? new Date() });
    return [
      ...r.notes,
      `regenerated the docs after the repair (${docs.written.length} file${docs.written.length === 1 ? '' : 's'} changed${docs.removed.length ? `, ${docs.removed.length} removed` : ''})`,
    ];
  } finally {
    store.close();
  }
}
