import type { RULE_ACTIONS } from '../rule/file.js';

/** What a rule does to the sessions it hits. */
export type RuleAction = (typeof RULE_ACTIONS)[number];
