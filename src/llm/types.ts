/**
 * The provider boundary: one call, the Converse API's request and response in their wire shape.
 * These types mirror the JSON that Bedrock's Converse API sends and receives, written out here
 * so that nothing outside src/llm/bedrock.ts depends on the AWS SDK, and so that a recorded
 * response (a cassette) is exactly the body Bedrock returned.
 */

export interface TextBlock {
  text: string;
}
export interface CachePointBlock {
  cachePoint: { type: 'default' };
}
export interface ToolUseBlock {
  toolUse: { toolUseId: string; name: string; input: unknown };
}
export interface ToolResultBlock {
  toolResult: { toolUseId: string; content: TextBlock[]; status?: 'success' | 'error' };
}
export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock | CachePointBlock;
export type SystemBlock = TextBlock | CachePointBlock;

export interface Message {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ToolSpec {
  toolSpec: { name: string; description: string; inputSchema: { json: Record<string, unknown> } };
}

/** A Converse request as sent: everything that decides the answer, nothing else (no credentials). */
export interface ConverseRequest {
  modelId: string;
  system: SystemBlock[];
  messages: Message[];
  toolConfig: {
    tools: (ToolSpec | CachePointBlock)[];
    toolChoice?: { tool: { name: string } } | { any: Record<string, never> } | { auto: Record<string, never> };
  };
  inferenceConfig: { temperature: number; maxTokens: number };
  guardrailConfig?: { guardrailIdentifier: string; guardrailVersion: string; trace?: 'enabled' | 'disabled' };
}

/** Every stop reason the Converse API documents; anything else is kept as a string and reported. */
export const STOP_REASONS = [
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'guardrail_intervened',
  'content_filtered',
  'malformed_tool_use',
  'malformed_model_output',
  'model_context_window_exceeded',
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** The JSON body of a Converse response (what a cassette stores). */
export interface ConverseResponse {
  output: { message?: Message };
  stopReason: StopReason | (string & {});
  usage: Usage;
  metrics?: { latencyMs: number };
  trace?: unknown;
}

/** One answered call. */
export interface ConverseOutcome {
  response: ConverseResponse;
  /** What produced it, for provenance: `bedrock:<model id>` or `replay:<cassette file>`. */
  generator: string;
  /** Wall time of the call in this process, retries included. */
  latencyMs: number;
  /** HTTP attempts (1 without retries). */
  attempts: number;
}

/**
 * A failed call, after the SDK's retries. `fallback` says whether another model may succeed
 * where this one failed (throttling, a model that is unavailable, not enabled or timed out);
 * it is false when every model would fail the same way (credentials, a bad request).
 */
export class LlmCallError extends Error {
  constructor(
    readonly model: string,
    readonly code: string,
    message: string,
    readonly fallback: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LlmCallError';
  }
}

export interface ConverseOptions {
  /** Aborts the call (the run's deadline, llm.run_timeout_ms); the call then fails with code `Stopped`. */
  signal?: AbortSignal;
}

/** Every provider `propose` and `fp` know, spelled once: the config's enum, the types and `--provider`'s choices. */
export const PROVIDERS = ['offline', 'bedrock', 'replay'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
/** The providers that call a model: all but the offline inducer. */
export type ModelProviderName = Exclude<ProviderName, 'offline'>;

/** The narrow boundary every model provider implements. */
export interface LlmProvider {
  readonly name: ModelProviderName;
  /** One Converse call. Throws LlmCallError on a failure that survived retries. */
  converse(request: ConverseRequest, opts?: ConverseOptions): Promise<ConverseOutcome>;
}
