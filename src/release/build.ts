/**
 * Building a ruleset bundle from approved rules: pure functions from rules, catalog and
 * evidence to the document of src/release/schema.ts, sealed with its sha256.
 */
import { listedValues, type Catalog } from '../catalog/schema.js';
import { compile, DIALECTS } from '../compile/compile.js';
import type { Config } from '../config/schema.js';
import type { RuleResult } from '../backtest/engine.js';
import { featuresOf } from '../rule/ast.js';
import type { Rule } from '../rule/file.js';
import { bundleDigest } from '../runtime/canonical.js';
import { BUNDLE_SCHEMA, BundleSchema, type Bundle, type BundleRule, type Evidence, type ExprJson, type FeatureSpec, type Stage } from './schema.js';

const iso = (t: string | Date): string => (t instanceof Date ? t.toISOString() : t);
const round = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : Number(x.toPrecision(6)));

/** The evidence summary of one rule's backtest result on a window. */
export function evidenceOf(window: { name: string; from: string; to: string }, rows: number, r: RuleResult): Evidence {
  return {
    window: { name: window.name, from: window.from, to: window.to, rows },
    counts: { tp: r.counts.tp, fp: r.counts.fp, tn: r.counts.tn, fn: r.counts.fn, unlabeled_hits: r.counts.unlabeled_hits },
    precision: round(r.precision),
    recall: round(r.recall),
    fpr: round(r.fpr),
    fpr_upper95: round(r.fpr_upper95),
    hit_rate: round(r.hit_rate),
  };
}

/** The stage a rule is at: its rollout stage, or `block` (in full) when it has no staged rollout. */
export function stageOf(rule: Pick<Rule, 'rollout'>): Stage {
  return rule.rollout?.stage ?? 'block';
}

function featureSpecs(rule: Rule, catalog: Catalog): FeatureSpec[] {
  return featuresOf(rule.ast).map((name) => {
    const f = catalog.get(name);
    // a loaded rule has passed the checker, so every feature it names is in the catalog
    if (!f) throw new Error(`feature ${name} of rule ${rule.id} is not in the catalog`);
    const values = f.type === 'category' ? listedValues(f) : null;
    return { name, type: f.type, ...(f.unit ? { unit: f.unit } : {}), ...(values ? { values: [...values] } : {}) };
  });
}

function bundleRule(rule: Rule, catalog: Catalog, evidence: Evidence | null, previous: BundleRule | undefined): BundleRule {
  const compiled = Object.fromEntries(
    DIALECTS.map((d) => {
      const q = compile(rule.ast, catalog, d);
      return [d, { sql: q.sql, parameters: q.parameters.map((p) => p as number | string | boolean) }];
    }),
  ) as BundleRule['compiled'];
  const changed = previous && (previous.condition !== rule.condition || previous.action !== rule.action);
  return {
    id: rule.id,
    version: previous ? previous.version + (changed ? 1 : 0) : 1,
    title: rule.title,
    action: rule.action,
    level: rule.level,
    stage: stageOf(rule),
    since: rule.rollout ? iso(rule.rollout.since) : null,
    history: (rule.rollout?.history ?? []).map((h) => ({ from: h.from, to: h.to, at: iso(h.at), reviewer: h.reviewer, override: h.override ?? null })),
    condition: rule.condition,
    // the AST's nodes are plain tagged records: their JSON is the bundle's AST
    ast: JSON.parse(JSON.stringify(rule.ast)) as ExprJson,
    features: featureSpecs(rule, catalog),
    compiled,
    evidence,
  };
}

export interface BuildInput {
  version: string;
  created: Date;
  generator: string;
  gate: Pick<Config['gate'], 'max_fpr' | 'min_precision' | 'min_support'>;
  catalog: Catalog;
  rules: readonly { rule: Rule; evidence: Evidence | null }[];
  previous: Bundle | null;
}

/** A sealed bundle: rules sorted by id, `sha256` over the canonical JSON of the rest. */
export function buildBundle(input: BuildInput): Bundle {
  const prev = new Map((input.previous?.rules ?? []).map((r) => [r.id, r]));
  const rules = [...input.rules]
    .sort((a, b) => (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0))
    .map(({ rule, evidence }) => bundleRule(rule, input.catalog, evidence, prev.get(rule.id)));
  const unsealed = {
    schema: BUNDLE_SCHEMA,
    version: input.version,
    created: input.created.toISOString(),
    generator: input.generator,
    previous: input.previous ? { version: input.previous.version, sha256: input.previous.sha256 } : null,
    gate: { max_fpr: input.gate.max_fpr, min_precision: input.gate.min_precision, min_support: input.gate.min_support },
    rules,
  };
  const bundle = { ...unsealed, sha256: bundleDigest(unsealed) };
  // the schema is the contract with every runtime: a bundle that does not fit it is a bug here
  return BundleSchema.parse(bundle);
}
