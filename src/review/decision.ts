/**
 * What every lifecycle decision shares before anything is planned: its option and result
 * types, and the checks that turn the ids on the command line into rules, collecting every
 * problem so that one bad argument is reported with all the others and nothing is written.
 */
import { basename } from 'node:path';
import { InputError, type Problem } from '../errors.js';
import type { Rule, RuleLoad } from '../rule/file.js';
import { matchRules as matching } from '../rules/resolve.js';
import type { Workspace } from '../workspace.js';
import type { DocsResult } from '../report/docs.js';
import { reviewTrail } from './trail.js';

/** Options every decision shares; `now` is injectable so tests and golden files can pin it. */
export interface DecisionOptions {
  now?: Date;
  /** Regenerate docs/ (default true). */
  docs?: boolean;
  onStep?: (m: string) => void;
}

export interface DecisionResult<T> {
  decisions: T[];
  docs: DocsResult | null;
  /** Things the reviewer may want to do next (not errors). */
  notes: string[];
}

export interface Decided {
  id: string;
  title: string;
  file: string;
}

export function requireText(value: string | undefined, flag: string, what: string): string {
  const v = value?.trim() ?? '';
  if (!v)
    throw InputError.single({
      message: `${flag} is required: ${what}`,
      where: { field: flag },
      expected: `${flag} followed by a non-empty text`,
      found: value === undefined ? 'nothing' : 'an empty text',
    });
  return v;
}

export function problem(message: string, arg: string, expected: string, found: string, file?: string, ruleId?: string): Problem {
  return { severity: 'error', message, where: file ? { file, ruleId } : { field: arg }, expected, found };
}

export const decidedBy = (rule: Rule) => {
  const last = reviewTrail(rule).at(-1);
  return last
    ? ` by ${last.reviewer} on ${String(last.at instanceof Date ? last.at.toISOString() : last.at).slice(0, 10)}${last.note ? ` (${last.note})` : ''}`
    : '';
};

/**
 * Find one candidate per argument. Every problem is collected: an unknown id, an ambiguous
 * prefix, an id that is already approved or deprecated, a file edited into an invalid state.
 */
export function resolveCandidates(
  args: readonly string[],
  ws: Workspace,
  verb: string,
  rulesLoads: readonly RuleLoad[],
  candLoads: readonly RuleLoad[],
): { found: { load: RuleLoad; rule: Rule }[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const found: { load: RuleLoad; rule: Rule }[] = [];
  if (args.length === 0) problems.push(problem(`${verb} needs at least one candidate id`, 'ID', `ids of rules in ${ws.paths.candidates}`, 'none'));
  for (const arg of args) {
    const hits = matching(arg, candLoads);
    if (hits.length > 1) {
      problems.push(problem(`"${arg}" matches several candidates`, 'ID', 'a unique id or prefix', hits.map((h) => h.id ?? basename(h.file)).join(', ')));
      continue;
    }
    const load = hits[0];
    if (!load) {
      const inRules = matching(arg, rulesLoads)[0];
      const status = inRules?.rule?.status;
      if (inRules && status === 'approved')
        problems.push(
          problem(
            `rule ${inRules.id} is already approved`,
            arg,
            `a candidate in ${ws.paths.candidates} (an approved rule is never overwritten; change it by proposing a derived candidate)`,
            `an approved rule in ${inRules.file}`,
            inRules.file,
            inRules.id,
          ),
        );
      else if (inRules && status === 'deprecated')
        problems.push(
          problem(
            `rule ${inRules.id} is deprecated${decidedBy(inRules.rule!)}`,
            arg,
            `a candidate in ${ws.paths.candidates}`,
            `a deprecated rule in ${inRules.file}`,
            inRules.file,
            inRules.id,
          ),
        );
      else if (inRules)
        problems.push(
          problem(
            `rule file ${inRules.file} is not a candidate`,
            arg,
            `a candidate in ${ws.paths.candidates}`,
            status ? `status ${status}` : 'an invalid rule file',
            inRules.file,
            inRules.id,
          ),
        );
      else
        problems.push(problem(`unknown candidate id "${arg}"`, arg, `the id (or a unique 8+ character prefix) of a candidate in ${ws.paths.candidates}`, arg));
      continue;
    }
    if (!load.rule) {
      const errors = load.problems.filter((p) => p.severity === 'error');
      problems.push(
        problem(
          `cannot ${verb} ${load.id ?? arg}: its file is not a valid rule (${errors.length} error${errors.length === 1 ? '' : 's'} below); fix ` +
            `the file, or re-propose the rule`,
          arg,
          'a rule file that `rulegen lint` accepts',
          `${errors.length} error${errors.length === 1 ? '' : 's'}`,
          load.file,
          load.id,
        ),
      );
      problems.push(...errors);
      continue;
    }
    if (found.some((f) => f.load.file === load.file)) continue;
    found.push({ load, rule: load.rule });
  }
  return { found, problems };
}

export function statusProblem(verb: string, arg: { load: RuleLoad; rule: Rule }): Problem | null {
  const { rule, load } = arg;
  if (rule.status === 'candidate') return null;
  const msg =
    rule.status === 'rejected'
      ? `candidate ${rule.id} was rejected${decidedBy(rule)}; it stays in candidates/ for the record`
      : `${load.file} has status ${rule.status}`;
  return problem(`cannot ${verb} ${rule.id}: ${msg}`, rule.id, 'a rule with status candidate', `status ${rule.status}`, load.file, rule.id);
}

export function fail(verb: string, problems: Problem[]): never {
  const n = problems.filter((p) => p.severity === 'error').length;
  throw new InputError(`cannot ${verb}: ${n} problem${n === 1 ? '' : 's'}; nothing was written`, problems);
}
