/**
 * The rule lifecycle: candidate -> approved -> deprecated, candidate -> rejected. Every
 * decision is written into the rule file (status and `review:` block) and kept for audit.
 *
 * Each command works in three steps, so that bad input or a failing gate leaves every file as
 * it was: (1) resolve and check everything, reporting all problems at once (decision.ts);
 * (2) plan the new file contents and render the docs from that planned state, in memory;
 * (3) write them all as one journaled batch (commit.ts, journal.ts): a kill -9 at any point
 * leaves either nothing changed or a journal that the next command replays to completion.
 *
 * This module is the public entry; each decision lives in its own file.
 */
export type { DecisionResult, Decided } from './decision.js';
export { applyPrepared, type Prepared } from './commit.js';
export { approve, prepareApprove, type ApproveOptions, type Approval } from './approve.js';
export { reject, prepareReject, rejectedExamples, type RejectOptions, type RejectedExample } from './reject.js';
export { deprecate, prepareDeprecate, type DeprecateOptions } from './deprecate.js';
export { recoverBeforeCommand } from './recovery.js';
