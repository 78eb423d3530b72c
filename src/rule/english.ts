/**
 * Plain-English rendering of a condition for ops reviewers, in the catalog's words: "more than
 * 120 requests per minute and under 5% static assets". Every caller puts it after "sessions
 * with", so each reading is a phrase that fits there ("session duration under 3 seconds",
 * "claimed browser 'chrome' or 'firefox'", "no webdriver flag set"), never a sentence. It is for
 * reading, not parsing: the condition text stays the reference.
 *
 * Words come from the feature's `label` (a short noun phrase); without one, from its name. A
 * label that mentions the unit ("distinct paths" counted in paths, "requests per minute" for
 * requests/min) goes after the value, so the unit is said once; any other label goes before
 * the comparison and the unit after the value ("session duration under 3 seconds"). Nothing is
 * pluralised or singularised: English plurals cannot be guessed from a name.
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

/** Units of a share of 0..1, shown as a percentage when the range says so. */
const FRACTION_UNITS = new Set(['ratio', 'share', 'fraction']);
/** Units already in percent: shown with a percent sign, not scaled. */
const PERCENT_UNITS = new Set(['%', 'percent']);
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
/** Abbreviations common in feature names, spelled out when a name has to stand in for a label. */
const NAME_WORDS: Record<string, string> = {
  ua: 'user agent',
  ip: 'IP',
  js: 'JavaScript',
  tls: 'TLS',
  asn: 'ASN',
  cv: 'CV',
  url: 'URL',
  http: 'HTTP',
  nav: 'navigation',
  avg: 'average',
  num: 'number of',
};
/** A unit at the end of a name, said after the value instead ("mean_interval_ms" with unit ms). */
const NAME_UNIT_SUFFIX = /_(ms|s|sec|secs|seconds|min|mins|minutes|h|hours|bytes|kb|mb|pct|percent)$/;

const formats = new Map<string, Intl.NumberFormat>();
function numberFormat(key: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.NumberFormat('en-US', { useGrouping: false, ...opts })));
  return f;
}

/**
 * A number for reading: integers as integers, others to four significant digits but never
 * rounding the integer part, no trailing zeros, no exponent, no float noise (0.07 * 100).
 */
export function formatNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1 || abs === 0) {
    const digits = Math.max(0, 4 - Math.trunc(abs).toFixed(0).length);
    return numberFormat(`f${digits}`, { maximumFractionDigits: digits }).format(v);
  }
  return numberFormat('s4', { maximumSignificantDigits: 4 }).format(v);
}

/** The name in words, for a catalog without labels: "night_activity_ratio" -> "night activity ratio". */
function nameWords(f: Feature): string {
  let name = f.unit ? f.name.replace(NAME_UNIT_SUFFIX, '') : f.name;
  // "plugins_count" counted in plugins reads "plugins": the count is what the value says.
  if (f.unit && /_count$/.test(name) && mentions(name.replace(/_count$/, '').replaceAll('_', ' '), f.unit)) name = name.replace(/_count$/, '');
  return name
    .split('_')
    .filter((w) => w.length > 0)
    .map((w) => NAME_WORDS[w] ?? w)
    .join(' ');
}

/** The feature's short noun phrase: the catalog's label, else its name in words. */
export function featureLabel(f: Feature): string {
  return f.label?.trim() || nameWords(f);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `phrase` says `word` as a whole word (case-insensitive): then the unit need not be repeated. */
function mentions(phrase: string, word: string): boolean {
  return word.length > 0 && new RegExp(`(^|[^A-Za-z0-9])${escapeRegExp(word)}($|[^A-Za-z0-9])`, 'i').test(phrase);
}

/** 100 for a 0..1 share, 1 for a feature already in percent, undefined when not a share. */
function percentScale(f: Feature): number | undefined {
  const unit = f.unit?.trim().toLowerCase();
  if (!unit) return undefined;
  if (PERCENT_UNITS.has(unit)) return 1;
  if (!FRACTION_UNITS.has(unit)) return undefined;
  // A coefficient of variation is a "ratio" too, but unbounded: only a 0..1 range makes it a share.
  if (f.range) return f.range[0] === 0 && f.range[1] === 1 ? 100 : undefined;
  return /_(ratio|share|fraction)$/.test(f.name) ? 100 : undefined;
}

/** "requests/min" -> numerator "requests", "requests per minute"; undefined when the unit is not a rate. */
function rateUnit(unit: string): { numerator: string; text: string } | undefined {
  if (!unit.includes('/')) return undefined;
  const [num, den] = unit.split('/', 2).map((s) => s.trim()) as [string, string];
  return { numerator: num, text: join(num, 'per', TIME_WORDS[den] ?? den) };
}

function literalText(l: Literal): string {
  return l.kind === 'number' ? formatNumber(l.value) : l.kind === 'string' ? `'${l.value}'` : String(l.value);
}

/** How a number feature reads: `subject` before the comparison, values, then `suffix`. */
interface Reading {
  subject: string;
  value(l: Literal): string;
  suffix: string;
}

function reading(f: Feature): Reading {
  const label = featureLabel(f);
  const unit = f.unit?.trim() ?? '';
  const scale = percentScale(f);
  if (scale !== undefined) {
    const value = (l: Literal) => (l.kind === 'number' ? `${formatNumber(l.value * scale)}%` : literalText(l));
    // A label names what the share counts ("static assets"); a bare name does not ("static asset ratio").
    return f.label ? { subject: '', value, suffix: label } : { subject: label, value, suffix: '' };
  }
  const rate = rateUnit(unit);
  if (mentions(label, rate ? rate.numerator : unit)) return { subject: '', value: literalText, suffix: label };
  if (rate) return { subject: label, value: literalText, suffix: rate.text };
  // A one-word unit ("seconds", "ms") follows the value; "ratio" is no unit and "score 0-100" is a scale, not a unit.
  // A count ("request count") says what it counts: "request count more than 500 requests" would say it twice.
  const suffix = /^[A-Za-z]+$/.test(unit) && !FRACTION_UNITS.has(unit.toLowerCase()) && !/ (count|number)$/.test(label) ? unit : '';
  return { subject: label, value: literalText, suffix };
}

function join(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join(' ');
}

/** "a", "a or b", "a, b or c". */
function list(items: readonly string[], last: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

/** "known"/"unknown" for `is null`, flipped by an enclosing `not` (exact: `is null` is never NULL). */
function nullness(a: Extract<Atom, { kind: 'isNull' }>, f: Feature, negated: boolean): string {
  return `${featureLabel(f)} ${a.negated !== negated ? 'known' : 'unknown'}`;
}

/**
 * Each atom renders plainly or, with `negated`, as the reading of `not <atom>`; undefined when
 * no phrase says that naturally (the caller then writes "not (...)").
 */
type AtomReader = (a: Atom, f: Feature, negated: boolean) => string | undefined;

const numberAtom: AtomReader = (a, f, negated) => {
  const not = negated ? 'not' : '';
  const r = reading(f);
  switch (a.kind) {
    case 'comparison':
      return join(r.subject, not, OP_WORDS[a.op], r.value(a.value), r.suffix);
    case 'between':
      return join(r.subject, not, 'between', r.value(a.low), 'and', r.value(a.high), r.suffix);
    case 'in': {
      const lead = a.values.length === 1 ? (a.negated ? 'other than' : 'exactly') : a.negated ? 'none of' : 'one of';
      return join(r.subject, not, lead, list(a.values.map(r.value), 'or'), r.suffix);
    }
    case 'isNull':
      return nullness(a, f, negated);
    case 'feature':
      return negated ? `no ${featureLabel(f)}` : featureLabel(f);
  }
};

const categoryAtom: AtomReader = (a, f, negated) => {
  const not = negated ? 'not' : '';
  const s = featureLabel(f);
  switch (a.kind) {
    case 'comparison':
      return join(s, not, a.op === '!=' ? 'other than' : '', literalText(a.value));
    case 'in':
      return join(s, not, a.negated ? (a.values.length === 1 ? 'other than' : 'none of') : '', list(a.values.map(literalText), 'or'));
    case 'isNull':
      return nullness(a, f, negated);
    default:
      return numberAtom(a, f, negated);
  }
};

/** A boolean reads as its label when true and "no <label>" when false ("no webdriver flag set"). */
const booleanAtom: AtomReader = (a, f, negated) => {
  const s = featureLabel(f);
  let truth: boolean;
  switch (a.kind) {
    case 'feature':
      truth = true;
      break;
    case 'comparison':
      truth = (a.op === '=') === (a.value.kind === 'boolean' ? a.value.value : true);
      break;
    case 'isNull':
      return nullness(a, f, negated);
    default:
      return numberAtom(a, f, negated);
  }
  // `not (x = false)` also holds when x is unknown: "x" alone would claim more than it says.
  if (negated && !truth) return undefined;
  return truth && !negated ? s : `no ${s}`;
};

const ATOM_READERS: Record<Feature['type'], AtomReader> = { number: numberAtom, category: categoryAtom, boolean: booleanAtom };

function atom(a: Atom, catalog: Catalog, negated: boolean): string | undefined {
  const f = catalog.get(a.feature);
  if (!f) return negated ? undefined : a.feature;
  return ATOM_READERS[f.type](a, f, negated);
}

const compound = (e: Expr) => e.kind === 'and' || e.kind === 'or';

/**
 * An operand of and/or: compound ones in parentheses so the grouping survives in words, and so
 * is a negated compound ("(neither a nor b) and c", not "neither a nor b and c").
 */
function operand(e: Expr, c: Catalog): string {
  return compound(e) || (e.kind === 'not' && compound(e.operand)) ? `(${english(e, c)})` : english(e, c);
}

/** `not`: atoms negate in place, "neither a nor b" for or, "not both a and b" for and. */
function negation(o: Expr, c: Catalog): string {
  switch (o.kind) {
    case 'or': {
      const parts = o.operands.map((x) => operand(x, c));
      // "neither no referrer nor ..." is a double negative that readers trip on: keep the parentheses then.
      if (parts.some((p) => /^(no|not|neither) /.test(p))) return `not (${parts.join(' or ')})`;
      return `neither ${parts.join(' nor ')}`;
    }
    case 'and': {
      const parts = o.operands.map((x) => operand(x, c));
      return parts.length === 2 ? `not both ${parts[0]} and ${parts[1]}` : `not all of ${list(parts, 'and')}`;
    }
    case 'not':
      return `not (${english(o, c)})`;
    default:
      return atom(o, c, true) ?? `not (${english(o, c)})`;
  }
}

type Renderer = { [K in ExprKind]: (e: Extract<Expr, { kind: K }>, catalog: Catalog) => string };

const RENDERERS: Renderer = {
  comparison: (e, c) => atom(e, c, false)!,
  between: (e, c) => atom(e, c, false)!,
  in: (e, c) => atom(e, c, false)!,
  isNull: (e, c) => atom(e, c, false)!,
  feature: (e, c) => atom(e, c, false)!,
  and: (e, c) => e.operands.map((o) => operand(o, c)).join(' and '),
  or: (e, c) => e.operands.map((o) => operand(o, c)).join(' or '),
  not: (e, c) => negation(e.operand, c),
};

/** A condition in plain English, in the catalog's words, to follow "sessions with". */
export function english(e: Expr, catalog: Catalog): string {
  return (RENDERERS[e.kind] as (e: Expr, c: Catalog) => string)(e, catalog);
}

/**
 * One value of a feature with its unit said once, for evidence text ("52 distinct paths",
 * "52.9% night-time sessions", "13900 milliseconds", "0.13" for a unitless ratio).
 */
export function valueText(f: Feature, v: number): string {
  const r = reading(f);
  return join(r.value({ kind: 'number', value: v }), r.suffix);
}
