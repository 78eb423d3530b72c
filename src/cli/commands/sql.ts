/** `rulegen sql RULE|EXPR [--dialect D]`: the compiled SQL of a rule file, a rule id or a condition. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import { compile, countStatement, DIALECTS, type Dialect } from '../../compile/compile.js';
import { InputError, formatProblem, type Problem } from '../../errors.js';
import type { Expr } from '../../rule/ast.js';
import { checkCondition, hasErrors } from '../../rule/checks.js';
import { loadRuleDir, loadRuleFile, type RuleLoad } from '../../rule/file.js';
import { parseCondition } from '../../rule/parser.js';
import { print } from '../../rule/printer.js';
import { openWorkspace, type Workspace } from '../../workspace.js';
import type { Register } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the argument named: a rule (from a file or by id) or a bare condition. */
interface Target {
  ast: Expr;
  ruleId?: string;
  file?: string;
  warnings: Problem[];
}

function fromLoad(load: RuleLoad): Target {
  if (!load.rule) throw new InputError(`${load.file}: the rule has errors`, load.problems.filter((p) => p.severity === 'error'));
  return { ast: load.rule.ast, ruleId: load.rule.id, file: load.file, warnings: load.problems.filter((p) => p.severity === 'warning') };
}

export function resolveTarget(arg: string, ws: Workspace, cwd: string): Target {
  const path = resolve(cwd, arg);
  if (existsSync(path) && statSync(path).isFile()) return fromLoad(loadRuleFile(path, ws.catalog));
  if (UUID.test(arg.trim())) {
    const id = arg.trim().toLowerCase();
    for (const dir of [ws.paths.rules, ws.paths.candidates]) {
      for (const ext of ['.yaml', '.yml']) {
        const f = join(dir, id + ext);
        if (existsSync(f)) return fromLoad(loadRuleFile(f, ws.catalog));
      }
    }
    const hit = [...loadRuleDir(ws.paths.rules, ws.catalog), ...loadRuleDir(ws.paths.candidates, ws.catalog)].find((l) => l.id?.toLowerCase() === id);
    if (hit) return fromLoad(hit);
    throw InputError.single({ message: `no rule with id ${id}`, expected: `a rule in ${ws.paths.rules} or ${ws.paths.candidates}`, found: id });
  }
  if (/\.ya?ml$/i.test(arg.trim())) {
    throw InputError.single({ message: 'cannot read the rule file', where: { file: path }, expected: 'a readable file', found: 'no such file' });
  }
  const parsed = parseCondition(arg);
  if (!parsed.ok) throw InputError.single({ ...parsed.problem, message: `invalid condition: ${parsed.problem.message}`, where: { file: '<expression>', ...parsed.problem.where } });
  const findings = checkCondition(parsed.ast, ws.catalog).map(({ node: _node, ...p }) => p);
  if (hasErrors(findings)) throw new InputError('the condition has errors', findings.filter((p) => p.severity === 'error'));
  return { ast: parsed.ast, warnings: findings };
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
