/**
 * `rulegen/runtime`: load a released ruleset bundle and evaluate sessions against it, with no
 * dependency on DuckDB, the AWS SDK, the CLI or the file system.
 *
 *   import { loadRuleset, evaluate, decide } from 'rulegen/runtime';
 *   const rs = loadRuleset(bundleJsonText);      // refuses a bad bundle (RulesetError.reason)
 *   const d = evaluate(rs, session);             // { action, matches, errors }
 *   const a = decide(rs, session);               // d.action alone, allocation-free
 */
export {
  decide,
  effectiveAction,
  evaluate,
  loadRuleset,
  Ruleset,
  RulesetError,
  type Decision,
  type EvalError,
  type Match,
  type RulesetErrorReason,
  type Session,
} from './evaluator.js';
export { BUNDLE_SCHEMA, STAGES, ACTIONS, type Action, type Bundle, type BundleRule, type Stage } from '../release/schema.js';
export { bundleDigest, canonicalJson, sha256Hex } from './canonical.js';
