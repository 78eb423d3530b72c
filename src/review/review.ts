/**
 * `rulegen review`: every candidate with its evidence on the test window and its gate verdict,
 * best first, measured next to the approved rules (overlap, bots no approved rule catches).
 */
import type { Store } from '../db/store.js';
import type { Problem } from '../errors.js';
import { backtestTargets, evaluateRules, type Target } from '../backtest/run.js';
import { findingsOf, incrementalOf, incrementalText, powerNote, validate, type Incremental, type Validation } from './findings.js';
import type { RuleResult } from '../backtest/engine.js';
import type { KernelRule } from '../backtest/kernel/index.js';
import { applySetGate } from '../backtest/gate.js';
import { resolveWindow } from '../db/window.js';
import { compilePredicate } from '../compile/compile.js';
import type { Expr } from '../rule/ast.js';
import { fmtPct } from '../format.js';
import { english } from '../rule/english.js';
import { loadRuleDir, loadWorkspaceRules, validRules } from '../rules/load.js';
import { targetOf, targetsOf } from '../rules/targets.js';
import type { Workspace } from '../workspace.js';
import { generateDocs, type DocsResult } from '../report/docs.js';
import { approve, type Approval } from './lifecycle.js';

export interface ReviewItem {
  id: string;
  title: string;
  file: string;
  action: string;
  level: string;
  condition: string;
  ast: Expr;
  english: string;
  result: RuleResult;
  /** PASS only when every gate passes: the rule's own, the deployed set, protected segments, stability, duplicates. */
  verdict: Validation;
  /** What it adds to the deployed set of approved block/challenge rules. */
  incremental: Incremental | null;
  /** Approved rules this candidate shares matched sessions with (Jaccard ≥ 0.05). */
  overlapsApproved: { id: string; title: string; jaccard: number }[];
  /** The approved rule this candidate changes, if any (approving it makes a new rule). */
  changes?: string;
}

export interface ReviewListing {
  window: { name: string; from: string; to: string; rows: number } | null;
  items: ReviewItem[];
  /** Said once: the test window has too few labelled humans for any rule to pass max_fpr. */
  power: string | null;
  /** Candidate files that could not be loaded: reported, not dropped silently. */
  problems: Problem[];
  /** Those files, each with its errors; the other candidates are reviewed all the same. */
  invalid: { file: string; id?: string; problems: Problem[] }[];
}

const desc = (a: number | null | undefined, b: number | null | undefined) => (b ?? -1) - (a ?? -1);

/** Best first: passing the gate, then bots no approved rule catches, precision, a low FPR bound. */
export function bestFirst(a: ReviewItem, b: ReviewItem): number {
  return (
    Number(b.verdict.pass) - Number(a.verdict.pass) ||
    desc(a.result.incremental_recall, b.result.incremental_recall) ||
    desc(a.result.precision, b.result.precision) ||
    (a.result.fpr_upper95 ?? 1) - (b.result.fpr_upper95 ?? 1) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export async function reviewCandidates(ws: Workspace, store: Store, opts: { onStep?: (m: string) => void } = {}): Promise<ReviewListing> {
  const all = loadWorkspaceRules(ws);
  const candLoads = all.candidates;
  const approved = validRules(all.rules, ['approved']);
  const problems = candLoads.flatMap((l) => l.problems);
  const invalid = candLoads.filter((l) => !l.rule).map((l) => ({ file: l.file, id: l.id, problems: l.problems.filter((p) => p.severity === 'error') }));
  const cands = candLoads.filter((l) => l.rule?.status === 'candidate');
  if (cands.length === 0) return { window: null, items: [], power: null, problems, invalid };
  const approvedIds = new Set(approved.map((r) => r.id));
  // A candidate may share its id with the approved rule it changes: the engine needs unique ids
  // (findings name the other rules by id, so every other candidate keeps its own).
  const seen = new Set(approvedIds);
  const keys = cands.map((l, i) => {
    const k = seen.has(l.rule!.id) ? `candidate:${i}` : l.rule!.id;
    seen.add(k);
    return k;
  });
  const targets: Target[] = [...cands.map((l, i) => targetOf(l.rule!, l.file, { id: keys[i]! })), ...approved.map((r) => targetOf(r))];
  // rejected rules come along as context: a candidate that behaves like one is marked
  const context = targetsOf(all.all, ['rejected']).filter((t) => !seen.has(t.id));
  const run = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', onStep: opts.onStep, context, configFile: ws.paths.config });
  const titles = new Map(approved.map((r) => [r.id, r.title]));
  const items = cands.map((l, i): ReviewItem => {
    const rule = l.rule!;
    const result = { ...run.rules[i]!, id: rule.id };
    const changes = approvedIds.has(rule.id) ? rule.id : rule.related.find((r) => r.type === 'derived' && approvedIds.has(r.id))?.id;
    const verdict = validate(result, ws.config.gate, findingsOf(run, keys[i]!, { derivedFrom: changes }));
    return {
      id: rule.id,
      title: rule.title,
      file: l.file,
      action: rule.action,
      level: rule.level,
      condition: rule.condition,
      ast: rule.ast,
      english: english(rule.ast, ws.catalog),
      result,
      verdict,
      incremental: incrementalOf(result),
      overlapsApproved: (result.overlap ?? [])
        .filter((o) => approvedIds.has(o.id) && o.jaccard >= 0.05)
        .map((o) => ({ id: o.id, title: titles.get(o.id) ?? '', jaccard: o.jaccard })),
      changes,
    };
  });
  return {
    window: { name: run.window.name, from: run.window.from, to: run.window.to, rows: run.rows },
    items: items.sort(bestFirst),
    power: powerNote(run),
    problems,
    invalid,
  };
}

/** One line per candidate file that does not load, with its first reason (all of them go to stderr). */
function invalidLines(l: ReviewListing): string[] {
  return l.invalid.map((f) => {
    const first = f.problems[0];
    const at = first?.where?.line !== undefined ? `:${first.where.line}${first.where.column !== undefined ? `:${first.where.column}` : ''}` : '';
    return `INVALID ${f.file}${at}: ${first?.message ?? 'does not load'}${f.problems.length > 1 ? ` (and ${f.problems.length - 1} more)` : ''}`;
  });
}

export function reviewText(l: ReviewListing): string {
  const bad = invalidLines(l);
  if (l.items.length === 0) return [...bad, ...(bad.length ? [''] : []), 'no candidates to review (propose some with `rulegen propose`)'].join('\n') + '\n';
  const pass = l.items.filter((i) => i.verdict.pass).length;
  const out = [
    `${pass} of ${l.items.length} candidate${l.items.length === 1 ? '' : 's'} pass the gate on the ${l.window!.name} window ` +
      `(${l.window!.from.slice(0, 10)} .. ${l.window!.to.slice(0, 10)}, ${l.window!.rows.toLocaleString('en-US')} sessions), best first:`,
    '',
  ];
  if (l.power) out.splice(1, 0, `too few humans to judge: ${l.power}; no rule can pass until more labelled traffic is ingested`);
  for (const i of l.items) {
    const r = i.result;
    out.push(`${i.verdict.pass ? 'PASS' : 'FAIL'} ${i.id.slice(0, 8)}  ${i.title}  [${i.action}, ${i.level}]`);
    out.push(`     ${i.condition}`);
    out.push(`     matches sessions with ${i.english}`);
    out.push(
      `     precision ${fmtPct(r.precision, 1)}, recall ${fmtPct(r.recall, 1)}, FPR ${fmtPct(r.fpr)} (upper ` +
        `95% ${fmtPct(r.fpr_upper95)}), ${r.counts.tp} bots and ${r.counts.fp} people matched, worst ` +
        `day ${r.daily?.worst_day ? `${fmtPct(r.daily.worst_fpr)} on ${r.daily.worst_day}` : 'n/a'}, bots no approved rule ` +
        `catches ${fmtPct(r.incremental_recall, 1)}`,
    );
    if (i.overlapsApproved.length)
      out.push(`     overlaps approved: ${i.overlapsApproved.map((o) => `${o.id.slice(0, 8)} (Jaccard ${o.jaccard.toFixed(2)})`).join(', ')}`);
    if (i.changes) out.push(`     changes approved rule ${i.changes.slice(0, 8)}: approving it creates a new rule (related: derived)`);
    if (i.incremental) out.push(`     ${incrementalText(i.incremental)}`);
    for (const reason of i.verdict.reasons) out.push(`     - ${reason}`);
    for (const note of i.verdict.notes) out.push(`     ~ ${note}`);
  }
  if (bad.length) out.push('', ...bad);
  out.push('', 'next: rulegen approve ID --reviewer NAME [--note TEXT]   or   rulegen reject ID --reviewer NAME --reason TEXT');
  return out.join('\n') + '\n';
}

export function reviewJson(l: ReviewListing): unknown {
  return {
    window: l.window,
    power: l.power,
    candidates: l.items.map((i) => ({
      ...i.result,
      id: i.id,
      title: i.title,
      file: i.file,
      action: i.action,
      level: i.level,
      condition: i.condition,
      english: i.english,
      pass: i.verdict.pass,
      reasons: i.verdict.reasons,
      findings: i.verdict.findings,
      notes: i.verdict.notes,
      incremental: i.incremental,
      overlaps_approved: i.overlapsApproved,
      changes: i.changes ?? null,
    })),
    problems: l.problems,
    invalid: l.invalid.map((f) => ({ file: f.file, id: f.id ?? null, problems: f.problems })),
  };
}

/**
 * The end of the demo: approve `ids` (default: every candidate that passes the gate, best
 * first) as `reviewer`, then write the docs and the report. What `rulegen demo` calls so that
 * it ends with approved rules, their docs, the report, and a `rulegen check` that passes.
 */
export async function approveAndDocument(
  ws: Workspace,
  store: Store,
  opts: { ids?: readonly string[]; reviewer: string; note?: string; now?: Date; onStep?: (m: string) => void },
): Promise<{ approved: Approval[]; docs: DocsResult; notes: string[]; listing: ReviewListing | null }> {
  const now = opts.now ?? new Date();
  const listing = opts.ids ? null : await reviewCandidates(ws, store, { onStep: opts.onStep });
  const notes: string[] = [];
  let ids = opts.ids ?? listing!.items.filter((i) => i.verdict.pass).map((i) => i.id);
  if (listing && ids.length > 1) {
    // each passes with the deployed set; together they may not: keep the best that fit
    const fit = await fitTheSet(
      ws,
      store,
      listing.items.filter((i) => i.verdict.pass),
    );
    ids = fit.keep;
    for (const id of fit.left)
      notes.push(`${id.slice(0, 8)} passes on its own but not in the deployed set with the rules approved before it: left as a candidate`);
  }
  if (ids.length === 0)
    return {
      approved: [],
      docs: await generateDocs(ws, store, { now, onStep: opts.onStep }),
      notes: ['no candidate passes the gate: nothing approved'],
      listing,
    };
  const r = await approve(ws, store, { ids, reviewer: opts.reviewer, note: opts.note, now, onStep: opts.onStep });
  return { approved: r.decisions, docs: r.docs!, notes: [...notes, ...r.notes], listing };
}

/**
 * Best first, add each candidate while the deployed set (approved block/challenge rules plus the
 * ones kept so far) stays within set_max_fpr. One scan per candidate, core and set counts only.
 */
async function fitTheSet(ws: Workspace, store: Store, items: readonly ReviewItem[]): Promise<{ keep: string[]; left: string[] }> {
  const deployed = loadRuleDir(ws.paths.rules, ws.catalog)
    .map((l) => l.rule)
    .filter((r): r is NonNullable<typeof r> => r !== undefined && r.status === 'approved' && r.action !== 'log');
  const window = await resolveWindow(store, ws.config, 'test');
  const base: KernelRule[] = deployed.map((r) => ({ id: r.id, ast: r.ast, predicate: compilePredicate(r.ast, ws.catalog), approved: true, deployed: true }));
  const keep: ReviewItem[] = [];
  const left: string[] = [];
  for (const item of items) {
    if (item.action === 'log') {
      keep.push(item);
      continue;
    }
    const rules = [
      ...base,
      ...[...keep, item]
        .filter((k) => k.action !== 'log')
        .map((k, n) => ({ id: `fit:${n}`, ast: k.ast, predicate: compilePredicate(k.ast, ws.catalog), extra: true })),
    ];
    const run = await evaluateRules(store, ws.config, ws.catalog, window, rules, { set: true });
    if (applySetGate(run.set!.judged, ws.config.gate).pass) keep.push(item);
    else left.push(item.id);
  }
  return { keep: keep.map((k) => k.id), left };
}
