/**
 * Lexer and parser of the condition language. Hand-written recursive descent whose only
 * recursion is through `not` and parentheses, both bounded by MAX_DEPTH; `and`/`or` chains
 * are loops, so hostile input (100,000 terms, 10,000 open parentheses) ends in a Problem,
 * never a stack overflow. Errors carry line:column, what was expected, what was found and
 * an excerpt with a caret.
 */
import { InputError, type Problem } from '../errors.js';
import { and, between, bool, comparison, featureRef, inList, isNull, not, num, or, str, type ComparisonOp, type Expr, type Literal, type Node } from './ast.js';

/** Nesting of parentheses and `not` allowed in a condition (also the AST depth limit of checks). */
export const MAX_DEPTH = 64;
/** Atoms allowed in one condition. */
export const MAX_TERMS = 1000;
/** Characters allowed in one condition; far above any real rule, low enough to lex instantly. */
export const MAX_CONDITION_LENGTH = 1_000_000;

/** Half-open range of UTF-16 offsets into the parsed text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}
/** Where each node of a parsed AST came from; keyed by node identity. */
export type Spans = WeakMap<Node, Span>;

export type ParseResult =
  { readonly ok: true; readonly ast: Expr; readonly spans: Spans } | { readonly ok: false; readonly problem: Problem; readonly span: Span };

export interface ParseLimits {
  maxDepth?: number;
  maxTerms?: number;
  maxLength?: number;
}

type TokenType = 'ident' | 'number' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma' | 'eof';
interface Token {
  type: TokenType;
  /** Source text of the token (for strings: the decoded value). */
  text: string;
  start: number;
  end: number;
  number?: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'between', 'true', 'false']);

class Fail extends Error {
  constructor(
    message: string,
    readonly span: Span,
    readonly expected?: string,
    readonly found?: string,
  ) {
    super(message);
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * The line holding `offset`, with a caret under it; long lines are cut to a window around
 * the offset so that a 100 kB one-line condition still gives a readable message.
 */
export function excerptAt(text: string, offset: number, width = 1): string {
  const lineStart = offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  const from = Math.max(lineStart, offset - 40);
  const to = Math.min(lineEnd, offset + 40);
  const prefix = from > lineStart ? '…' : '';
  const suffix = to < lineEnd ? '…' : '';
  const shown = prefix + text.slice(from, to).replaceAll('\t', ' ').replaceAll('\r', ' ') + suffix;
  const caretAt = prefix.length + (offset - from);
  const caret = ' '.repeat(Math.max(0, caretAt)) + '^'.repeat(Math.max(1, Math.min(width, to - offset)));
  return `${shown}\n${caret}`;
}

function describeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  if (cp < 32 || cp === 127) return `control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${c}'`;
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      tokens.push({ type: 'ident', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9.]/.test(c) || (c === '-' && /[0-9.]/.test(text[i + 1] ?? ''))) {
      const m = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
      if (!m) throw new Fail('malformed number', { start, end: start + 1 }, 'a number such as 120, 0.05 or 1e-3', describeChar(c));
      i += m[0].length;
      const value = Number(m[0]);
      if (!Number.isFinite(value))
        throw new Fail('number out of range (overflows to infinity)', { start, end: i }, `a number of magnitude at most ${Number.MAX_VALUE}`, m[0]);
      // A nonzero literal that rounds to 0 would silently change the rule's meaning.
      if (value === 0 && /[1-9]/.test(m[0].split(/[eE]/)[0]!)) {
        throw new Fail('number out of range (underflows to 0)', { start, end: i }, `0, or a number of magnitude at least ${Number.MIN_VALUE}`, m[0]);
      }
      tokens.push({ type: 'number', text: m[0], start, end: i, number: value });
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new Fail('unterminated string', { start, end: start + 1 }, "a closing ' (write '' for a quote inside a string)", 'end of input');
        const d = text[i]!;
        if (d === '\0') throw new Fail('a string may not contain a NUL character', { start: i, end: i + 1 }, 'printable text', describeChar(d));
        if (d === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ type: 'string', text: value, start, end: i });
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, start, end: i + 1 });
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      tokens.push({ type: 'op', text: two === '<>' ? '!=' : two, start, end: i + 2 });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>' || c === '=') {
      tokens.push({ type: 'op', text: c, start, end: i + 1 });
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const hint = c === '"' ? 'strings use single quotes' : c === ';' ? 'a condition is one expression; there are no statements' : '';
    throw new Fail(
      `unexpected character ${describeChar(ch)}${hint ? ` (${hint})` : ''}`,
      { start, end: start + ch.length },
      'a feature name, a literal, an operator, a parenthesis, `and`, `or` or `not`',
      describeChar(ch),
    );
  }
  tokens.push({ type: 'eof', text: '', start: n, end: n });
  return tokens;
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of input';
    case 'ident':
      return KEYWORDS.has(t.text.toLowerCase()) ? `\`${t.text}\`` : `feature name ${t.text}`;
    case 'number':
      return `number ${t.text}`;
    case 'string':
      return `string '${t.text.replaceAll("'", "''").slice(0, 60)}'`;
    default:
      return `'${t.text}'`;
  }
}

class Parser {
  private pos = 0;
  private depth = 0;
  private terms = 0;
  readonly spans: Spans = new WeakMap();

  constructor(
    private readonly tokens: Token[],
    private readonly maxDepth: number,
    private readonly maxTerms: number,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.type !== 'eof') this.pos++;
    return t;
  }
  private isKeyword(t: Token, kw: string): boolean {
    return t.type === 'ident' && t.text.toLowerCase() === kw;
  }
  private fail(expected: string, t: Token = this.peek(), message?: string): never {
    throw new Fail(message ?? `expected ${expected}, found ${describe(t)}`, { start: t.start, end: Math.max(t.end, t.start + 1) }, expected, describe(t));
  }
  private span<T extends Node>(node: T, start: number, end: number): T {
    // Equal literals may be one shared object; the first place wins, which is what a message wants.
    if (!this.spans.has(node)) this.spans.set(node, { start, end });
    return node;
  }
  private enter(t: Token): void {
    if (++this.depth > this.maxDepth) {
      throw new Fail(
        `the condition nests deeper than ${this.maxDepth} levels`,
        { start: t.start, end: t.end },
        `at most ${this.maxDepth} nested parentheses or \`not\``,
        `more than ${this.maxDepth}`,
      );
    }
  }

  parseAll(): Expr {
    const e = this.parseOr();
    const t = this.peek();
    if (t.type !== 'eof') {
      this.fail(t.type === 'rparen' ? 'end of input (this parenthesis closes nothing)' : '`and`, `or` or end of input', t);
    }
    return e;
  }

  private parseOr(): Expr {
    const start = this.peek().start;
    const first = this.parseAnd();
    if (!this.isKeyword(this.peek(), 'or')) return first;
    const operands = [first];
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return this.span(or(...operands), start, this.tokens[this.pos - 1]!.end);
  }

  private parseAnd(): Expr {
    const start = this.peek().start;
    const first = this.parseNot();
    if (!this.isKeyword(this.peek(), 'and')) return first;
    const operands = [first];
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      operands.push(this.parseNot());
    }
    return this.span(and(...operands), start, this.tokens[this.pos - 1]!.end);
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (this.isKeyword(t, 'not')) {
      this.next();
      this.enter(t);
      const operand = this.parseNot();
      this.depth--;
      return this.span(not(operand), t.start, this.tokens[this.pos - 1]!.end);
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    if (t.type === 'lparen') {
      this.next();
      this.enter(t);
      const e = this.parseOr();
      this.depth--;
      const close = this.peek();
      if (close.type !== 'rparen') this.fail("')' to close the '('", close);
      this.next();
      return e;
    }
    if (t.type !== 'ident' || KEYWORDS.has(t.text.toLowerCase())) {
      this.fail('a feature name or (', t);
    }
    this.next();
    if (++this.terms > this.maxTerms) {
      throw new Fail(
        `the condition has more than ${this.maxTerms} terms`,
        { start: t.start, end: t.end },
        `at most ${this.maxTerms} terms`,
        `more than ${this.maxTerms}`,
      );
    }
    const feature = t.text;
    const op = this.peek();
    if (op.type === 'op') {
      this.next();
      const value = this.parseLiteral();
      return this.span(comparison(feature, op.text as ComparisonOp, value), t.start, this.tokens[this.pos - 1]!.end);
    }
    if (this.isKeyword(op, 'between')) {
      this.next();
      const low = this.parseLiteral();
      if (!this.isKeyword(this.peek(), 'and')) this.fail('`and` between the two bounds of `between`');
      this.next();
      const high = this.parseLiteral();
      return this.span(between(feature, low, high), t.start, this.tokens[this.pos - 1]!.end);
    }
    if (this.isKeyword(op, 'in') || (this.isKeyword(op, 'not') && this.isKeyword(this.tokens[this.pos + 1]!, 'in'))) {
      const negated = this.isKeyword(op, 'not');
      this.next();
      if (negated) this.next();
      if (this.peek().type !== 'lparen') this.fail("'(' to open the list of `in`");
      this.next();
      const values: Literal[] = [];
      if (this.peek().type !== 'rparen') {
        for (;;) {
          values.push(this.parseLiteral());
          if (values.length > this.maxTerms)
            this.fail(`at most ${this.maxTerms} values in a list`, this.tokens[this.pos - 1], `an \`in\` list has more than ${this.maxTerms} values`);
          const sep = this.peek();
          if (sep.type === 'comma') {
            this.next();
            continue;
          }
          if (sep.type === 'rparen') break;
          this.fail("',' or ')' in the list of `in`", sep);
        }
      }
      this.next();
      return this.span(inList(feature, values, negated), t.start, this.tokens[this.pos - 1]!.end);
    }
    if (this.isKeyword(op, 'is')) {
      this.next();
      let negated = false;
      if (this.isKeyword(this.peek(), 'not')) {
        this.next();
        negated = true;
      }
      if (!this.isKeyword(this.peek(), 'null')) this.fail(negated ? '`null` after `is not`' : '`null` or `not null` after `is`');
      this.next();
      return this.span(isNull(feature, negated), t.start, this.tokens[this.pos - 1]!.end);
    }
    // A feature alone must be boolean; whether it is, is the checker's business (it has the catalog).
    return this.span(featureRef(feature), t.start, t.end);
  }

  private parseLiteral(): Literal {
    const t = this.peek();
    let v: Literal;
    if (t.type === 'number') v = num(t.number!);
    else if (t.type === 'string') v = str(t.text);
    else if (this.isKeyword(t, 'true')) v = bool(true);
    else if (this.isKeyword(t, 'false')) v = bool(false);
    else if (t.type === 'ident' && !KEYWORDS.has(t.text.toLowerCase())) {
      this.fail("a literal (a number, a 'string', true or false); comparing two features is not supported", t);
    } else this.fail("a literal (a number, a 'string', true or false)", t);
    this.next();
    return this.span(v, t.start, t.end);
  }
}

/** Parse a condition; never throws on bad input, returns the first problem instead. */
export function parseCondition(text: string, limits: ParseLimits = {}): ParseResult {
  const maxLength = limits.maxLength ?? MAX_CONDITION_LENGTH;
  try {
    if (typeof text !== 'string') throw new Fail('a condition must be text', { start: 0, end: 0 }, 'a string', typeof text);
    if (text.length > maxLength) {
      throw new Fail(
        `the condition is longer than ${maxLength} characters`,
        { start: maxLength, end: maxLength + 1 },
        `at most ${maxLength} characters`,
        `${text.length} characters`,
      );
    }
    const tokens = lex(text);
    if (tokens.length === 1) throw new Fail('the condition is empty', { start: 0, end: 0 }, 'an expression such as requests_per_minute > 120', 'nothing');
    const p = new Parser(tokens, limits.maxDepth ?? MAX_DEPTH, limits.maxTerms ?? MAX_TERMS);
    const ast = p.parseAll();
    return { ok: true, ast, spans: p.spans };
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    const src = typeof text === 'string' ? text : '';
    const { line, column } = lineColumn(src, e.span.start);
    const problem: Problem = {
      severity: 'error',
      message: e.message,
      where: { line, column },
      expected: e.expected,
      found: e.found,
      excerpt: src ? excerptAt(src, Math.min(e.span.start, src.length), e.span.end - e.span.start) : undefined,
    };
    return { ok: false, problem, span: e.span };
  }
}

/** Parse a condition or throw an InputError (exit 2) that says where and why. */
export function parse(text: string, limits?: ParseLimits): Expr {
  const r = parseCondition(text, limits);
  if (!r.ok) throw InputError.single({ ...r.problem, message: `invalid condition: ${r.problem.message}`, where: { file: '<condition>', ...r.problem.where } });
  return r.ast;
}
