/**
 * `rulegen explain`: why a rule fired for a session, or why it did not. Each atom ("term") of the
 * condition is evaluated on the session's values with the reference evaluator (the SQL NULL
 * semantics of DESIGN.md), with its threshold and its margin; for a session the rule missed, the
 * terms that stopped it and by how much. The sessions come from DuckDB by id (bound
 * parameters) or as a deterministic sample of true positives, false positives or misses; only
 * those few rows ever reach JS.
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { quoteIdent, type Param, type Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { children, featuresOf, isAtom, type Atom, type Expr, type Literal } from '../rule/ast.js';
import { evaluate, type Row, type RowValue } from '../rule/evaluate.js';
import { printLiteral, print } from '../rule/printer.js';
import { resolveWindow, type WindowName } from '../db/window.js';

/** One atom of the condition on one session. `margin` >= 0 means the value is on the side where the atom holds. */
export interface TermExplanation {
  /** Position of the atom in the condition, depth first. */
  index: number;
  condition: string;
  feature: string;
  type: Feature['type'];
  /** The session's value; null when unknown, undefined when hidden (sensitive). */
  value?: number | string | boolean | null;
  hidden: boolean;
  /** The literal(s) the atom compares with, as printed in the condition. */
  threshold: string | null;
  /** Signed distance to the threshold, in the feature's unit (numbers only; null when not measurable or hidden). */
  margin: number | null;
  held: boolean;
  /** False when the atom sits under an odd number of `not`s: the rule needs it NOT to hold. */
  wanted: boolean;
}

export type Outcome = 'tp' | 'fp' | 'fn' | 'tn' | 'hit' | 'miss';

export interface SessionExplanation {
  id: string;
  label: 0 | 1 | null;
  time: string;
  window: 'train' | 'test';
  hit: boolean;
  outcome: Outcome;
  terms: TermExplanation[];
  /** For a miss: indexes of the terms that stopped the rule (any one of them fixed would not always suffice for `or`). */
  stopped_by: number[];
}

export interface ExplainResult {
  condition: string;
  rule?: { id: string; title: string };
  request: { sessions: string[] } | { sample: 'tp' | 'fp' | 'fn'; n: number; window: WindowName };
  sessions: SessionExplanation[];
  /** Sensitive features whose values were hidden. */
  hidden_features: string[];
  /** The reference evaluator and the compiled SQL disagreed on these sessions (never expected). */
  disagreements: string[];
}

/** Atoms depth first, each with whether the rule wants it to hold (an odd number of `not`s above: no). */
export function termsOf(ast: Expr): { atom: Atom; wanted: boolean }[] {
  const out: { atom: Atom; wanted: boolean }[] = [];
  const stack: [Expr, boolean][] = [[ast, true]];
  while (stack.length) {
    const [e, wanted] = stack.pop()!;
    if (isAtom(e)) {
      out.push({ atom: e, wanted });
      continue;
    }
    const flip = e.kind === 'not';
    const cs = children(e);
    for (let i = cs.length - 1; i >= 0; i--) stack.push([cs[i]!, flip ? !wanted : wanted]);
  }
  return out;
}

const num = (l: Literal): number | null => (l.kind === 'number' ? l.value : null);

/** Signed distance of `v` to where `a` holds: >= 0 on the holding side (numbers only). */
export function marginOf(a: Atom, v: RowValue): number | null {
  if (typeof v !== 'number') return null;
  switch (a.kind) {
    case 'comparison': {
      const t = num(a.value);
      if (t === null) return null;
      switch (a.op) {
        case '>':
        case '>=':
          return v - t;
        case '<':
        case '<=':
          return t - v;
        case '=':
          return -Math.abs(v - t);
        case '!=':
          return Math.abs(v - t);
      }
      return null;
    }
    case 'between': {
      const lo = num(a.low);
      const hi = num(a.high);
      return lo === null || hi === null ? null : Math.min(v - lo, hi - v);
    }
    default:
      return null;
  }
}

function thresholdOf(a: Atom): string | null {
  switch (a.kind) {
    case 'comparison':
      return printLiteral(a.value);
    case 'between':
      return `${printLiteral(a.low)} .. ${printLiteral(a.high)}`;
    case 'in':
      return `(${a.values.map(printLiteral).join(', ')})`;
    default:
      return null;
  }
}

/**
 * The atoms that made `e` come out other than `want`: for `and` wanted true, its failing
 * operands; for `or` wanted true, every operand; `not` flips what is wanted.
 */
function blockers(e: Expr, row: Row, want: boolean, out: Set<Atom>): void {
  if (evaluate(e, row) === want) return;
  if (isAtom(e)) {
    out.add(e);
    return;
  }
  if (e.kind === 'not') return blockers(e.operand, row, !want, out);
  for (const o of e.operands) blockers(o, row, want, out);
}

/** Explain one row (feature name -> value). Pure: the golden tests and the CLI share it. */
export function explainRow(
  ast: Expr,
  catalog: Catalog,
  row: Row,
  opts: { showSensitive?: boolean } = {},
): { hit: boolean; terms: TermExplanation[]; stopped_by: number[] } {
  const hit = evaluate(ast, row);
  const terms = termsOf(ast);
  const stop = new Set<Atom>();
  if (!hit) blockers(ast, row, true, stop);
  const explained = terms.map(({ atom, wanted }, index): TermExplanation => {
    const f = catalog.get(atom.feature);
    const raw = Object.hasOwn(row, atom.feature) ? row[atom.feature] : undefined;
    const hidden = Boolean(f?.sensitive) && !opts.showSensitive;
    const t: TermExplanation = {
      index,
      condition: print(atom),
      feature: atom.feature,
      type: f?.type ?? 'number',
      hidden,
      threshold: thresholdOf(atom),
      margin: hidden ? null : marginOf(atom, raw),
      held: evaluate(atom, row),
      wanted,
    };
    if (!hidden) t.value = raw === undefined ? null : raw;
    return t;
  });
  const stopped_by = explained.filter((t, i) => stop.has(terms[i]!.atom)).map((t) => t.index);
  return { hit, terms: explained, stopped_by };
}

function outcomeOf(label: 0 | 1 | null, hit: boolean): Outcome {
  if (label === null) return hit ? 'hit' : 'miss';
  if (label === 1) return hit ? 'tp' : 'fn';
  return hit ? 'fp' : 'tn';
}

export interface ExplainRequest {
  sessions?: readonly string[];
  sample?: { kind: 'tp' | 'fp' | 'fn'; n: number; window: WindowName };
  showSensitive?: boolean;
}

const toRowValue = (v: unknown): RowValue => (typeof v === 'bigint' ? Number(v) : (v as RowValue));

/** Fetch the sessions asked for and explain each. Unknown ids: InputError (exit 2) listing them all. */
export async function explainSessions(store: Store, config: Config, catalog: Catalog, ast: Expr, req: ExplainRequest): Promise<ExplainResult> {
  const table = quoteIdent(config.data.table);
  const id = quoteIdent(config.data.id);
  const label = quoteIdent(config.data.label);
  const time = quoteIdent(config.data.time);
  const pred = compilePredicate(ast, catalog);
  const features = featuresOf(ast);
  const testWindow = await resolveWindow(store, config, 'test');
  const cols = [
    `CAST(${id} AS VARCHAR) AS rulegen_id`,
    `${label} AS rulegen_label`,
    `${time} AS rulegen_time`,
    `coalesce(${pred.sql}, false) AS rulegen_hit`,
    ...features.map((f) => quoteIdent(f)),
  ].join(', ');
  let rows: Record<string, unknown>[];
  let request: ExplainResult['request'];
  if (req.sample) {
    const w = await resolveWindow(store, config, req.sample.window);
    const which = { tp: `${label} = 1 AND (${pred.sql})`, fp: `${label} = 0 AND (${pred.sql})`, fn: `${label} = 1 AND NOT coalesce(${pred.sql}, false)` }[
      req.sample.kind
    ];
    // Ordered by a hash of the id: the same sessions every run, spread over the window rather than its first hour.
    rows = await store.all(
      `SELECT ${cols} FROM ${table} WHERE (${w.where}) AND ${which} ORDER BY hash(CAST(${id} AS VARCHAR)), CAST(${id} AS VARCHAR) LIMIT ?`,
      [...pred.parameters, ...w.parameters, ...pred.parameters, req.sample.n] as Param[],
    );
    request = { sample: req.sample.kind, n: req.sample.n, window: req.sample.window };
  } else {
    const ids = [...new Set(req.sessions ?? [])];
    if (ids.length === 0)
      throw InputError.single({
        message: 'no sessions to explain',
        where: { field: '--session' },
        expected: 'one or more session ids, or --sample tp|fp|fn [N]',
        found: 'none',
      });
    rows = await store.all(`SELECT ${cols} FROM ${table} WHERE CAST(${id} AS VARCHAR) IN (${ids.map(() => '?').join(', ')})`, [...pred.parameters, ...ids]);
    const found = new Set(rows.map((r) => String(r['rulegen_id'])));
    const missing = ids.filter((x) => !found.has(x));
    if (missing.length) {
      throw new InputError(
        `${missing.length} unknown session id${missing.length > 1 ? 's' : ''}`,
        missing.map((m) => ({
          severity: 'error' as const,
          message: `unknown session id "${m}"`,
          where: { field: '--session' },
          expected: `a ${config.data.id} in the ${config.data.table} table`,
          found: m,
        })),
      );
    }
    const order = new Map(ids.map((x, i) => [x, i]));
    rows.sort((a, b) => order.get(String(a['rulegen_id']))! - order.get(String(b['rulegen_id']))!);
    request = { sessions: ids };
  }
  const cutoff = new Date(testWindow.cutoff).getTime();
  const disagreements: string[] = [];
  const sessions = rows.map((r): SessionExplanation => {
    const row: Record<string, RowValue> = {};
    for (const f of features) row[f] = toRowValue(r[f]);
    const e = explainRow(ast, catalog, row, { showSensitive: req.showSensitive });
    const sid = String(r['rulegen_id']);
    if (e.hit !== Boolean(r['rulegen_hit'])) disagreements.push(sid);
    const lv = r['rulegen_label'];
    const lbl = lv === null || lv === undefined ? null : Number(lv) === 1 ? 1 : 0;
    const ts = r['rulegen_time'] instanceof Date ? (r['rulegen_time'] as Date) : new Date(String(r['rulegen_time']));
    return {
      id: sid,
      label: lbl,
      time: ts.toISOString(),
      window: ts.getTime() >= cutoff ? 'test' : 'train',
      hit: e.hit,
      outcome: outcomeOf(lbl, e.hit),
      terms: e.terms,
      stopped_by: e.stopped_by,
    };
  });
  const hidden = req.showSensitive ? [] : features.filter((f) => catalog.get(f)?.sensitive);
  return { condition: print(ast), request, sessions, hidden_features: hidden, disagreements };
}
