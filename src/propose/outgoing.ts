/**
 * Everything a model is sent passes through here. Two jobs:
 *
 * - `forModel` is THE privacy filter: the one function that turns what propose gathered from the
 *   workspace (catalog, ranking, rule files) into the context a prompt may render. It drops
 *   sensitive features, category values that are not on a closed catalog list, and whole rules
 *   whose condition names such a feature or value (a title alone can carry the threshold:
 *   offline titles are the condition in English).
 * - `quote` makes text that came from files, data or a model inert: one JSON string, control
 *   and line-separator characters escaped, length-capped. A value can then neither start a new
 *   prompt section nor pass for an instruction; the templates say quoted text is data.
 *
 * `clipEcho` and `excerpt` bound what a repair turn echoes of a model's own answer.
 */
import { listedValues, makeCatalog, type Catalog, type Feature } from '../catalog/schema.js';
import { children, isAtom, num, type Expr, type Literal } from '../rule/ast.js';
import { print } from '../rule/printer.js';
import type { QuantileSet } from '../rank/types.js';

/** Character caps of quoted data, by what it is. */
export const QUOTE_LIMITS = {
  value: 80,
  unit: 40,
  description: 600,
  title: 160,
  condition: 600,
  reason: 400,
  problem: 300,
} as const;

/** Category rows per feature: the most telling few are enough for a threshold. */
export const MAX_CATEGORIES = 12;

/** At most this many closed-list values of one feature are sent (a long list is noise, and bounded). */
export const MAX_VALUES = 40;

// JSON.stringify escapes U+0000-U+001F, '"' and '\'; these also break or disguise lines:
// DEL and C1 controls, NEL, line/paragraph separators, bidi and zero-width controls, BOM.
const INVISIBLE = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Cut to `max` UTF-16 units (never inside a surrogate pair), saying how much was cut. */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}... [${text.length - cut.length} more characters cut]`;
}

/** Text from outside (files, data, a model) as one inert JSON string literal of bounded length. */
export function quote(text: string, max: number): string {
  return JSON.stringify(excerpt(text, max)).replace(INVISIBLE, hex4);
}

/** The string literals of a condition, with the feature each is compared with. */
function stringLiterals(root: Expr): { feature: string; value: string }[] {
  const out: { feature: string; value: string }[] = [];
  const stack: Expr[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (isAtom(e)) {
      const lits: Literal[] = e.kind === 'comparison' ? [e.value] : e.kind === 'between' ? [e.low, e.high] : e.kind === 'in' ? [...e.values] : [];
      for (const l of lits) if (l.kind === 'string') out.push({ feature: e.feature, value: l.value });
    }
    stack.push(...children(e));
  }
  return out;
}

/** True when a condition may be shown: every feature shown to the model, every string value on its closed list. */
export function conditionSendable(ast: Expr, shown: Catalog): boolean {
  if (!featuresIn(ast).every((f) => shown.get(f) !== undefined)) return false;
  return stringLiterals(ast).every(({ feature, value }) => listedValues(shown.get(feature)!)?.includes(value) ?? false);
}

// ---- what propose gathers (raw) and what a prompt may render (filtered, quoted) ----

export interface RawRankedFeature {
  name: string;
  sensitive: boolean;
  auc: number | null;
  ks: number | null;
  iv: number | null;
  direction: 'higher' | 'lower' | null;
  coverage: number;
  nulls: { bot: number; human: number };
  quantiles: { bot: QuantileSet; human: QuantileSet } | null;
  /** From the data: any text at all. */
  categories: { value: string; bot_share: number; human_share: number; lift: number | null }[] | null;
}

export interface RawRule {
  status: 'approved' | 'rejected';
  title: string;
  ast: Expr;
  reason: string;
}

/**
 * One bot family of the offline covering search (issue 15, item 6): the bots no earlier step
 * caught, the rule the inducer kept for them (null where it stopped: what is left), and per
 * feature the single condition that best separates them from the humans. Counts are on the
 * search sample's fit slice; conditions are the inducer's own, built from catalog names and
 * values seen in the data (so they go through the same filter as rules).
 */
export interface RawFamily {
  step: number;
  rule: Expr | null;
  bots_left: number;
  humans: number;
  features: { feature: string; condition: Expr; bots: number; humans: number }[];
}

export interface RawContext {
  data: { train_sessions: number; labelled_bots: number; labelled_humans: number; base_rate: number | null };
  gate: { max_fpr: number; min_precision: number; min_support: number };
  /** Ranked features, best first, already cut to rank.top. */
  ranked: RawRankedFeature[];
  rules: RawRule[];
  /** Bot families of the covering search; absent when propose did not run it. */
  families?: RawFamily[];
}

/** Every string below is a `quote`d JSON string literal, unless it is a catalog name or an enum. */
export interface ContextFeature {
  rank: number;
  name: string;
  type: Feature['type'];
  unit: string | null;
  description: string;
  range: string | null;
  values: string[] | null;
  auc: number | null;
  ks: number | null;
  iv: number | null;
  /** 'higher': bots have higher values (booleans: true more often). */
  direction: 'higher' | 'lower' | null;
  coverage: number;
  nulls: { bot: number; human: number };
  quantiles: RawRankedFeature['quantiles'];
  /** Only values on the feature's closed catalog list; null without such a list. */
  categories: { value: string; bot_share: number; human_share: number; lift: number | null }[] | null;
}

export interface CatalogEntry {
  name: string;
  type: Feature['type'];
  unit: string | null;
  range: string | null;
  values: string[] | null;
  description: string;
}

/** The whole context of a propose run; its canonical JSON's sha256 is each candidate's `input`. */
export interface ProposeContext {
  data: RawContext['data'];
  gate: RawContext['gate'];
  catalog: CatalogEntry[];
  features: ContextFeature[];
  approved: { title: string; condition: string }[];
  rejected: { title: string; condition: string; reason: string }[];
  /** Rules left out because their condition uses a feature or a value the model may not see. */
  withheld: { approved: number; rejected: number };
  /** Per bot family of the covering search, the features that separate what is left; aggregates only. */
  families: ContextFamily[];
}

/** A family as a prompt renders it: conditions quoted, thresholds at FAMILY_DIGITS significant digits, shares at 3. */
export interface ContextFamily {
  step: number;
  /** The inducer's rule for this family (quoted), or null: none passed the gate, or it names something the model may not see. */
  rule: string | null;
  bots_left: number;
  features: { name: string; condition: string; bots: number; bot_share: number; human_share: number }[];
}

/** Significant digits of a threshold in a family's conditions: a readable cut, not a value copied from a row. */
export const FAMILY_DIGITS = 3;
/** Features shown per family. */
export const MAX_FAMILY_FEATURES = 6;

/** The catalog a model may use: every feature that is not sensitive. */
export function modelCatalog(catalog: Catalog): Catalog {
  return makeCatalog(catalog.features.filter((f) => !f.sensitive));
}

function rangeText(f: Feature): string | null {
  if (!f.range) return null;
  const [lo, hi] = f.range;
  return `${lo ?? '-inf'} to ${hi ?? 'unbounded'}`;
}

const quotedValues = (f: Feature): string[] | null => {
  const vs = listedValues(f);
  return vs ? vs.slice(0, MAX_VALUES).map((v) => quote(v, QUOTE_LIMITS.value)) : null;
};

/** The condition with every number at `digits` significant digits. */
export function roundedCondition(e: Expr, digits = FAMILY_DIGITS): Expr {
  const r = (l: Literal): Literal => (l.kind === 'number' && Number.isFinite(l.value) ? num(Number(l.value.toPrecision(digits))) : l);
  switch (e.kind) {
    case 'comparison':
      return { ...e, value: r(e.value) };
    case 'between':
      return { ...e, low: r(e.low), high: r(e.high) };
    case 'in':
      return { ...e, values: e.values.map(r) };
    case 'and':
    case 'or':
      return { ...e, operands: e.operands.map((o) => roundedCondition(o, digits)) };
    case 'not':
      return { ...e, operand: roundedCondition(e.operand, digits) };
    default:
      return e;
  }
}

const share3 = (k: number, n: number): number => (n > 0 ? Number((k / n).toPrecision(3)) : 0);

/** The families a prompt may show: no sensitive or leaking feature, no unlisted value; numbers rounded; everything quoted. */
function familiesForModel(raw: readonly RawFamily[], catalog: Catalog, shown: Catalog): ContextFamily[] {
  const usable = (f: string) => shown.get(f) !== undefined && !catalog.get(f)?.leak;
  const sendable = (e: Expr) => conditionSendable(e, shown) && featuresIn(e).every(usable);
  return raw.map((fam) => ({
    step: fam.step,
    rule: fam.rule && sendable(fam.rule) ? quote(print(roundedCondition(fam.rule)), QUOTE_LIMITS.condition) : null,
    bots_left: fam.bots_left,
    features: fam.features
      .filter((x) => usable(x.feature) && sendable(x.condition))
      .slice(0, MAX_FAMILY_FEATURES)
      .map((x) => ({
        name: x.feature,
        condition: quote(print(roundedCondition(x.condition)), QUOTE_LIMITS.condition),
        bots: x.bots,
        bot_share: share3(x.bots, fam.bots_left),
        human_share: share3(x.humans, fam.humans),
      })),
  }));
}

/** The feature of every atom of a condition, in no particular order. */
function featuresIn(root: Expr): string[] {
  const out: string[] = [];
  const stack: Expr[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (isAtom(e)) out.push(e.feature);
    stack.push(...children(e));
  }
  return out;
}

/**
 * THE privacy filter: the only way from what propose gathered to what a prompt renders.
 * `catalog` is the full workspace catalog; sensitivity is read from it here, not trusted from
 * the ranking (an imported ranking may not say).
 */
export function forModel(raw: RawContext, catalog: Catalog): ProposeContext {
  const shown = modelCatalog(catalog);
  const features: ContextFeature[] = raw.ranked
    .filter((r) => !r.sensitive && shown.get(r.name))
    .map((r, i) => {
      const f = shown.get(r.name)!;
      const closed = listedValues(f);
      return {
        rank: i + 1,
        name: f.name,
        type: f.type,
        unit: f.unit ? quote(f.unit, QUOTE_LIMITS.unit) : null,
        description: quote(f.description.trim(), QUOTE_LIMITS.description),
        range: rangeText(f),
        values: quotedValues(f),
        auc: r.auc,
        ks: r.ks,
        iv: r.iv,
        direction: r.direction,
        coverage: r.coverage,
        nulls: r.nulls,
        quantiles: f.type === 'number' ? r.quantiles : null,
        // values seen in the data go out only when the catalog lists them (data text is not trusted)
        categories:
          f.type === 'category' && closed && r.categories
            ? r.categories
                .filter((c) => closed.includes(c.value))
                .slice(0, MAX_CATEGORIES)
                .map((c) => ({ ...c, value: quote(c.value, QUOTE_LIMITS.value) }))
            : null,
      };
    });
  const sendable = raw.rules.filter((r) => conditionSendable(r.ast, shown));
  const count = (status: RawRule['status']) => raw.rules.filter((r) => r.status === status).length - sendable.filter((r) => r.status === status).length;
  const ruleText = (r: RawRule) => ({ title: quote(r.title.trim(), QUOTE_LIMITS.title), condition: quote(print(r.ast), QUOTE_LIMITS.condition) });
  return {
    data: raw.data,
    gate: raw.gate,
    catalog: shown.features.map((f) => ({
      name: f.name,
      type: f.type,
      unit: f.unit ? quote(f.unit, QUOTE_LIMITS.unit) : null,
      range: rangeText(f),
      values: quotedValues(f),
      description: quote(f.description.trim(), QUOTE_LIMITS.description),
    })),
    features,
    approved: sendable.filter((r) => r.status === 'approved').map(ruleText),
    rejected: sendable.filter((r) => r.status === 'rejected').map((r) => ({ ...ruleText(r), reason: quote(r.reason.trim(), QUOTE_LIMITS.reason) })),
    withheld: { approved: count('approved'), rejected: count('rejected') },
    families: familiesForModel(raw.families ?? [], catalog, shown),
  };
}

// ---- echoing a model's own answer back in a repair turn ----

/** Bounds of the copy of an answer that a repair turn sends back. */
export const ECHO_LIMITS = { string: 2000, array: 20, keys: 16, depth: 6, total: 60_000, textBlock: 2000 } as const;

/**
 * A bounded copy of untrusted JSON: long strings cut, long arrays and wide objects trimmed, deep
 * nesting replaced. What a repair turn echoes of a tool call, so a 10 MB field costs at most a
 * few KB on every later turn instead of doubling the request.
 */
export function clipEcho(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return excerpt(v, ECHO_LIMITS.string);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= ECHO_LIMITS.depth) return '[nested too deep; cut]';
  if (Array.isArray(v)) return v.slice(0, ECHO_LIMITS.array).map((x) => clipEcho(x, depth + 1));
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .slice(0, ECHO_LIMITS.keys)
      .map(([k, x]) => [excerpt(k, 64), clipEcho(x, depth + 1)]),
  );
}
