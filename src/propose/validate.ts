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
import { excerpt } from './outgoing.js';
import { FIELD_LIMITS, MAX_RULES_PER_ANSWER, ProposedRuleSchema, type ProposedRule } from './schema.js';

export interface ValidRule {
  rule: ProposedRule;
  ast: Expr;
  /** The condition as printed from its AST (the canonical spelling). */
  condition: string;
  /** Position in the submission, 1-based. */
  index: number;
}

/** A rule that failed; `title` and `condition` are excerpts (a model's field may be megabytes). */
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
  /** Rules in the answer beyond what was asked for (or beyond the tool's maxItems): not looked at. */
  extra: number;
}

/** What a problem message may say about a model's text: zod quotes unknown keys, the parser quotes tokens. */
const PROBLEM_TEXT = 300;
const capProblem = (p: Problem): Problem => ({
  ...p,
  message: excerpt(p.message, PROBLEM_TEXT),
  ...(p.found !== undefined ? { found: excerpt(p.found, PROBLEM_TEXT) } : {}),
  ...(p.expected !== undefined ? { expected: excerpt(p.expected, PROBLEM_TEXT) } : {}),
  ...(p.excerpt !== undefined ? { excerpt: excerpt(p.excerpt, PROBLEM_TEXT) } : {}),
});

const zodProblems = (issues: readonly { path: PropertyKey[]; message: string }[], prefix: string): Problem[] =>
  // a rule's issues are few; a path element may be a model-chosen key, so it is cut too
  issues
    .slice(0, 20)
    .map((i) => ({ severity: 'error', message: i.message, where: { field: excerpt([prefix, ...i.path.map(String)].filter(Boolean).join('.'), 120) } }));

/**
 * Validate one `submit_rules` input. `existing` maps printed conditions already in use (rule
 * files, and rules accepted earlier in this run) to the id or title that holds them.
 */
export function validateSubmission(input: unknown, catalog: Catalog, existing: ReadonlyMap<string, string>, opts: { max?: number } = {}): Validation {
  const all = (input as { rules?: unknown } | null)?.rules;
  if (!input || typeof input !== 'object' || !Array.isArray(all) || all.length === 0) {
    const found = Array.isArray(input)
      ? `an array of ${input.length}`
      : input && typeof input === 'object'
        ? `an object with keys ${excerpt(Object.keys(input).slice(0, 10).join(', '), 200)}`
        : excerpt(String(JSON.stringify(input)), 200);
    return {
      valid: [],
      invalid: [],
      extra: 0,
      shape: [
        {
          severity: 'error',
          message: 'the submit_rules input must be an object with a non-empty "rules" array',
          expected: '{"rules": [{title, condition, action, level, description, rationale, falsepositives, tags}, ...]}',
          found,
        },
      ],
    };
  }
  // Only as many as were asked for are looked at (never more than the tool's maxItems): an
  // answer of 5,000 rules must not become 5,000 backtests and candidate files.
  const max = Math.min(opts.max ?? MAX_RULES_PER_ANSWER, MAX_RULES_PER_ANSWER);
  const rules = all.slice(0, max);
  const valid: ValidRule[] = [];
  const invalid: InvalidRule[] = [];
  const seen = new Map(existing);
  rules.forEach((raw, i) => {
    const index = i + 1;
    const r = raw as { title?: unknown; condition?: unknown };
    const title = typeof r?.title === 'string' ? excerpt(r.title, FIELD_LIMITS.title) : null;
    const conditionText = typeof r?.condition === 'string' ? excerpt(r.condition, FIELD_LIMITS.condition) : null;
    const parsed = ProposedRuleSchema.safeParse(raw);
    if (!parsed.success) {
      invalid.push({ index, title, condition: conditionText, problems: zodProblems(parsed.error.issues, `rules.${i}`) });
      return;
    }
    const rule = parsed.data;
    const p = parseCondition(rule.condition);
    if (!p.ok) {
      invalid.push({
        index,
        title,
        condition: rule.condition,
        problems: [
          {
            ...capProblem(p.problem),
            message: `invalid condition: ${excerpt(p.problem.message, PROBLEM_TEXT)}`,
            where: { ...p.problem.where, field: `rules.${i}.condition` },
          },
        ],
      });
      return;
    }
    // Warnings count too: a model has no reason to submit a contradiction or a tautology.
    const findings = checkCondition(p.ast, catalog).map(({ node: _node, ...f }): Problem => ({
      ...f,
      severity: 'error',
      where: { ...f.where, field: `rules.${i}.condition` },
    }));
    if (findings.length) {
      invalid.push({ index, title, condition: rule.condition, problems: findings });
      return;
    }
    const condition = print(p.ast);
    const holder = seen.get(condition);
    if (holder !== undefined) {
      invalid.push({
        index,
        title,
        condition,
        problems: [
          {
            severity: 'error',
            message: `duplicates an existing rule (${holder})`,
            where: { field: `rules.${i}.condition` },
            expected: 'a condition no rule already has',
            found: condition,
          },
        ],
      });
      return;
    }
    seen.set(condition, `rule ${index} of this answer`);
    valid.push({ rule, ast: p.ast, condition, index });
  });
  return { valid, invalid: invalid.map((x) => ({ ...x, problems: x.problems.map(capProblem) })), extra: all.length - rules.length };
}
