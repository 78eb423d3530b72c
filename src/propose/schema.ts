/**
 * What a model must return: the `submit_rules` tool's input. The JSON schema the model sees is
 * generated from this zod schema, and the same schema validates what comes back.
 */
import { z } from 'zod';
import { RULE_ACTIONS, RULE_LEVELS } from '../rule/file.js';
import type { ToolSpec } from '../llm/types.js';

/** Rules in one submit_rules call: the tool schema's maxItems, enforced on every answer. */
export const MAX_RULES_PER_ANSWER = 20;

/** Longest value each field may have: the schema's limits, also what a repair turn echoes at most. */
export const FIELD_LIMITS = { title: 120, condition: 2000, description: 1500, rationale: 1500, falsepositive: 300, tag: 40 } as const;

const text = (max: number, what: string) => z.string().trim().min(1, 'must not be empty').max(max).describe(what);

/** One proposed rule, before its condition is parsed and checked. */
export const ProposedRuleSchema = z.strictObject({
  title: z.string().trim().min(5).max(FIELD_LIMITS.title).describe('Short title a reviewer can scan, e.g. "Fast sessions that never load static assets".'),
  condition: text(FIELD_LIMITS.condition, 'The condition in the rule language; only catalog feature names as identifiers.'),
  action: z.enum(RULE_ACTIONS).describe('log (observe only), challenge (e.g. CAPTCHA) or block.'),
  level: z.enum(RULE_LEVELS).describe('Severity, from informational to critical.'),
  description: text(FIELD_LIMITS.description, 'What the rule matches, in plain English for an operations reviewer; no jargon, no feature names.'),
  rationale: text(FIELD_LIMITS.rationale, 'Why these signals indicate automation rather than a person.'),
  falsepositives: z
    .array(z.string().trim().min(1).max(FIELD_LIMITS.falsepositive))
    .min(1)
    .max(8)
    .describe('Concrete human populations (or legitimate automation) that could match; "Unknown" if none is known.'),
  tags: z
    .array(
      z
        .string()
        .max(FIELD_LIMITS.tag)
        .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case tag such as scraper or credential-stuffing'),
    )
    .max(8)
    .default([])
    .describe('Lower-case tags, e.g. scraper, credential-stuffing, headless.'),
});
export type ProposedRule = z.infer<typeof ProposedRuleSchema>;

export const SubmitRulesSchema = z.strictObject({
  rules: z.array(ProposedRuleSchema).min(1).max(MAX_RULES_PER_ANSWER).describe('The proposed rules, best first.'),
});

export const TOOL_NAME = 'submit_rules';

/** The `submit_rules` tool, its input schema generated from SubmitRulesSchema. */
export function submitRulesTool(): ToolSpec {
  const { $schema: _drop, ...json } = z.toJSONSchema(SubmitRulesSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    toolSpec: {
      name: TOOL_NAME,
      description: 'Submit the proposed bot-detection rules. Call it exactly once with every rule.',
      inputSchema: { json },
    },
  };
}
