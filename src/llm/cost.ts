/** Token prices (src/llm/prices.json, data) and the cost of a call. */
import { z } from 'zod';
import table from './prices.json' with { type: 'json' };
import type { Usage } from './types.js';

const PriceSchema = z.strictObject({
  family: z.string(),
  input: z.number().min(0),
  output: z.number().min(0),
  cache_read: z.number().min(0),
  cache_write: z.number().min(0),
  batch_discount: z.number().min(0).max(1),
  prompt_caching: z.boolean(),
  tool_choice: z.enum(['tool', 'any', 'auto']),
});
// `about` is one text, kept as lines joined without a separator so that the file stays readable
const TableSchema = z.strictObject({
  about: z.array(z.string()).transform((lines) => lines.join('')),
  source: z.string(),
  as_of: z.string(),
  models: z.record(z.string(), PriceSchema),
});

/** USD per million tokens of one model, and what the model supports on the Converse API. */
export type ModelPrice = z.infer<typeof PriceSchema>;

/** Parsed once: a malformed price table is a bug in the package, caught by its tests. */
export const PRICES = TableSchema.parse(table);

/** `us.anthropic.claude-...` -> `anthropic.claude-...`: inference profiles are priced by their model. */
export function baseModelId(model: string): string {
  return model.replace(/^(us|eu|apac|au|ca|jp|us-gov|global)\./, '');
}

export function priceOf(model: string): ModelPrice | undefined {
  return PRICES.models[baseModelId(model)];
}

/** Cost of one call in USD; null when the model is not in the price table. */
export function costOf(model: string, usage: Usage, opts: { batch?: boolean } = {}): number | null {
  const p = priceOf(model);
  if (!p) return null;
  const usd =
    (usage.inputTokens * p.input +
      usage.outputTokens * p.output +
      (usage.cacheReadInputTokens ?? 0) * p.cache_read +
      (usage.cacheWriteInputTokens ?? 0) * p.cache_write) /
    1e6;
  return opts.batch ? usd * (1 - p.batch_discount) : usd;
}
