import { resolve } from 'node:path';
import type { Register } from './index.js';
import { isDialect } from '../../compile/compile.js';
import { InputError } from '../../errors.js';
import { writeFileAtomic } from '../../fsutil.js';
import { jsonLogicExport } from '../../export/json-logic.js';
import { workspaceExportRules } from '../../export/rules.js';
import { sqlView } from '../../export/sql-view.js';
import { openWorkspace } from '../../workspace.js';

const TARGETS = ['sql-view', 'json-logic'] as const;

export const register: Register = (program, { io, globals }) => {
  program
    .command('export')
    .description('the approved rules for where they run: a SQL view tagging sessions with rule ids and actions, or JsonLogic')
    .requiredOption('--target <t>', 'sql-view or json-logic')
    .option('--dialect <d>', 'for sql-view: duckdb, postgres, trino or spark', 'duckdb')
    .option('--view <name>', 'for sql-view: the view name', 'rulegen_decisions')
    .option('--out <file>', 'write to a file instead of stdout')
    .action((opts: { target: string; dialect: string; view: string; out?: string }) => {
      const g = globals();
      if (!(TARGETS as readonly string[]).includes(opts.target))
        throw InputError.single({ message: 'unknown export target', where: { field: '--target' }, expected: TARGETS.join(' or '), found: opts.target });
      if (opts.target === 'sql-view' && !isDialect(opts.dialect))
        throw InputError.single({
          message: 'unknown SQL dialect',
          where: { field: '--dialect' },
          expected: 'duckdb, postgres, trino or spark',
          found: opts.dialect,
        });
      const ws = openWorkspace(g.workspace);
      const rules = workspaceExportRules(ws);
      const text =
        opts.target === 'sql-view' && isDialect(opts.dialect)
          ? sqlView(rules, ws.catalog, { dialect: opts.dialect, table: ws.config.data.table, view: opts.view })
          : JSON.stringify(jsonLogicExport(rules), null, 2) + '\n';
      if (opts.out) {
        const file = resolve(io.cwd, opts.out);
        writeFileAtomic(file, text);
        if (!g.quiet) io.stderr(`wrote ${rules.length} rule${rules.length === 1 ? '' : 's'} to ${file}\n`);
      } else io.stdout(text);
    });
};
