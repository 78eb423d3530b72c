/**
 * The tools of `fp --provider` (submit_fp_analysis) and of `propose --refine`'s rounds
 * (submit_revisions). As for submit_rules, the JSON schema a model sees is generated from the
 * zod schema that validates what comes back.
 */
import { z } from 'zod';
import type { ToolSpec } from '../llm/types.js';
import { ProposedRuleSchema } from '../propose/schema.js';

export const FP_TOOL = 'submit_fp_analysis';
export const REVISE_TOOL = 'submit_revisions';
export const MAX_POPULATIONS = 8;
export const MAX_FP_MODIFICATIONS = 6;

const text = (max: number, what: string) => z.string().trim().min(1, 'must not be empty').max(max).describe(what);

export const PopulationSchema = z.strictObject({
  name: text(80, 'A short plain-English name for the group of people, e.g. "Screen-reader users".'),
  description: text(600, 'Who they are and why the rule matches them, in plain English for an operations reviewer.'),
  scenarios: z.array(z.number().int().min(1).max(100)).max(8).default([]).describe('Numbers of the measured scenarios this population explains.'),
  automation: z.boolean().default(false).describe('True when the group looks like automation that was labelled human (a labelling error), not people.'),
});

export const FpModificationSchema = z.strictObject({
  title: z.string().trim().min(5).max(120).describe('Short title of the modified rule.'),
  condition: text(2000, 'The complete modified condition in the rule language (not only the added part); only catalog feature names as identifiers.'),
  change: text(300, 'What changed from the original condition, in a few words.'),
  reasoning: text(1500, 'Why this removes the false positives while keeping the bots, citing the statistics.'),
  populations: z.array(z.string().trim().min(1).max(80)).max(8).default([]).describe('Names of the populations it excludes.'),
});

export const FpAnalysisSchema = z.strictObject({
  populations: z.array(PopulationSchema).min(1).max(MAX_POPULATIONS).describe('The human populations among the false positives, largest first.'),
  modifications: z.array(FpModificationSchema).max(MAX_FP_MODIFICATIONS).default([]).describe('Modified rules that exclude those populations, best first.'),
});
export type FpAnalysisAnswer = z.infer<typeof FpAnalysisSchema>;
export type FpModificationAnswer = z.infer<typeof FpModificationSchema>;

export const RevisionSchema = ProposedRuleSchema.extend({
  rule: z.number().int().min(1).max(100).describe('The number of the failing rule this revises.'),
  change: text(300, 'What changed from the failing version, in a few words.'),
});
export const SubmitRevisionsSchema = z.strictObject({
  revisions: z.array(RevisionSchema).min(1).max(20).describe('One revision per failing rule you can improve; leave out a rule you cannot fix.'),
});
export type RevisionAnswer = z.infer<typeof RevisionSchema>;

function toolOf(name: string, description: string, schema: z.ZodType): ToolSpec {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { toolSpec: { name, description, inputSchema: { json } } };
}

export function fpAnalysisTool(): ToolSpec {
  return toolOf(
    FP_TOOL,
    'Submit the false-positive analysis: the human populations the rule hits and modified rules that exclude them. Call it exactly once.',
    FpAnalysisSchema,
  );
}

export function revisionsTool(): ToolSpec {
  return toolOf(REVISE_TOOL, 'Submit revised versions of the rules that failed the gate. Call it exactly once with every revision.', SubmitRevisionsSchema);
}
