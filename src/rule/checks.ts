/**
 * Checks of a parsed condition against the catalog: small functions that each push findings,
 * all of them reported at once. Two tiers:
 * - structural (errors the compiler refuses to go past): size/depth limits, unknown features,
 *   operators or literals that do not fit the feature's type, empty `in` lists, bad literals;
 * - quality: literals outside the catalog range and values outside a category's closed list
 *   (errors), sensitive features, contradictions and tautologies (warnings).
 */
import { FEATURE_NAME, listedValues, type Catalog, type Feature, type FeatureType } from '../catalog/schema.js';
import { closest } from '../config/yaml.js';
import type { Problem } from '../errors.js';
import { children, isAtom, measure, type Atom, type Expr, type Literal, type Node } from './ast.js';
import { evaluate, type Row, type RowValue } from './evaluate.js';
import { MAX_DEPTH, MAX_TERMS } from './parser.js';
import { print } from './printer.js';

/** A problem about a condition, with the node it is about (for line:column) when there is one. */
export type Finding = Problem & { readonly node?: Node };

export interface CheckLimits {
  maxDepth?: number;
  maxTerms?: number;
}

/** Largest product of candidate values the contradiction/tautology analysis will enumerate. */
const MAX_TRUTH_TABLE = 4096;

/** The operator of an atom as the user wrote it, for messages. */
function operatorWord(a: Atom): string {
  switch (a.kind) {
    case 'comparison':
      return a.op;
    case 'between':
      return 'between';
    case 'in':
      return a.negated ? 'not in' : 'in';
    case 'isNull':
      return a.negated ? 'is not null' : 'is null';
    case 'feature':
      return '(a feature alone)';
  }
}

/** What each feature type allows, as text for "expected" and as a predicate. */
const ALLOWED: Record<FeatureType, { text: string; fits: (a: Atom) => boolean; literal: Literal['kind'] }> = {
  number: {
    text: '<, <=, >, >=, =, !=, between, in, not in, is null, is not null',
    fits: (a) => a.kind !== 'feature',
    literal: 'number',
  },
  category: {
    text: "=, !=, in, not in, is null, is not null (with 'quoted' values)",
    fits: (a) => a.kind === 'isNull' || a.kind === 'in' || (a.kind === 'comparison' && (a.op === '=' || a.op === '!=')),
    literal: 'string',
  },
  boolean: {
    text: 'the feature alone, not <feature>, = true, = false, != true, != false, is null, is not null',
    fits: (a) => a.kind === 'isNull' || a.kind === 'feature' || (a.kind === 'comparison' && (a.op === '=' || a.op === '!=')),
    literal: 'boolean',
  },
};

function literalsOf(a: Atom): readonly Literal[] {
  switch (a.kind) {
    case 'comparison':
      return [a.value];
    case 'between':
      return [a.low, a.high];
    case 'in':
      return a.values;
    default:
      return [];
  }
}

function shown(l: Literal): string {
  const t = print(l);
  return t.length > 60 ? `${t.slice(0, 57)}…` : t;
}

function excerptOf(e: Node): string {
  const t = print(e);
  return t.length > 120 ? `${t.slice(0, 117)}…` : t;
}

export function suggestFeature(name: string, catalog: Catalog): string | undefined {
  return closest(
    name,
    catalog.features.map((f) => f.name),
  );
}

function atomsOf(root: Expr): Atom[] {
  const out: Atom[] = [];
  const stack: Expr[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (isAtom(e)) out.push(e);
    else {
      const cs = children(e);
      for (let i = cs.length - 1; i >= 0; i--) stack.push(cs[i]!);
    }
  }
  return out;
}

function badLiteral(l: unknown): string | undefined {
  if (typeof l !== 'object' || l === null) return 'not a literal';
  const { kind, value } = l as { kind?: unknown; value?: unknown };
  if (kind === 'number') return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a number literal that is not finite';
  if (kind === 'string') {
    if (typeof value !== 'string') return 'a string literal without text';
    return value.includes('\0') ? 'a string with a NUL character' : undefined;
  }
  if (kind === 'boolean') return typeof value === 'boolean' ? undefined : 'a boolean literal that is not true or false';
  return 'not a literal';
}

/** Size and depth limits, measured without recursion so a hostile AST cannot overflow the stack. */
export function limitFindings(ast: Expr, limits: CheckLimits = {}): Finding[] {
  const maxDepth = limits.maxDepth ?? MAX_DEPTH + 1;
  const maxTerms = limits.maxTerms ?? MAX_TERMS;
  const m = measure(ast);
  const out: Finding[] = [];
  if (m.depth > maxDepth) {
    out.push({
      severity: 'error',
      message: `the condition nests deeper than ${maxDepth} levels`,
      expected: `at most ${maxDepth} levels`,
      found: `${m.depth} levels`,
      node: ast,
    });
  }
  if (m.terms > maxTerms) {
    out.push({ severity: 'error', message: `the condition has ${m.terms} terms`, expected: `at most ${maxTerms} terms`, found: `${m.terms} terms`, node: ast });
  }
  return out;
}

/**
 * Errors that make a condition meaningless or unsafe to compile. The compiler refuses any
 * AST with one of these, so model output that skipped the checker still cannot reach SQL.
 */
export function structuralFindings(ast: Expr, catalog: Catalog, limits: CheckLimits = {}): Finding[] {
  // Everything below recurses at most as deep as the AST: the iterative limit check guards it.
  const out = limitFindings(ast, limits);
  if (out.length) return out;
  const maxTerms = limits.maxTerms ?? MAX_TERMS;

  for (const a of atomsOf(ast)) {
    const f = catalog.get(a.feature);
    if (!f || !FEATURE_NAME.test(a.feature)) {
      const hint = suggestFeature(a.feature, catalog);
      out.push({
        severity: 'error',
        message: `unknown feature "${a.feature.length > 60 ? a.feature.slice(0, 57) + '…' : a.feature}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        expected: `a feature of the catalog${hint ? `, such as ${hint}` : ''}`,
        found: a.feature.length > 60 ? `${a.feature.slice(0, 57)}…` : a.feature,
        node: a,
      });
      continue;
    }
    const allowed = ALLOWED[f.type];
    if (!allowed.fits(a)) {
      out.push({
        severity: 'error',
        message:
          a.kind === 'feature'
            ? `"${f.name}" is a ${f.type} feature and cannot stand alone as a condition`
            : `operator ${operatorWord(a)} does not fit "${f.name}", a ${f.type} feature`,
        expected: allowed.text,
        found: a.kind === 'feature' ? f.name : operatorWord(a),
        node: a,
      });
      continue;
    }
    if (a.kind === 'in' && a.values.length === 0) {
      out.push({
        severity: 'error',
        message: `empty list after ${a.negated ? 'not in' : 'in'} for "${f.name}"`,
        expected: 'at least one value in the list',
        found: '()',
        node: a,
      });
    }
    if (a.kind === 'in' && a.values.length > maxTerms) {
      out.push({
        severity: 'error',
        message: `the list for "${f.name}" has ${a.values.length} values`,
        expected: `at most ${maxTerms} values`,
        found: String(a.values.length),
        node: a,
      });
    }
    for (const l of literalsOf(a)) {
      const bad = badLiteral(l);
      if (bad) {
        out.push({
          severity: 'error',
          message: `invalid literal for "${f.name}": ${bad}`,
          expected: `a ${allowed.literal} literal`,
          found: String(JSON.stringify(l)).slice(0, 60),
          node: a,
        });
      } else if (l.kind !== allowed.literal) {
        out.push({
          severity: 'error',
          message: `"${f.name}" is a ${f.type} feature but is compared with a ${l.kind}`,
          expected: f.type === 'category' ? "a 'quoted' string" : `a ${allowed.literal}`,
          found: shown(l),
          node: l,
        });
      }
    }
  }
  return out;
}

function rangeFindings(ast: Expr, catalog: Catalog): Finding[] {
  const out: Finding[] = [];
  for (const a of atomsOf(ast)) {
    const f = catalog.get(a.feature);
    if (!f) continue;
    for (const l of literalsOf(a)) {
      if (f.type === 'number' && l.kind === 'number' && f.range) {
        const [lo, hi] = f.range;
        if ((lo !== null && l.value < lo) || (hi !== null && l.value > hi)) {
          out.push({
            severity: 'error',
            message: `${shown(l)} is outside the range of "${f.name}"`,
            expected: `a value in [${lo ?? '-∞'}, ${hi ?? '∞'}]${f.unit ? ` ${f.unit}` : ''}`,
            found: shown(l),
            node: l,
          });
        }
      }
      if (f.type === 'category' && l.kind === 'string' && listedValues(f) && !listedValues(f)!.includes(l.value)) {
        // The list is closed (values outside it are rejected at ingest): such a term never matches.
        out.push({
          severity: 'error',
          message: `${shown(l)} is not one of the values the catalog lists for "${f.name}"`,
          expected: `one of ${listedValues(f)!
            .map((v) => `'${v}'`)
            .join(', ')}`,
          found: shown(l),
          node: l,
        });
      }
    }
  }
  return out;
}

function sensitiveFindings(ast: Expr, catalog: Catalog): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const a of atomsOf(ast)) {
    const f = catalog.get(a.feature);
    if (!f?.sensitive || seen.has(f.name)) continue;
    seen.add(f.name);
    out.push({
      severity: 'warning',
      message: `"${f.name}" is marked sensitive in the catalog: a rule that uses it shows it in docs and reviews`,
      expected: 'features that are not sensitive',
      found: f.name,
      node: a,
    });
  }
  return out;
}

/**
 * Candidate values of a feature that cover every distinct outcome of the given atoms: the
 * atoms only compare with their literals, so the literals, the double just above each and
 * the double just below the least (kept inside the catalog range) decide every atom the way
 * any value would.
 */
function candidates(f: Feature, atoms: readonly Atom[]): RowValue[] {
  if (f.type === 'boolean') return [true, false];
  const lits = atoms.flatMap(literalsOf);
  if (f.type === 'category') {
    const vals = new Set<string>(lits.flatMap((l) => (l.kind === 'string' ? [l.value] : [])));
    for (const v of listedValues(f) ?? []) vals.add(v);
    if (!listedValues(f)) {
      let fresh = 'other';
      while (vals.has(fresh)) fresh += '_';
      vals.add(fresh);
    }
    return [...vals];
  }
  const [lo, hi] = f.range ?? [null, null];
  const pts = new Set<number>(lits.flatMap((l) => (l.kind === 'number' ? [l.value] : [])));
  if (lo !== null) pts.add(lo);
  if (hi !== null) pts.add(hi);
  const sorted = [...pts].sort((a, b) => a - b);
  if (sorted.length === 0) return [0];
  // Every engine compares as IEEE doubles (DuckDB casts the bound literal to DOUBLE, the JS
  // evaluator uses numbers), so the analysis does too: the values just beyond a literal are
  // its neighbouring doubles, not ±1, which vanish next to 1e20 and made `x > 1e20` look empty.
  const out: number[] = [nextDouble(sorted[0]!, -1)];
  for (const p of sorted) out.push(p, nextDouble(p, 1));
  const inside = out.filter((v) => Number.isFinite(v) && (lo === null || v >= lo) && (hi === null || v <= hi));
  return inside.length ? inside : [sorted[0]!];
}

/** The adjacent double above (dir 1) or below (dir -1) a finite `x`; ±Infinity past the largest. */
export function nextDouble(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  // Away from zero means one more in the magnitude bits, towards zero one less.
  buf.setBigUint64(0, x > 0 === dir > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

type Verdict = 'never' | 'always' | 'always-when-known' | 'depends' | 'unknown';

function truth(e: Expr, catalog: Catalog): Verdict {
  const atoms = atomsOf(e);
  const byFeature = new Map<string, Atom[]>();
  for (const a of atoms) byFeature.set(a.feature, [...(byFeature.get(a.feature) ?? []), a]);
  const names = [...byFeature.keys()];
  const sets: RowValue[][] = [];
  let size = 1;
  for (const n of names) {
    const f = catalog.get(n);
    if (!f) return 'unknown';
    const c = [...candidates(f, byFeature.get(n)!), null];
    size *= c.length;
    if (size > MAX_TRUTH_TABLE) return 'unknown';
    sets.push(c);
  }
  let anyTrue = false;
  let allTrue = true;
  let allTrueKnown = true;
  const idx = new Array<number>(names.length).fill(0);
  for (;;) {
    const row: Record<string, RowValue> = {};
    let hasNull = false;
    names.forEach((n, i) => {
      const v = sets[i]![idx[i]!]!;
      row[n] = v;
      if (v === null) hasNull = true;
    });
    const r = evaluate(e, row as Row);
    if (r) anyTrue = true;
    else {
      allTrue = false;
      if (!hasNull) allTrueKnown = false;
    }
    let k = 0;
    while (k < idx.length && ++idx[k]! >= sets[k]!.length) idx[k++] = 0;
    if (k === idx.length) break;
  }
  if (!anyTrue) return 'never';
  if (allTrue) return 'always';
  // "x is not null" is trivially true where x is known: only a comparison-made tautology is news.
  if (allTrueKnown && !atoms.some((a) => a.kind === 'isNull')) return 'always-when-known';
  return 'depends';
}

function logicFindings(ast: Expr, catalog: Catalog): Finding[] {
  const out: Finding[] = [];
  const stack: Expr[] = [ast];
  while (stack.length) {
    const e = stack.pop()!;
    const v = truth(e, catalog);
    const part = e === ast ? 'the condition' : 'this part of the condition';
    if (v === 'never') {
      out.push({
        severity: 'warning',
        message: `contradiction: ${part} can never be true`,
        expected: 'a condition that some session can satisfy',
        found: excerptOf(e),
        node: e,
      });
      continue;
    }
    if (v === 'always' || v === 'always-when-known') {
      const known = atomsOf(e).map((a) => a.feature);
      out.push({
        severity: 'warning',
        message:
          v === 'always'
            ? `tautology: ${part} is always true`
            : `tautology: ${part} is true for every session where ${[...new Set(known)].join(', ')} ${new Set(known).size > 1 ? 'are' : 'is'} known`,
        expected: 'a condition that separates some sessions from others',
        found: excerptOf(e),
        node: e,
      });
      continue;
    }
    const cs = children(e);
    for (let i = cs.length - 1; i >= 0; i--) stack.push(cs[i]!);
  }
  return out;
}

/**
 * Every finding about a condition: structural errors first; the quality checks run only on a
 * structurally sound AST, since they assume known features and fitting literals.
 */
export function checkCondition(ast: Expr, catalog: Catalog, limits: CheckLimits = {}): Finding[] {
  // Past a size limit nothing else is looked at: the other checks would only add noise and time.
  const limited = limitFindings(ast, limits);
  if (limited.length) return limited;
  const structural = structuralFindings(ast, catalog, limits);
  const quality = [...rangeFindings(ast, catalog), ...sensitiveFindings(ast, catalog)];
  // A contradiction found on top of an error is noise: "5 is outside [0, 1]" already says it.
  const errors = [...structural, ...quality];
  return hasErrors(errors) ? errors : [...quality, ...logicFindings(ast, catalog)];
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
