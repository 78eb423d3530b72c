/**
 * Model output is untrusted: each proposed rule is zod-validated, its condition parsed and
 * checked against the catalog the model was shown (sensitive features are unknown there), and
 * compared with the conditions that already exist. Every problem is kept: they go back to the
 * model in a repair round, and those that remain are reported.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Problem } from '../errors.js';
import type { Expr } from '../rule/ast.js';
import { checkCondition } from '../rule/checks.js';
import { parseCondition } from '../rule/parser.js';
import { print } from '../rule/printer.js';
import { ProposedRuleSchema, type ProposedRule } from './schema.js';

export interface ValidRule {
  rule: ProposedRule;
  ast: Expr;
  /** The condition as printed from its AST (the canonical spelling). */
  condition: string;
  /** Position in the submission, 1-based. */
  index: number;
}

export interface InvalidRule {
  index: number;
  title: string | null;
  condition: string | null;
  problems: Problem[];
}

export interface Validation {
  valid: ValidRule[];
  invalid: InvalidRule[];
  /** Set when the submission as a whole is unusable (not an object with a rules array). */
  shape?: Problem[];
}

const zodProblems = (issues: readonly { path: PropertyKey[]; message: string }[], prefix: string): Problem[] =>
  issues.map((i) => ({ severity: 'error', message: i.message, where: { field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') } }));

/**
 * Validate one `submit_rules` input. `existing` maps printed conditions already in use (rule
 * files, and rules accepted earlier in this run) to the id or title that holds them.
 */
export function validateSubmission(input: unknown, catalog: Catalog, existing: ReadonlyMap<string, string>): Validation {
  const rules = (input as { rules?: unknown } | null)?.rules;
  if (!input || typeof input !== 'object' || !Array.isArray(rules) || rules.length === 0) {
    return { valid: [], invalid: [], shape: [{ severity: 'error', message: 'the submit_rules input must be an object with a non-empty "rules" array', expected: '{"rules": [{title, condition, action, level, description, rationale, falsepositives, tags}, ...]}', found: JSON.stringify(input)?.slice(0, 200) ?? String(input) }] };
  }
  const valid: ValidRule[] = [];
  const invalid: InvalidRule[] = [];
  const seen = new Map(existing);
  rules.forEach((raw, i) => {
    const index = i + 1;
    const r = raw as { title?: unknown; condition?: unknown };
    const title = typeof r?.title === 'string' ? r.title : null;
    const conditionText = typeof r?.condition === 'string' ? r.condition : null;
    const parsed = ProposedRuleSchema.safeParse(raw);
    if (!parsed.success) {
      invalid.push({ index, title, condition: conditionText, problems: zodProblems(parsed.error.issues, `rules.${i}`) });
      return;
    }
    const rule = parsed.data;
    const p = parseCondition(rule.condition);
    if (!p.ok) {
      invalid.push({ index, title, condition: rule.condition, problems: [{ ...p.problem, message: `invalid condition: ${p.problem.message}`, where: { ...p.problem.where, field: `rules.${i}.condition` } }] });
      return;
    }
    // Warnings count too: a model has no reason to submit a contradiction or a tautology.
    const findings = checkCondition(p.ast, catalog).map(({ node: _node, ...f }): Problem => ({ ...f, severity: 'error', where: { ...f.where, field: `rules.${i}.condition` } }));
    if (findings.length) {
      invalid.push({ index, title, condition: rule.condition, problems: findings });
      return;
    }
    const condition = print(p.ast);
    const holder = seen.get(condition);
    if (holder !== undefined) {
      invalid.push({ index, title, condition, problems: [{ severity: 'error', message: `duplicates an existing rule (${holder})`, where: { field: `rules.${i}.condition` }, expected: 'a condition no rule already has', found: condition }] });
      return;
    }
    seen.set(condition, `rule ${index} of this answer`);
    valid.push({ rule, ast: p.ast, condition, index });
  });
  return { valid, invalid };
}
