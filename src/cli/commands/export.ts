import { resolve } from 'node:path';
import type { Register } from './index.js';
import { Option } from 'commander';
import { DIALECTS, type Dialect } from '../../compile/compile.js';
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
    .addOption(new Option('--dialect <d>', 'for sql-view: the SQL dialect').choices(DIALECTS).default('duckdb'))
    .option('--view <name>', 'for sql-view: the view name', 'rulegen_decisions')
    .option('--out <file>', 'write to a file instead of stdout')
    .action((opts: { target: string; dialect: Dialect; view: string; out?: string }) => {
      const g = globals();
      if (!(TARGETS as readonly string[]).includes(opts.target))
        throw InputError.single({ message: 'unknown export target', where: { field: '--target' }, expected: TARGETS.join(' or '), found: opts.target });
      const ws = openWorkspace(g.workspace);
      const rules = workspaceExportRules(ws);
      const text =
        opts.target === 'sql-view'
          ? sqlView(rules, ws.catalog, { dialect: opts.dialect, table: ws.config.data.table, view: opts.view })
          : JSON.stringify(jsonLogicExport(rules), null, 2) + '\n';
      if (opts.out) {
        const file = resolve(io.cwd, opts.out);
        writeFileAtomic(file, text);
        if (!g.quiet) io.stderr(`wrote ${rules.length} rule${rules.length === 1 ? '' : 's'} to ${file}\n`);
      } else io.stdout(text);
    });
};
