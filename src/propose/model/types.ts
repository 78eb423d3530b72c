/** The options and results of a model propose run. */
import type { OnProgress } from '../../progress.js';
import { ExternalError, type Problem } from '../../errors.js';
import type { ConverseRequest, LlmProvider, ModelProviderName } from '../../llm/types.js';
import type { Ranking } from '../../rank/types.js';
import type { Tokens } from './budget.js';
import type { ToolCallReport } from './tool.js';
import type { CandidateReport } from '../propose.js';
import type { InvalidRule } from '../validate.js';
import type { Evaluator } from '../../backtest/engine-types.js';

export interface ModelProposeOptions {
  provider: ModelProviderName;
  /** Models to run on the same context (more than one: a comparison); default llm.models. */
  models?: string[];
  /** Rules wanted per model. */
  count: number;
  /** Build and return the requests; call nothing, write nothing. */
  dryRun?: boolean;
  /** Write each answer as a cassette (bedrock only). */
  record?: boolean;
  /** Stop making calls once the run has cost this much; default llm.max_cost_usd. */
  maxCostUsd?: number;
  ranking?: Ranking;
  /** `--refine N`: send the candidates that fail the gate back with their evidence, up to N rounds. */
  refine?: number;
  /** A ready provider (tests); default: built from the workspace config. */
  llm?: LlmProvider;
  onStep?: (m: string) => void;
  /** Model calls finished of those planned, for a progress line. */
  onProgress?: OnProgress;
  /** Diagnostics for stderr (fallbacks, repairs, stopped calls). */
  onNote?: (m: string) => void;
  /** How candidates are backtested: the kernel (default on the embedded store) or SQL (`--engine`). */
  evaluator?: Evaluator;
}

/** A model's candidate: the shared report, which model and answer produced it, and its gate verdict. */
export interface ModelCandidate extends CandidateReport {
  model: string;
  generator: string;
  gate: { pass: boolean; reasons: string[] };
}

export interface CallReport {
  model: string;
  call: number;
  /** Valid rules not written because they behave like an existing rule (hit-set Jaccard). */
  duplicates?: number;
  /** Models that answered a turn of this call (a fallback shows here). */
  answered_by: string[];
  turns: number;
  repair_rounds: number;
  stop_reasons: string[];
  tokens: Tokens;
  cost_usd: number | null;
  latency_ms: number;
  accepted: number;
  /** Rules beyond the count asked for (or the tool's maxItems), summed over turns: reported, not written. */
  extra_rules: number;
  /** Rules still invalid when the call ended, with every reason. */
  invalid: InvalidRule[];
  /** Why the call ended without (all of) its rules, when it did. */
  problem?: string;
  /** A failure that survived retries and fallbacks. */
  error?: string;
}

export interface ModelSummary {
  model: string;
  calls: number;
  valid_rules: number;
  invalid_rules: number;
  repair_rounds: number;
  /** Best recall on the test window among this model's candidates that pass the gate. */
  best_recall_at_gate: number | null;
  passing_gate: number;
  tokens: Tokens;
  cost_usd: number | null;
  latency_ms: number;
  fallbacks: string[];
  errors: string[];
}

export interface ModelProposeResult {
  provider: ModelProviderName;
  prompt: string;
  /** sha256 of the canonical JSON of the context sent. */
  input: string;
  dryRun: boolean;
  candidates: ModelCandidate[];
  calls: CallReport[];
  models: ModelSummary[];
  cost_usd: number | null;
  /** Set when --max-cost stopped calls. */
  stopped?: string;
  seconds: number;
  /** Dry run: the first request of every call, exactly as it would be sent. */
  requests?: ConverseRequest[];
  estimated_input_tokens?: number;
  /** Dry run: llm.max_tokens per request, the most the first turns can produce. */
  estimated_output_tokens?: number;
  /** Dry run: the price table applied to the estimates (first turns, no cache, no repairs); null when a model is not priced. */
  estimated_cost_usd?: number | null;
  cassettes_written?: string[];
  /** `--refine`: the conversation of every refine round, per model (their cost is in `cost_usd`). */
  refine_calls?: (ToolCallReport & { round: number; rules: number; revised: number })[];
}

/** A run that failed after some calls succeeded; `result` lists what was kept. Exit 3. */
export class ProposeRunError extends ExternalError {
  constructor(
    headline: string,
    readonly result: ModelProposeResult,
    problems: Problem[] = [],
  ) {
    super(headline, problems);
  }
}
