/** `rulegen sql RULE|EXPR... [--dialect D]`: the compiled SQL of rule files, rule ids or a condition. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { compile, countStatement, DIALECTS, type Dialect } from '../../compile/compile.js';
import { InputError, formatProblem, type Problem } from '../../errors.js';
import type { Expr } from '../../rule/ast.js';
import { resolveRuleArg } from '../../rules/resolve.js';
import { print } from '../../rule/printer.js';
import { openWorkspace, type Workspace } from '../../workspace.js';
import type { Register } from './index.js';

interface SqlTarget {
  ast: Expr;
  ruleId?: string;
  title?: string;
  warnings: Problem[];
}

/** What the argument named, or the problems saying why it names nothing. */
function resolveTarget(arg: string, ws: Workspace, cwd: string): SqlTarget | Problem[] {
  const r = resolveRuleArg(arg, ws, cwd);
  if (r.kind === 'error') return r.problems;
  return r.kind === 'rule' ? { ast: r.rule.ast, ruleId: r.rule.id, title: r.rule.title, warnings: r.warnings } : r;
}

const UUID_PREFIX = /^[0-9a-f]{8}(-[0-9a-f]{0,4}){0,4}[0-9a-f]*$/i;

/** Whether a word names a rule (a file, a *.yaml path or an id) rather than part of a condition. */
function namesRule(word: string, cwd: string): boolean {
  const path = resolve(cwd, word);
  return /\.ya?ml$/i.test(word) || UUID_PREFIX.test(word) || (existsSync(path) && statSync(path).isFile());
}

/**
 * The arguments as separate rules (`sql rules/*.yaml`, `sql id1 id2`) when any of them names a
 * rule; otherwise the words of one unquoted condition (`sql js_executed or headless_ua`).
 */
export function sqlArguments(parts: readonly string[], cwd: string): string[] {
  return parts.length > 1 && parts.some((p) => namesRule(p, cwd)) ? [...parts] : [parts.join(' ')];
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('sql <rule-or-expression...>')
    .description('print the SQL of rule files, rule ids or a condition (and its parameters)')
    .addOption(new Option('--dialect <dialect>', 'target SQL dialect').choices(DIALECTS).default('duckdb'))
    .option('--statement', 'print a whole `select count(*)` over the workspace table, not just the predicate', false)
    .action(async (parts: string[], opts: { dialect: Dialect; statement: boolean }) => {
      const g = globals();
      const ws = openWorkspace(g.workspace);
      const args = sqlArguments(parts, io.cwd);
      // Every argument is resolved before anything is printed: one bad one fails the whole call.
      const resolved = args.map((a) => resolveTarget(a, ws, io.cwd));
      const problems = resolved.flatMap((r) => (Array.isArray(r) ? r : []));
      if (problems.length) throw new InputError('', problems);
      const targets = resolved as SqlTarget[];
      if (!g.quiet) for (const w of targets.flatMap((t) => t.warnings)) io.stderr(formatProblem(w) + '\n');
      const docs = targets.map((t) => {
        const predicate = compile(t.ast, ws.catalog, opts.dialect);
        const out = opts.statement ? countStatement(predicate, ws.config.data.table, opts.dialect) : predicate;
        return {
          t,
          out,
          doc: { dialect: opts.dialect, rule: t.ruleId ?? null, title: t.title ?? null, condition: print(t.ast), sql: out.sql, parameters: out.parameters },
        };
      });
      if (g.json) {
        const single = docs.length === 1 ? (({ title: _t, ...d }) => d)(docs[0]!.doc) : undefined;
        io.stdout(JSON.stringify(single ?? docs.map((d) => d.doc)) + '\n');
        return;
      }
      const text = docs.map(({ t, out }) => {
        const head = docs.length > 1 ? `-- ${t.ruleId ?? 'expression'}: ${(t.title ?? print(t.ast)).replace(/[\r\n]+/g, ' ')}\n` : '';
        const params = opts.dialect === 'duckdb' ? `-- parameters: ${JSON.stringify(out.parameters)}\n` : '';
        return head + out.sql + '\n' + params;
      });
      io.stdout(text.join('\n'));
    });
};
