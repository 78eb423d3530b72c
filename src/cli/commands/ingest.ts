import { resolve } from 'node:path';
import type { Register } from './index.js';
import { ingest, type IngestSummary } from '../../ingest/ingest.js';
import { withWorkspaceStore } from './with-store.js';
import { formatProblem } from '../../errors.js';

export function formatIngestSummary(s: IngestSummary, table: string): string {
  const pct = (n: number) => (s.rows ? ` (${((100 * n) / s.rows).toFixed(1)}%)` : '');
  return (
    [
      `loaded ${s.rows.toLocaleString('en-US')} sessions into ${table}${s.replaced ? ' (replaced)' : ''}; ${s.totalRows.toLocaleString('en-US')} in the table`,
      // Whenever a pattern was expanded, say which files it read: a glob can match more than meant.
      ...s.globs.map((g) => `  ${g.pattern} matched ${g.files.length} file${g.files.length === 1 ? '' : 's'}`),
      ...(s.files.length > 1 || s.globs.length ? s.files.map((f) => `  ${f.file}: ${f.rows.toLocaleString('en-US')}`) : []),
      `  bots:       ${s.bots.toLocaleString('en-US')}${pct(s.bots)}`,
      `  humans:     ${s.humans.toLocaleString('en-US')}${pct(s.humans)}`,
      `  unlabelled: ${s.unlabelled.toLocaleString('en-US')}${pct(s.unlabelled)}`,
      `  time range: ${s.from} .. ${s.to}`,
      `  extra columns kept (not features): ${s.extras.length ? s.extras.join(', ') : 'none'}`,
    ].join('\n') + '\n'
  );
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('ingest')
    .description('load feature files (csv, tsv, parquet, json, ndjson, arrow ipc) into the sessions table, all or nothing')
    .argument('<files...>', 'files to load; a name with * ? [ ] is a glob pattern only when no such file exists')
    .option('--replace', 'replace the table instead of appending', false)
    .option('--glob', 'treat every argument as a glob pattern (matches are listed in the summary)', false)
    .action(async (files: string[], opts: { replace: boolean; glob: boolean }) => {
      const g = globals();
      await withWorkspaceStore(
        io,
        g,
        async (ws, store, bar) => {
          const summary = await ingest(store, ws.config, ws.catalog, {
            files: files.map((f) => resolve(io.cwd, f)),
            replace: opts.replace,
            glob: opts.glob,
            onStep: bar.step,
            onProgress: bar.tick,
          });
          bar.done();
          if (!g.quiet) for (const w of summary.warnings) io.stderr(formatProblem(w) + '\n');
          io.stdout(g.json ? JSON.stringify(summary, null, 2) + '\n' : formatIngestSummary(summary, ws.config.data.table));
          // the one command that changes tables: it takes the workspace lock
        },
        { access: { mode: 'write', command: 'ingest' } },
      );
    });
};
