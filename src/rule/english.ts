/**
 * Plain-English rendering of a condition for ops reviewers, from the catalog's descriptions
 * and units: "more than 120 requests per minute and under 5% static assets". It is for
 * reading, not parsing: the condition text stays the reference.
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import type { Atom, ComparisonOp, Expr, ExprKind, Literal } from './ast.js';

const OP_WORDS: Record<ComparisonOp, string> = {
  '>': 'more than',
  '>=': 'at least',
  '<': 'under',
  '<=': 'at most',
  '=': 'exactly',
  '!=': 'other than',
};

const PERCENT_UNITS = new Set(['%', 'percent', 'ratio', 'share', 'fraction']);
const TIME_WORDS: Record<string, string> = {
  s: 'second',
  sec: 'second',
  second: 'second',
  min: 'minute',
  minute: 'minute',
  h: 'hour',
  hr: 'hour',
  hour: 'hour',
  d: 'day',
  day: 'day',
  session: 'session',
  request: 'request',
};

function formatNumber(v: number): string {
  // 0.07 * 100 is 7.000000000000001 in binary floating point; twelve digits hide that.
  return String(Number(v.toPrecision(12)));
}

function lowerFirst(s: string): string {
  // Keep acronyms ("JS", "TLS") as written.
  return s.length > 1 && s[1] === s[1]!.toUpperCase() && /[A-Z]/.test(s[1]!) ? s : s.charAt(0).toLowerCase() + s.slice(1);
}

/** The description's first sentence: the rest is detail for the catalog, not for a rule's reading. */
function sentence(desc: string): string {
  const first = desc.trim().split(/(?<=\.)\s+(?=[A-Z])/)[0]!;
  return lowerFirst(first.replace(/\.$/, ''));
}

/** A short description reads better than the name; a long one is a definition, not a label. */
function phrase(f: Feature): string {
  const d = f.description.trim().replace(/\.$/, '');
  if (d.split(/\s+/).length <= 5 && !/[.;:]/.test(d)) return lowerFirst(d);
  // "mean_interval_ms" with unit ms reads "mean interval ... ms": the unit is said once, after the value.
  const name = f.unit ? f.name.replace(/_(ms|s|sec|secs|seconds|min|minutes|bytes|kb|mb|pct|percent)$/, '') : f.name;
  return name.replaceAll('_', ' ');
}

function plural(noun: string): string {
  return /s$/.test(noun) ? noun : `${noun}s`;
}

function percentNoun(f: Feature): string {
  const d = f.description.trim().replace(/\.$/, '');
  if (d.split(/\s+/).length <= 5 && !/[.;:]/.test(d)) return lowerFirst(d);
  const base = f.name.replace(/_(ratio|share|fraction|pct|percent|rate)$/, '').replaceAll('_', ' ');
  // "static asset" -> "static assets", but "error 4xx" stays as it is
  return /[0-9x]$/i.test(base) ? base : plural(base);
}

/** A unitless ratio that is not a share of something ("interarrival_cv"): no percent sign. */
function isShare(f: Feature, unit: string): boolean {
  return unit === '%' || unit.toLowerCase() === 'percent' || /_(ratio|share|fraction|pct|percent|rate)$/.test(f.name);
}

/** "requests/min" -> "requests per minute"; undefined when the unit is not a rate. */
function rateUnit(unit: string | undefined): { numerator: string; text: string } | undefined {
  if (!unit || !unit.includes('/')) return undefined;
  const [num, den] = unit.split('/', 2) as [string, string];
  const per = TIME_WORDS[den.trim()] ?? den.trim();
  return { numerator: num.trim(), text: `${num.trim()}${num.trim() ? ' ' : ''}per ${per}`.trim() };
}

interface Quantity {
  /** Words before the comparison ("session duration"), empty when the unit carries the noun. */
  subject: string;
  value(v: Literal): string;
  /** Words after the value(s) ("requests per minute", "% static assets"). */
  suffix: string;
}

function quantity(f: Feature): Quantity {
  const unit = f.unit?.trim();
  if (unit && PERCENT_UNITS.has(unit.toLowerCase()) && isShare(f, unit)) {
    const scale = unit === '%' || unit.toLowerCase() === 'percent' ? 1 : 100;
    return { subject: '', value: (l) => (l.kind === 'number' ? `${formatNumber(l.value * scale)}%` : String(l.value)), suffix: percentNoun(f) };
  }
  const rate = rateUnit(unit);
  const value = (l: Literal): string => (l.kind === 'number' ? formatNumber(l.value) : l.kind === 'string' ? `'${l.value}'` : String(l.value));
  if (rate && rate.numerator) return { subject: '', value, suffix: rate.text };
  if (rate) return { subject: phrase(f), value, suffix: rate.text };
  const subject = phrase(f);
  if (unit && PERCENT_UNITS.has(unit.toLowerCase())) return { subject, value, suffix: '' };
  // "distinct paths" counted in "paths": "more than 657 distinct paths", the noun said once
  if (unit && subject.endsWith(unit)) return { subject: '', value, suffix: subject };
  return { subject, value, suffix: unit ?? '' };
}

function join(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join(' ');
}

function list(items: readonly string[], last: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

function numberAtom(a: Atom, f: Feature): string {
  const q = quantity(f);
  switch (a.kind) {
    case 'comparison':
      return join(q.subject, OP_WORDS[a.op], q.value(a.value), q.suffix);
    case 'between':
      return join(q.subject, 'between', q.value(a.low), 'and', q.value(a.high), q.suffix);
    case 'in':
      return join(q.subject, a.negated ? 'none of' : 'one of', list(a.values.map(q.value), 'or'), q.suffix);
    case 'isNull':
      return `${phrase(f)} is ${a.negated ? 'known' : 'unknown'}`;
    case 'feature':
      return phrase(f);
  }
}

function categoryAtom(a: Atom, f: Feature): string {
  const s = phrase(f);
  const q = (l: Literal) => (l.kind === 'string' ? `'${l.value}'` : String(l.value));
  switch (a.kind) {
    case 'comparison':
      return `${s} is ${a.op === '!=' ? 'not ' : ''}${q(a.value)}`;
    case 'in':
      return a.values.length === 1 ? `${s} is ${a.negated ? 'not ' : ''}${q(a.values[0]!)}` : `${s} is ${a.negated ? 'none' : 'one'} of ${list(a.values.map(q), 'or')}`;
    case 'isNull':
      return `${s} is ${a.negated ? 'known' : 'unknown'}`;
    default:
      return numberAtom(a, f);
  }
}

function booleanAtom(a: Atom, f: Feature): string {
  const s = sentence(f.description);
  switch (a.kind) {
    case 'feature':
      return `${s} is true`;
    case 'comparison': {
      const v = a.value.kind === 'boolean' ? a.value.value : true;
      return `${s} is ${(a.op === '=') === v ? 'true' : 'false'}`;
    }
    case 'isNull':
      return `whether ${s} is ${a.negated ? 'known' : 'unknown'}`;
    default:
      return numberAtom(a, f);
  }
}

function atom(a: Atom, catalog: Catalog): string {
  const f = catalog.get(a.feature);
  if (!f) return a.feature;
  if (f.type === 'boolean') return booleanAtom(a, f);
  if (f.type === 'category') return categoryAtom(a, f);
  return numberAtom(a, f);
}

type Renderer = { [K in ExprKind]: (e: Extract<Expr, { kind: K }>, catalog: Catalog) => string };

const RENDERERS: Renderer = {
  comparison: atom,
  between: atom,
  in: atom,
  isNull: atom,
  feature: atom,
  and: (e, c) => e.operands.map((o) => (o.kind === 'or' || o.kind === 'and' ? `(${english(o, c)})` : english(o, c))).join(' and '),
  or: (e, c) => e.operands.map((o) => (o.kind === 'and' || o.kind === 'or' ? `(${english(o, c)})` : english(o, c))).join(' or '),
  not: (e, c) => {
    const o = e.operand;
    if (o.kind === 'feature' && c.get(o.feature)?.type === 'boolean') return `${sentence(c.get(o.feature)!.description)} is not true`;
    return o.kind === 'and' || o.kind === 'or' || o.kind === 'not' ? `not (${english(o, c)})` : `not ${english(o, c)}`;
  },
};

/** A condition in plain English, in the catalog's words. */
export function english(e: Expr, catalog: Catalog): string {
  return (RENDERERS[e.kind] as (e: Expr, c: Catalog) => string)(e, catalog);
}
