import type { RuleResult } from '../../backtest/engine.js';
import type { Store } from '../../db/store.js';
import type { Limiter } from '../../llm/limit.js';
import type { LlmProvider } from '../../llm/types.js';
import type { Expr } from '../../rule/ast.js';
import type { Workspace } from '../../workspace.js';
import type { modelCatalog } from '../context.js';
import type { Budget } from './budget.js';
import type { Prompts } from './request.js';
import type { ModelCandidate, ModelProposeResult } from './types.js';
import type { Evaluator } from '../../backtest/engine-types.js';

/** A call that is not made (a failed model, --max-cost, the run deadline): reported, not an error. */
export class Aborted extends Error {}

/** What every call of one run shares. */
export interface RunEnv {
  ws: Workspace;
  store: Store;
  provider: LlmProvider;
  limiter: Limiter;
  storeLock: Limiter;
  prompts: Prompts;
  promptHash: string;
  input: string;
  catalog: ReturnType<typeof modelCatalog>;
  /** Printed conditions in use -> who holds them; grows as calls accept rules. */
  existing: Map<string, string>;
  budget: Budget;
  /** Models whose run ended in a failure: their remaining calls do not start. */
  failed: Set<string>;
  candidates: ModelCandidate[];
  note: (m: string) => void;
  /** Aborted at llm.run_timeout_ms: calls in flight stop, later ones do not start. */
  deadline: AbortSignal;
  /** Each candidate's AST and test-window result (what a refine round starts from). */
  measured: Map<string, { ast: Expr; result: RuleResult }>;
  refineCalls: NonNullable<ModelProposeResult['refine_calls']>;
  /** `--engine kernel|sql` for the candidates' backtests (default: the kernel where it runs). */
  evaluator?: Evaluator;
}
