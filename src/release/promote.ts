/**
 * `rulegen promote ID --to challenge|block`: move an approved rule one rollout stage on
 * (shadow -> challenge -> block), after re-running the gate on the data since it entered its
 * current stage — the traffic it has actually been seen on. A failing gate refuses (exit 1)
 * unless --override gives a reason, which is recorded with the promotion in the rule file's
 * `rollout.history`. The file is rewritten atomically, keeping its comments and order.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { evaluateRules } from '../backtest/evaluate.js';
import { applyGate, type GateVerdict } from '../backtest/gate.js';
import { requireTable, sqlTimestamp, type Window } from '../db/window.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Store } from '../db/store.js';
import { GateError, InputError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { parseRuleFile, ROLLOUT_STAGES, type Rule } from '../rule/file.js';
import { loadRuleDir } from '../rules/load.js';
import { matchRules } from '../rules/resolve.js';
import type { Workspace } from '../workspace.js';
import { evidenceOf } from './build.js';
import type { Evidence, Stage } from './schema.js';

export interface PromoteOptions {
  /** A rule id or a unique prefix of 8+ characters, in rules/. */
  id: string;
  to: string;
  reviewer: string;
  /** Promote even though the gate fails; the reason is recorded. */
  override?: string;
  now?: Date;
  onStep?: (m: string) => void;
}

export interface Promotion {
  id: string;
  title: string;
  file: string;
  from: Stage;
  to: Stage;
  /** The start of the data the gate was judged on: when the rule entered `from`. */
  since: string;
  evidence: Evidence;
  verdict: GateVerdict;
  override: string | null;
}

const iso = (t: string | Date): string => (t instanceof Date ? t.toISOString() : t);

function findRule(ws: Workspace, arg: string): { rule: Rule; file: string } {
  const loads = loadRuleDir(ws.paths.rules, ws.catalog);
  const hits = matchRules(arg, loads);
  if (hits.length > 1)
    throw InputError.single({
      message: `"${arg}" matches several rules`,
      where: { field: 'ID' },
      expected: 'a unique id or prefix',
      found: hits.map((h) => h.id).join(', '),
    });
  const hit = hits[0];
  if (!hit)
    throw InputError.single({
      message: `unknown rule id "${arg}"`,
      where: { field: 'ID' },
      expected: `the id of an approved rule in ${ws.paths.rules}`,
      found: arg,
    });
  if (!hit.rule)
    throw new InputError(
      `the rule file ${hit.file} is not valid`,
      hit.problems.filter((p) => p.severity === 'error'),
    );
  if (hit.rule.status !== 'approved')
    throw InputError.single({
      message: `rule ${hit.rule.id} is ${hit.rule.status}: only approved rules are rolled out`,
      where: { file: hit.file, field: 'status', ruleId: hit.rule.id },
      expected: 'approved',
      found: hit.rule.status,
    });
  return { rule: hit.rule, file: hit.file };
}

/** The window "since the last stage": every session from `since` on. */
async function windowSince(store: Store, ws: Workspace, since: Date): Promise<Window> {
  await requireTable(store, ws.config);
  const t = quoteIdent(ws.config.data.time);
  const where = `${t} >= ?::TIMESTAMP`;
  const parameters = [sqlTimestamp(since)];
  const r = await store.one<{ hi: Date | null; n: number }>(
    `SELECT max(${t}) AS hi, count(*) AS n FROM ${quoteIdent(ws.config.data.table)} WHERE ${where}`,
    parameters,
  );
  const n = Number(r?.n ?? 0);
  return {
    name: 'test',
    from: since.toISOString(),
    to: r?.hi ? r.hi.toISOString() : since.toISOString(),
    cutoff: since.toISOString(),
    where,
    parameters,
    rows: n,
  };
}

export async function promote(ws: Workspace, store: Store, opts: PromoteOptions): Promise<Promotion> {
  if (opts.to !== 'challenge' && opts.to !== 'block')
    throw InputError.single({ message: 'unknown stage', where: { field: '--to' }, expected: 'challenge or block', found: opts.to });
  if (!opts.reviewer.trim())
    throw InputError.single({ message: 'a reviewer is required', where: { field: '--reviewer' }, expected: 'a name', found: 'nothing' });
  if (opts.override !== undefined && !opts.override.trim())
    throw InputError.single({
      message: 'an override needs a reason',
      where: { field: '--override' },
      expected: 'the reason the gate is overridden',
      found: 'nothing',
    });
  const to: Stage = opts.to;
  const { rule, file } = findRule(ws, opts.id);
  const where = { file, field: 'rollout', ruleId: rule.id };
  if (!rule.rollout) {
    throw InputError.single({
      message: `rule ${rule.id} has no staged rollout: it acts in full`,
      where,
      expected: 'a rule with rollout: {stage: shadow, since: <time>}',
      found: 'no rollout block',
    });
  }
  const from = rule.rollout.stage;
  const step = ROLLOUT_STAGES.indexOf(to) - ROLLOUT_STAGES.indexOf(from);
  if (step !== 1) {
    const next = ROLLOUT_STAGES[ROLLOUT_STAGES.indexOf(from) + 1];
    throw InputError.single({
      message: `cannot promote from ${from} to ${to}: rules move one stage at a time, forward`,
      where,
      expected: next ? `--to ${next}` : `nothing: ${from} is the last stage`,
      found: `--to ${to}`,
    });
  }
  const since = new Date(iso(rule.rollout.since));
  if (Number.isNaN(since.getTime()))
    throw InputError.single({
      message: 'rollout.since is not a time',
      where,
      expected: 'an ISO time such as 2026-11-25T12:00:00Z',
      found: String(rule.rollout.since),
    });

  opts.onStep?.(`gate on the data since ${since.toISOString()} (stage ${from})`);
  const window = await windowSince(store, ws, since);
  const result = await evaluateRules(store, ws.config, ws.catalog, window, [
    { id: rule.id, ast: rule.ast, predicate: compilePredicate(rule.ast, ws.catalog), approved: true },
  ]);
  const r = result.rules[0]!;
  const verdict =
    window.rows === 0
      ? { pass: false, reasons: [`no sessions since ${since.toISOString()}: the rule has not been seen at stage ${from}`] }
      : applyGate(r, ws.config.gate);
  const evidence = evidenceOf({ name: `since ${from}`, from: window.from, to: window.to }, window.rows, r);
  if (!verdict.pass && opts.override === undefined) {
    throw new GateError(
      `promotion refused: ${rule.title} (${rule.id.slice(0, 8)}) fails the gate on the ${window.rows.toLocaleString('en-US')} sessions since it ` +
        `entered ${from} (${since.toISOString()}); --override REASON to promote anyway`,
      verdict.reasons.map((m) => ({ severity: 'error' as const, message: m, where: { file, ruleId: rule.id } })),
    );
  }
  const now = opts.now ?? new Date();
  const override = verdict.pass ? null : opts.override!.trim();
  const entry = {
    from,
    to,
    at: now.toISOString(),
    reviewer: opts.reviewer.trim(),
    override,
    judged_since: since.toISOString(),
    gate: verdict.pass ? 'pass' : verdict.reasons,
    evidence: {
      sessions: window.rows,
      tp: r.counts.tp,
      fp: r.counts.fp,
      precision: evidence.precision,
      recall: evidence.recall,
      fpr_upper95: evidence.fpr_upper95,
    },
  };
  const history = (rule.rollout.history ?? []).map((h) => ({ ...h, at: iso(h.at) }));
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  doc.set('rollout', doc.createNode({ stage: to, since: now.toISOString(), history: [...history, entry] }));
  const next = doc.toString({ lineWidth: 100 });
  // what is written must load: a promotion never leaves an unreadable rule behind
  const check = parseRuleFile(next, file, ws.catalog);
  if (!check.rule) throw new InputError(`internal error: the promoted rule file would not load`, check.problems);
  writeFileAtomic(file, next, { durable: true });
  return { id: rule.id, title: rule.title, file, from, to, since: since.toISOString(), evidence, verdict, override };
}
