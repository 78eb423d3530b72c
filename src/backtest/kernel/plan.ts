/**
 * The kernel's plan: a batch of rule ASTs turned into (1) the columns to read, (2) atomic
 * predicates deduplicated across every rule, and (3) one small bitmap program per rule.
 *
 * NULL semantics, bit for bit as the compiler's SQL (src/compile/compile.ts): an atom on NULL
 * is NULL in SQL, `and`/`or` keep NULL exactly where two-valued logic with "NULL is false" says
 * false (they are monotone), and `not p` is compiled `not coalesce(p, false)`. So one bitmap per
 * node suffices: an atom's bit is set when the feature is not NULL and the comparison holds, and
 * AND/OR/NOT are the plain bitwise operators (NOT sets the bits of NULL rows, as `not coalesce`
 * does). Comparisons run in float64 on the value DuckDB compares: a BIGINT/HUGEINT/DECIMAL column
 * is read `CAST(... AS DOUBLE)`, which is the implicit cast DuckDB applies to `col op ?::DOUBLE`.
 */
import type { Catalog } from '../../catalog/schema.js';
import type { ComparisonOp, Expr, Literal } from '../../rule/ast.js';

/** What a column holds in a block; categories and segments are dictionary codes. */
export type ColumnKind = 'number' | 'boolean' | 'category' | 'label' | 'time' | 'day';

/** A column the kernel reads. `key` is unique per (kind, column). */
export interface ColumnSpec {
  key: string;
  kind: ColumnKind;
  column: string;
}

export const OPS: Readonly<Record<ComparisonOp, number>> = { '<': 0, '<=': 1, '>': 2, '>=': 3, '=': 4, '!=': 5 };

/** An atomic predicate over one column of the block. `col` indexes Plan.columns. */
export type AtomSpec =
  | { t: 'cmp'; col: number; op: number; v: number }
  | { t: 'between'; col: number; lo: number; hi: number }
  | { t: 'in'; col: number; values: number[]; negated: boolean }
  /** Category atoms: true for dictionary code c iff lut[c] = 1 (NULL rows masked by validity). */
  | { t: 'lut'; col: number; lut: Uint8Array }
  | { t: 'null'; col: number; negated: boolean };

/** One bitmap operation: `out` = op over `ins` (slots; atoms are slots 0..atoms-1). */
export interface Instr {
  op: 'and' | 'or' | 'not';
  out: number;
  ins: number[];
}

export class KernelUnsupportedError extends Error {
  override readonly name = 'KernelUnsupportedError';
}

/** Category dictionaries by column name: code = index in the array. */
export type Dictionaries = ReadonlyMap<string, readonly string[]>;

export interface ExprPlan {
  atoms: AtomSpec[];
  /** Key of each atom (for tests and diagnostics). */
  atomKeys: string[];
  program: Instr[];
  /** Total slots (atoms + internal nodes). */
  slots: number;
  /** Root slot of each expression, in input order. */
  roots: number[];
}

/** The columns an expression reads, by feature type. */
export function columnsOf(exprs: readonly Expr[], catalog: Catalog): ColumnSpec[] {
  const out = new Map<string, ColumnSpec>();
  const stack = [...exprs];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.kind === 'and' || e.kind === 'or') stack.push(...e.operands);
    else if (e.kind === 'not') stack.push(e.operand);
    else {
      const f = catalog.get(e.feature);
      if (!f) throw new KernelUnsupportedError(`unknown feature ${e.feature}`);
      const kind: ColumnKind = f.type;
      out.set(`${kind}:${f.name}`, { key: `${kind}:${f.name}`, kind, column: f.name });
    }
  }
  return [...out.values()];
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** DuckDB compares VARCHARs by their UTF-8 bytes; JS's `<` compares UTF-16 code units. */
function compareStrings(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b));
}

function literalNumber(l: Literal, feature: string): number {
  if (l.kind === 'number') return l.value;
  if (l.kind === 'boolean') return l.value ? 1 : 0;
  throw new KernelUnsupportedError(`a string literal on the non-category feature ${feature}`);
}

/**
 * Plan a batch of expressions over `columns` (whose index is the atom's `col`). Atoms and
 * sub-expressions with the same structure share one slot.
 */
export function planExprs(exprs: readonly Expr[], catalog: Catalog, columnIndex: ReadonlyMap<string, number>, dicts: Dictionaries): ExprPlan {
  const atoms: AtomSpec[] = [];
  const atomKeys: string[] = [];
  const program: Instr[] = [];
  const bySig = new Map<string, number>();
  // atoms first (slots 0..A-1), so the worker can evaluate them before any instruction
  const atomSlot = new Map<string, number>();
  const internal: { sig: string; op: Instr['op']; ins: string[] }[] = [];
  const internalSigs = new Set<string>();

  const sigOf = (e: Expr): string => {
    // an explicit stack keeps a very deep AST from overflowing the JS stack
    type Frame = { e: Expr; done: boolean };
    const memo = new Map<Expr, string>();
    const stack: Frame[] = [{ e, done: false }];
    while (stack.length) {
      const f = stack.pop()!;
      const x = f.e;
      if (memo.has(x)) continue;
      if (x.kind === 'and' || x.kind === 'or' || x.kind === 'not') {
        const kids = x.kind === 'not' ? [x.operand] : x.operands;
        if (!f.done) {
          stack.push({ e: x, done: true });
          for (const k of kids) if (!memo.has(k)) stack.push({ e: k, done: false });
          continue;
        }
        const ins = kids.map((k) => memo.get(k)!);
        const sig = `${x.kind}(${ins.join(',')})`;
        memo.set(x, sig);
        if (!internalSigs.has(sig)) {
          internalSigs.add(sig);
          internal.push({ sig, op: x.kind, ins });
        }
      } else {
        const a = atomOf(x);
        const sig = `atom:${a.key}`;
        memo.set(x, sig);
        if (!atomSlot.has(sig)) {
          atomSlot.set(sig, atoms.length);
          atoms.push(a.spec);
          atomKeys.push(a.key);
        }
      }
    }
    return memo.get(e)!;
  };

  const atomOf = (x: Exclude<Expr, { kind: 'and' | 'or' | 'not' }>): { key: string; spec: AtomSpec } => {
    const f = catalog.get(x.feature);
    if (!f) throw new KernelUnsupportedError(`unknown feature ${x.feature}`);
    const col = columnIndex.get(`${f.type}:${f.name}`);
    if (col === undefined) throw new KernelUnsupportedError(`column ${f.name} not loaded`);
    if (x.kind === 'isNull') return { key: `${f.name} null ${x.negated}`, spec: { t: 'null', col, negated: x.negated } };
    if (f.type === 'category') {
      const dict = dicts.get(f.name) ?? [];
      const lut = new Uint8Array(Math.max(1, dict.length));
      const str = (l: Literal) => {
        if (l.kind !== 'string') throw new KernelUnsupportedError(`a ${l.kind} literal on the category feature ${f.name}`);
        return l.value;
      };
      let key: string;
      if (x.kind === 'comparison') {
        const s = str(x.value);
        const op = x.op;
        dict.forEach((v, i) => {
          const c = compareStrings(v, s);
          lut[i] = Number(op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '=' ? c === 0 : c !== 0);
        });
        key = `${f.name} ${op} ${JSON.stringify(s)}`;
      } else if (x.kind === 'between') {
        const lo = str(x.low);
        const hi = str(x.high);
        dict.forEach((v, i) => (lut[i] = Number(compareStrings(v, lo) >= 0 && compareStrings(v, hi) <= 0)));
        key = `${f.name} between ${JSON.stringify([lo, hi])}`;
      } else if (x.kind === 'in') {
        const set = new Set(x.values.map(str));
        dict.forEach((v, i) => (lut[i] = Number(set.has(v) !== x.negated)));
        key = `${f.name} ${x.negated ? 'not in' : 'in'} ${JSON.stringify([...set].sort())}`;
      } else throw new KernelUnsupportedError(`a bare category feature ${f.name}`);
      return { key, spec: { t: 'lut', col, lut } };
    }
    if (x.kind === 'feature') {
      if (f.type !== 'boolean') throw new KernelUnsupportedError(`a bare non-boolean feature ${f.name}`);
      return { key: `${f.name} = 1`, spec: { t: 'cmp', col, op: OPS['='], v: 1 } };
    }
    if (x.kind === 'comparison') {
      const v = literalNumber(x.value, f.name);
      return { key: `${f.name} ${x.op} ${v}`, spec: { t: 'cmp', col, op: OPS[x.op], v } };
    }
    if (x.kind === 'between') {
      const lo = literalNumber(x.low, f.name);
      const hi = literalNumber(x.high, f.name);
      return { key: `${f.name} between ${lo} ${hi}`, spec: { t: 'between', col, lo, hi } };
    }
    const values = [...new Set(x.values.map((l) => literalNumber(l, f.name)))].sort((a, b) => a - b);
    return { key: `${f.name} ${x.negated ? 'not in' : 'in'} ${values.join(',')}`, spec: { t: 'in', col, values, negated: x.negated } };
  };

  const rootSigs = exprs.map(sigOf);
  atomSlot.forEach((slot, sig) => bySig.set(sig, slot));
  let slots = atoms.length;
  // `internal` is in post-order (children before parents), so every input has a slot already
  for (const n of internal) {
    if (bySig.has(n.sig)) continue;
    const out = slots++;
    bySig.set(n.sig, out);
    program.push({ op: n.op, out, ins: n.ins.map((s) => bySig.get(s)!) });
  }
  return { atoms, atomKeys, program, slots, roots: rootSigs.map((s) => bySig.get(s)!) };
}
