/**
 * Planning and committing a decision. The new file contents are planned in memory and checked
 * against the rule schema, the docs are rendered from that planned state, and everything is then
 * written as one journaled batch (journal.ts): all or nothing, and replayed to completion by the
 * next command if this one is killed half way.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, type Document } from 'yaml';
import type { Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { parseRuleFile, type Rule, type RuleLoad } from '../rule/file.js';
import type { Workspace } from '../workspace.js';
import { collectDocs, docsChanges, renderDocs, type DocsResult, type Overlay } from '../report/docs.js';
import { loadTemplates } from '../report/templating.js';
import { newJournal, recoverWorkspace, runJournal, type Journal, type JournalOp } from './journal.js';
import type { DecisionOptions, DecisionResult } from './decision.js';

export interface Planned {
  /** Path to write and its text. */
  path: string;
  text: string;
  /** create: the file must not exist (an approved rule); replace: rewrite in place. */
  mode: 'create' | 'replace';
  /** A file to remove once `path` is written (the approved candidate). */
  remove?: string;
}

export function edit(file: string): Document {
  return parseDocument(readFileSync(file, 'utf8'));
}

/** The edited file's text, checked against the schema: the workflow never writes a rule lint would reject. */
export function checkedText(path: string, doc: Document, ws: Workspace): string {
  const text = doc.toString({ lineWidth: 100 });
  const load = parseRuleFile(text, path, ws.catalog);
  if (!load.rule) throw new InputError(`internal: the planned ${path} is not a valid rule`, load.problems);
  return text;
}

/** The new review block; an earlier decision moves into `history`, so the trail is never lost. */
function nextReview(rule: Rule, entry: Record<string, unknown>): Record<string, unknown> {
  if (!rule.review) return entry;
  const { history, ...previous } = rule.review as Record<string, unknown>;
  return { ...entry, history: [...(Array.isArray(history) ? history : []), previous] };
}

/** Plan a decision that only changes a rule's status, in its own file (reject, deprecate). */
export function planInPlace(
  ws: Workspace,
  { load, rule }: { load: RuleLoad; rule: Rule },
  decision: 'rejected' | 'deprecated',
  review: { reviewer: string; at: Date; note: string },
): Planned {
  const doc = edit(load.file);
  doc.set('status', decision);
  doc.set('review', doc.createNode(nextReview(rule, { decision, reviewer: review.reviewer, at: review.at.toISOString(), note: review.note, override: null })));
  return { path: load.file, text: checkedText(load.file, doc, ws), mode: 'replace' };
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
export async function prepareCommit(
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
export function recovered(ws: Workspace): string[] {
  return recoverWorkspace(ws).notes;
}
