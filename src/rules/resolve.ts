/**
 * What a command-line argument names, by one set of rules for every command:
 * - a rule file path (that exists);
 * - a rule id or file name, exactly, or a unique prefix of 8+ characters of either;
 * - else a condition expression (checked against the catalog).
 * `matchRules` is the id part alone, for commands that take only ids (approve, reject, deprecate).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import type { Workspace } from '../workspace.js';
import type { Expr } from '../rule/ast.js';
import { checkCondition, hasErrors } from '../rule/checks.js';
import type { Rule, RuleLoad } from '../rule/file.js';
import { parseCondition } from '../rule/parser.js';
import { loadRuleFile, loadWorkspaceRules } from './load.js';

export type Resolved =
  | { kind: 'rule'; rule: Rule; file: string; warnings: Problem[] }
  | { kind: 'expression'; ast: Expr; warnings: Problem[] }
  | { kind: 'error'; problems: Problem[] };

const ID_LIKE = /^[0-9a-f]{8}(-[0-9a-f]{0,4}){0,4}[0-9a-f]*$/i;

const stemOf = (file: string) =>
  basename(file)
    .replace(/\.ya?ml$/i, '')
    .toLowerCase();

/**
 * Loads matching an id or a file name (a path counts by its file name), exactly; failing that,
 * by a prefix of 8+ characters. More than one hit means the argument is ambiguous.
 */
export function matchRules(arg: string, loads: readonly RuleLoad[]): RuleLoad[] {
  const a = basename(arg.trim())
    .replace(/\.ya?ml$/i, '')
    .toLowerCase();
  if (!a) return [];
  const exact = loads.filter((l) => l.id?.toLowerCase() === a || stemOf(l.file) === a);
  if (exact.length) return exact;
  if (a.length < 8) return [];
  return loads.filter((l) => l.id?.toLowerCase().startsWith(a) || stemOf(l.file).startsWith(a));
}

function fromLoad(load: RuleLoad): Resolved {
  if (!load.rule) return { kind: 'error', problems: [...load.problems] };
  return { kind: 'rule', rule: load.rule, file: load.file, warnings: load.problems.filter((p) => p.severity === 'warning') };
}

/** `loads` (every rule file of the workspace) may be passed in to resolve many arguments at once. */
export function resolveRuleArg(arg: string, ws: Workspace, cwd: string, loads?: readonly RuleLoad[]): Resolved {
  const text = arg.trim();
  const path = resolve(cwd, text);
  if (existsSync(path) && statSync(path).isFile()) return fromLoad(loadRuleFile(path, ws.catalog));
  if (/\.ya?ml$/i.test(text)) {
    return {
      kind: 'error',
      problems: [{ severity: 'error', message: 'cannot read the rule file', where: { file: path }, expected: 'a readable file', found: 'no such file' }],
    };
  }
  if (ID_LIKE.test(text)) {
    const hits = matchRules(text, loads ?? loadWorkspaceRules(ws).all);
    if (hits.length === 1) return fromLoad(hits[0]!);
    if (hits.length > 1)
      return {
        kind: 'error',
        problems: [
          {
            severity: 'error',
            message: `"${text}" matches several rules`,
            where: { field: 'RULE' },
            expected: 'a unique id or prefix',
            found: hits.map((h) => h.id).join(', '),
          },
        ],
      };
    return {
      kind: 'error',
      problems: [
        {
          severity: 'error',
          message: `unknown rule id "${text}"`,
          where: { field: 'RULE' },
          expected: `the id of a rule in ${ws.paths.rules} or ${ws.paths.candidates}`,
          found: text,
        },
      ],
    };
  }
  const parsed = parseCondition(arg);
  if (!parsed.ok)
    return {
      kind: 'error',
      problems: [{ ...parsed.problem, message: `invalid condition: ${parsed.problem.message}`, where: { file: '<expression>', ...parsed.problem.where } }],
    };
  const findings = checkCondition(parsed.ast, ws.catalog).map(({ node: _node, ...p }) => p);
  if (hasErrors(findings)) return { kind: 'error', problems: findings };
  return { kind: 'expression', ast: parsed.ast, warnings: findings };
}
