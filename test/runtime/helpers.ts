/** Bundles for runtime tests, built from condition text through the real parser, checker and bundle builder. */
import { makeCatalog, type Catalog, type Feature } from '../../src/catalog/schema.js';
import { buildBundle } from '../../src/release/build.js';
import type { Bundle, Stage } from '../../src/release/schema.js';
import { checkCondition, hasErrors } from '../../src/rule/checks.js';
import type { Rule } from '../../src/rule/file.js';
import { parseCondition } from '../../src/rule/parser.js';
import { print } from '../../src/rule/printer.js';

export const CATALOG: Catalog = makeCatalog([
  { name: 'rpm', type: 'number', unit: 'requests/min', description: 'Requests per minute.', sensitive: false },
  { name: 'ratio', type: 'number', unit: 'share', description: 'A share.', sensitive: false },
  { name: 'webdriver', type: 'boolean', description: 'Automation flag.', sensitive: false },
  { name: 'js', type: 'boolean', description: 'JavaScript ran.', sensitive: false },
  { name: 'ua', type: 'category', values: 'open', description: 'User agent family.', sensitive: false },
  { name: 'asn', type: 'category', values: ['residential', 'hosting', 'mobile'], description: 'Network type.', sensitive: false },
] as Feature[]);

export interface RuleSpec {
  id?: string;
  condition: string;
  action?: Rule['action'];
  stage?: Stage;
  title?: string;
}

let counter = 0;
/** A uuid-shaped id that sorts in creation order. */
export function testId(n = ++counter): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** A loaded-rule value for a condition (parsed and checked against `catalog`). */
export function ruleOf(spec: RuleSpec, catalog: Catalog = CATALOG, i = 0): Rule {
  const p = parseCondition(spec.condition);
  if (!p.ok) throw new Error(`${spec.condition}: ${p.problem.message}`);
  const f = checkCondition(p.ast, catalog);
  if (hasErrors(f)) throw new Error(`${spec.condition}: ${f.map((x) => x.message).join('; ')}`);
  return Object.freeze({
    id: spec.id ?? testId(1000 + i),
    title: spec.title ?? spec.condition,
    status: 'approved',
    action: spec.action ?? 'block',
    level: 'high',
    condition: print(p.ast),
    description: 'test',
    rationale: 'test',
    falsepositives: ['Unknown'],
    tags: [],
    related: [],
    ...(spec.stage ? { rollout: { stage: spec.stage, since: '2026-01-01T00:00:00.000Z' } } : {}),
    ast: p.ast,
  }) as Rule;
}

export function bundleOf(specs: readonly RuleSpec[], catalog: Catalog = CATALOG, version = '1.0.0', previous: Bundle | null = null): Bundle {
  return buildBundle({
    version,
    created: new Date('2026-12-01T00:00:00Z'),
    generator: 'rulegen test',
    gate: { max_fpr: 0.001, min_precision: 0.95, min_support: 20 },
    catalog,
    rules: specs.map((s, i) => ({ rule: ruleOf(s, catalog, i), evidence: null })),
    previous,
  });
}
