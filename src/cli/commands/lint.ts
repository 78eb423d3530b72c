/** `rulegen lint [PATH...]`: validate rule files and print every finding; exit 2 on any error. */
import { relative, resolve } from 'node:path';
import { formatProblem, ReportedFailure, type Problem } from '../../errors.js';
import { lintTargets } from '../../rules/load.js';
import { openWorkspace } from '../../workspace.js';
import type { Register } from './index.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('lint [paths...]')
    .description('validate rule files (default: rules/ and candidates/) and print every finding')
    .action(async (paths: string[]) => {
      const g = globals();
      const ws = openWorkspace(g.workspace);
      const explicit = paths.length > 0;
      const targets = explicit ? paths.map((p) => resolve(io.cwd, p)) : [ws.paths.rules, ws.paths.candidates];
      const result = lintTargets(targets, ws.catalog, explicit);
      const show = (f: string): string => {
        const r = relative(io.cwd, f);
        return r && !r.startsWith('..') ? r : f;
      };
      const all: Problem[] = [...result.problems, ...result.loads.flatMap((l) => l.problems)].map((p) => ({
        ...p,
        where: p.where && { ...p.where, file: p.where.file && show(p.where.file) },
      }));
      const errors = all.filter((p) => p.severity === 'error').length;
      const warnings = all.length - errors;
      if (g.json) {
        const files = result.loads.map((l) => ({
          file: show(l.file),
          id: l.id ?? null,
          ok: l.rule !== undefined,
          problems: l.problems.map((p) => ({ ...p, where: p.where && { ...p.where, file: show(l.file) } })),
        }));
        io.stdout(JSON.stringify({ files, problems: result.problems, errors, warnings }) + '\n');
      } else {
        for (const p of all) {
          // `file:line:col: severity: message` as editors and CI annotators expect: the field and
          // rule id are dropped from the heading once a line number says where.
          const where = p.where && (p.where.line !== undefined ? { file: p.where.file, line: p.where.line, column: p.where.column } : p.where);
          io.stdout(formatProblem({ ...p, where }) + '\n');
        }
      }
      if (!g.quiet) {
        const n = result.loads.length;
        io.stderr(`${n} rule file${n === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
      }
      if (errors > 0) throw new ReportedFailure(2);
    });
};
