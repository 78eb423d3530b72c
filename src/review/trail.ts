/** A rule's review trail: every decision recorded in its file, read leniently (files are edited by hand). */
import { z } from 'zod';
import type { Rule } from '../rule/file.js';

const ReviewEntrySchema = z.looseObject({
  decision: z.string(),
  reviewer: z.string(),
  at: z.union([z.string(), z.date()]),
  note: z.string().nullable().optional(),
  override: z.string().nullable().optional(),
});
export type ReviewEntry = z.infer<typeof ReviewEntrySchema>;

/** The review trail, oldest first: earlier decisions are kept under `review.history`. */
export function reviewTrail(rule: Rule): ReviewEntry[] {
  if (!rule.review) return [];
  const history = (rule.review as Record<string, unknown>)['history'];
  const past = Array.isArray(history)
    ? history
        .map((h) => ReviewEntrySchema.safeParse(h))
        .filter((p) => p.success)
        .map((p) => p.data)
    : [];
  const { history: _h, ...current } = rule.review as Record<string, unknown>;
  const now = ReviewEntrySchema.safeParse(current);
  return [...past, ...(now.success ? [now.data] : [])];
}
