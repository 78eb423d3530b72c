/**
 * What `fp --provider bedrock|replay` and `propose --refine` tell a model about a rule's false
 * positives: the FP profile as aggregates only, through the same rules as propose's `forModel`
 * (src/propose/outgoing.ts), which this builds on:
 * - no row, no session id, no IP, no user agent: counts, shares, quantiles, per-day counts;
 * - no sensitive feature: its contrast is dropped, and a scenario or modification whose
 *   condition names one (or a category value not on the feature's closed catalog list) is
 *   withheld, counted but not shown;
 * - every text that came from files, data or a model (titles, conditions, descriptions,
 *   category and segment values) is `quote`d: one inert, length-capped JSON string.
 * Numbers are rounded to 4 significant digits (short prompts, stable cassette keys).
 */
import { listedValues, type Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { english } from '../rule/english.js';
import type { Expr } from '../rule/ast.js';
import { print } from '../rule/printer.js';
import { parseCondition } from '../rule/parser.js';
import { round4 } from '../propose/context.js';
import { conditionSendable, forModel, modelCatalog, quote, QUOTE_LIMITS, type CatalogEntry } from '../propose/outgoing.js';
import type { Quantiles } from './profile.js';
import type { FpReport } from './fp.js';

/** Features of the profile sent, best separated first. */
export const MAX_FP_FEATURES = 12;
/** Days of the per-day counts sent (the most recent). */
export const MAX_FP_DAYS = 62;

const r4 = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : round4(x));
const rq = (q: Quantiles) => ({ p5: r4(q.p5), p25: r4(q.p25), p50: r4(q.p50), p75: r4(q.p75), p95: r4(q.p95) });
const pct = (x: number) => `${Math.round(100 * x)}%`;

export interface FpContextFeature {
  name: string;
  type: string;
  auc: number | null;
  /** 'higher': the false positives (people) have higher values than the true positives (bots). */
  direction: 'higher' | 'lower' | null;
  nulls: { fp: number | null; tp: number | null };
  quantiles: { fp: ReturnType<typeof rq>; tp: ReturnType<typeof rq> } | null;
  /** Quoted values: booleans, and category values on the closed catalog list only. */
  categories: { value: string; fp_share: number | null; tp_share: number | null }[] | null;
}

/** Everything a prompt about a rule's false positives may render; its canonical JSON's sha256 is the `input` of provenance. */
export interface FpContext {
  gate: Config['gate'];
  catalog: CatalogEntry[];
  rule: { title: string; condition: string; english: string };
  window: { name: string; from: string; to: string };
  counts: { fp: number; tp: number };
  scenarios: { number: number; share: number | null; fp: number; fp_all: number; tp: number; condition: string; description: string }[];
  features: FpContextFeature[];
  segments: { column: string; value: string; fp: number; tp: number; fp_share: number | null }[];
  days: { day: string; fp: number; tp: number }[];
  modifications: { change: string; condition: string; fp_cut: number | null; tp_kept: number | null }[];
  withheld: { scenarios: number; modifications: number; segments: number };
}

/** A printed condition parsed back, or undefined (report conditions are printed from ASTs, so this holds). */
function astOf(condition: string): Expr | undefined {
  const p = parseCondition(condition);
  return p.ok ? p.ast : undefined;
}

/** True when the rule itself may be shown to a model (no sensitive feature, no unlisted category value). */
export function ruleSendable(ast: Expr, catalog: Catalog): boolean {
  return conditionSendable(ast, modelCatalog(catalog));
}

/**
 * THE filter between an FP report and a prompt. `catalog` is the full workspace catalog:
 * sensitivity is read from it here, not from the report.
 */
export function fpForModel(report: FpReport, catalog: Catalog, config: Config, rule: { title: string; ast: Expr }): FpContext {
  const shown = modelCatalog(catalog);
  const sendable = (condition: string) => {
    const ast = astOf(condition);
    return ast !== undefined && conditionSendable(ast, shown);
  };
  const scenarios = report.scenarios
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => sendable(s.condition))
    .map(({ s, i }) => ({
      number: i + 1,
      share: r4(s.share),
      fp: s.fp,
      fp_all: s.fp_all,
      tp: s.tp,
      condition: quote(s.condition, QUOTE_LIMITS.condition),
      description: quote(`${pct(s.share)} of false positives: ${english(astOf(s.condition)!, shown)}`, QUOTE_LIMITS.description),
    }));
  const features: FpContextFeature[] = report.profile.features
    .filter((c) => !c.sensitive && shown.get(c.feature) && c.auc !== null)
    .slice(0, MAX_FP_FEATURES)
    .map((c) => {
      const f = shown.get(c.feature)!;
      const closed = f.type === 'boolean' ? ['true', 'false'] : listedValues(f);
      return {
        name: f.name,
        type: f.type,
        auc: r4(c.auc),
        direction: c.direction,
        nulls: { fp: r4(c.nulls.fp), tp: r4(c.nulls.tp) },
        quantiles: f.type === 'number' && c.quantiles ? { fp: rq(c.quantiles.fp), tp: rq(c.quantiles.tp) } : null,
        // values seen in the data go out only when the catalog lists them (data text is not trusted)
        categories:
          f.type !== 'number' && closed && c.categories
            ? c.categories
                .filter((v) => closed.includes(v.value))
                .slice(0, 8)
                .map((v) => ({ value: quote(v.value, QUOTE_LIMITS.value), fp_share: r4(v.fp_share), tp_share: r4(v.tp_share) }))
            : null,
      };
    });
  // a segment value is data: shown only for a segment column that is a non-sensitive catalog feature listing that value
  const segOk = (column: string, value: string) => {
    const f = shown.get(column);
    return Boolean(f && (listedValues(f)?.includes(value) ?? false));
  };
  const segments = report.profile.segments.filter((s) => s.fp > 0 && segOk(s.column, s.value)).slice(0, 12);
  const mods = report.modifications.filter((m) => sendable(m.condition));
  return {
    gate: { ...config.gate },
    catalog: forModel({ data: { train_sessions: 0, labelled_bots: 0, labelled_humans: 0, base_rate: null }, gate: config.gate, ranked: [], rules: [] }, catalog)
      .catalog,
    rule: {
      title: quote(rule.title.trim(), QUOTE_LIMITS.title),
      condition: quote(print(rule.ast), QUOTE_LIMITS.condition),
      english: quote(english(rule.ast, shown), QUOTE_LIMITS.description),
    },
    window: { name: report.window.name, from: report.window.from.slice(0, 10), to: report.window.to.slice(0, 10) },
    counts: { fp: report.fp, tp: report.tp },
    scenarios,
    features,
    segments: segments.map((s) => ({ column: s.column, value: quote(s.value, QUOTE_LIMITS.value), fp: s.fp, tp: s.tp, fp_share: r4(s.fp_share) })),
    days: report.profile.days.slice(-MAX_FP_DAYS).map((d) => ({ day: d.day, fp: d.fp, tp: d.tp })),
    modifications: mods.map((m) => ({
      change: quote(m.change, QUOTE_LIMITS.condition),
      condition: quote(m.condition, QUOTE_LIMITS.condition),
      fp_cut: r4(m.window.fp_cut),
      tp_kept: r4(m.window.tp_kept),
    })),
    withheld: {
      scenarios: report.scenarios.length - scenarios.length,
      modifications: report.modifications.length - mods.length,
      segments: report.profile.segments.filter((s) => s.fp > 0).length - segments.length,
    },
  };
}
