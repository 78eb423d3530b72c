/**
 * What a command-line argument names: a rule file path, a rule id (or a unique prefix of 8+
 * characters) in the workspace's rules/ or candidates/, or else a condition expression.
 * One resolver for every command that takes RULE|ID|EXPR.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Problem } from '../errors.js';
import type { Workspace } from '../workspace.js';
import type { Expr } from './ast.js';
import { checkCondition, hasErrors } from './checks.js';
import { loadRuleDir, loadRuleFile, type Rule, type RuleLoad } from './file.js';
import { parseCondition } from './parser.js';

export type Resolved =
  | { kind: 'rule'; rule: Rule; file: string; warnings: Problem[] }
  | { kind: 'expression'; ast: Expr; warnings: Problem[] }
  | { kind: 'error'; problems: Problem[] };

const ID_LIKE = /^[0-9a-f]{8}(-[0-9a-f]{0,4}){0,4}[0-9a-f]*$/i;

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
    return { kind: 'error', problems: [{ severity: 'error', message: 'cannot read the rule file', where: { file: path }, expected: 'a readable file', found: 'no such file' }] };
  }
  if (ID_LIKE.test(text)) {
    const all = loads ?? [...loadRuleDir(ws.paths.rules, ws.catalog), ...loadRuleDir(ws.paths.candidates, ws.catalog)];
    const id = text.toLowerCase();
    const hits = all.filter((l) => l.id !== undefined && (l.id.toLowerCase() === id || (id.length >= 8 && l.id.toLowerCase().startsWith(id))));
    if (hits.length === 1) return fromLoad(hits[0]!);
    if (hits.length > 1) return { kind: 'error', problems: [{ severity: 'error', message: `"${text}" matches several rules`, where: { field: 'RULE' }, expected: 'a unique id or prefix', found: hits.map((h) => h.id).join(', ') }] };
    return { kind: 'error', problems: [{ severity: 'error', message: `unknown rule id "${text}"`, where: { field: 'RULE' }, expected: `the id of a rule in ${ws.paths.rules} or ${ws.paths.candidates}`, found: text }] };
  }
  const parsed = parseCondition(arg);
  if (!parsed.ok) return { kind: 'error', problems: [{ ...parsed.problem, message: `invalid condition: ${parsed.problem.message}`, where: { file: '<expression>', ...parsed.problem.where } }] };
  const findings = checkCondition(parsed.ast, ws.catalog).map(({ node: _node, ...p }) => p);
  if (hasErrors(findings)) return { kind: 'error', problems: findings };
  return { kind: 'expression', ast: parsed.ast, warnings: findings };
}
