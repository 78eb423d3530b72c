/** `rulegen sql RULE|EXPR [--dialect D]`: the compiled SQL of a rule file, a rule id or a condition. */
import { Option } from 'commander';
import { compile, countStatement, DIALECTS, type Dialect } from '../../compile/compile.js';
import { InputError, formatProblem, type Problem } from '../../errors.js';
import type { Expr } from '../../rule/ast.js';
import { resolveRuleArg } from '../../rule/resolve.js';
import { print } from '../../rule/printer.js';
import { openWorkspace, type Workspace } from '../../workspace.js';
import type { Register } from './index.js';

/** What the argument named, or an InputError listing why it names nothing. */
function resolveTarget(arg: string, ws: Workspace, cwd: string): { ast: Expr; ruleId?: string; warnings: Problem[] } {
  const r = resolveRuleArg(arg, ws, cwd);
  if (r.kind === "error") throw new InputError("", r.problems);
  return r.kind === 'rule' ? { ast: r.rule.ast, ruleId: r.rule.id, warnings: r.warnings } : r;
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('sql <rule-or-expression...>')
    .description('print the SQL of a rule file, a rule id or a condition (and its parameters)')
    .addOption(new Option('--dialect <dialect>', 'target SQL dialect').choices(DIALECTS).default('duckdb'))
    .option('--statement', 'print a whole `select count(*)` over the workspace table, not just the predicate', false)
    .action(async (parts: string[], opts: { dialect: Dialect; statement: boolean }) => {
      const g = globals();
      const ws = openWorkspace(g.workspace);
      const target = resolveTarget(parts.join(' '), ws, io.cwd);
      if (!g.quiet) for (const w of target.warnings) io.stderr(formatProblem(w) + '\n');
      const predicate = compile(target.ast, ws.catalog, opts.dialect);
      const out = opts.statement ? countStatement(predicate, ws.config.data.table, opts.dialect) : predicate;
      if (g.json) {
        const doc = { dialect: opts.dialect, rule: target.ruleId ?? null, condition: print(target.ast), sql: out.sql, parameters: out.parameters };
        io.stdout(JSON.stringify(doc) + '\n');
        return;
      }
      io.stdout(out.sql + '\n');
      if (opts.dialect === 'duckdb') io.stdout(`-- parameters: ${JSON.stringify(out.parameters)}\n`);
    });
};
