import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Register } from './index.js';
import { ingestLogs, type IngestLogsSummary } from '../../ingest/logs/ingest-logs.js';
import { LOG_FORMATS, type LogFormat } from '../../ingest/logs/formats.js';
import { mergeLogCatalog, writeLogCatalog, type CatalogMerge } from '../../ingest/logs/catalog.js';
import { withWorkspaceStore } from './with-store.js';
import { formatProblem, InputError } from '../../errors.js';
import { parseCatalog } from '../../catalog/load.js';

const n = (x: number) => x.toLocaleString('en-US');

export function formatLogSummary(s: IngestLogsSummary, cat: CatalogMerge, table: string): string {
  const pct = (x: number) => (s.sessions ? ` (${((100 * x) / s.sessions).toFixed(1)}%)` : '');
  const lines = [
    ...s.files.map((f) => `${f.file}: ${f.format}${f.detected ? ' (detected)' : ''}, ${n(f.lines)} lines, ${n(f.bad)} malformed`),
    ...s.globs.map((g) => `  ${g.pattern} matched ${g.files.length} file${g.files.length === 1 ? '' : 's'}`),
    `parsed ${n(s.requests)} requests of ${n(s.lines)} lines; ${n(s.bad.count)} malformed ` +
      `(${(100 * s.bad.share).toFixed(2)}%)${s.bad.first.length ? `, first at line ${s.bad.first.map((b) => b.line).join(', ')}` : ''}`,
    `built ${n(s.sessions)} sessions into ${table} (key ${s.key}, gap ${s.gap_s} s)${s.replaced ? ', replacing the previous table' : ''}; ` +
      `requests kept in the requests view (over the lines as parsed, stored once)`,
    `  bots:       ${n(s.bots)}${pct(s.bots)}`,
    `  humans:     ${n(s.humans)}${pct(s.humans)}`,
    `  unlabelled: ${n(s.unlabelled)}${pct(s.unlabelled)}`,
    `  labels:     ${s.labels}`,
    `  time range: ${s.from} .. ${s.to}`,
    `  site hosts: ${s.hosts.names.length ? s.hosts.names.join(', ') : 'none (in-site referrers compare with the request host)'}` +
      (s.hosts.inferred ? ' (inferred: the most common referring host; set logs.hosts to change)' : ''),
    `features.yaml: ${cat.added.length} features added, ${cat.kept.length} kept as ` +
      `written${cat.removed.length ? `, ${cat.removed.length} removed (no such column in log sessions; previous file kept as ${cat.backup})` : ''}`,
  ];
  return lines.join('\n') + '\n';
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('ingest-logs')
    .description('access logs (Apache/Nginx common or combined, ALB, CloudFront, JSON lines) -> sessions with behavioural features, all or nothing')
    .argument('<files...>', 'log files (.gz read directly); a name with * ? [ ] is a glob pattern only when no such file exists')
    .addOption(new Option('--format <format>', 'log format (default: detected from the first lines)').choices([...LOG_FORMATS]))
    .option('--gap <duration>', 'inactivity that ends a session, e.g. 30m, 1h, 90s (default: logs.gap, 30m)')
    .option('--key <key>', 'visitor key: ip+ua, ip, or a JSON field (default: logs.key, ip+ua)')
    .option('--tz <zone>', 'time zone for the night-time share (default: logs.tz, UTC)')
    .option('--glob', 'treat every argument as a glob pattern', false)
    .option('--replace', 'replace the sessions table (sessions are built from whole logs, never appended)', false)
    .action(async (files: string[], opts: { format?: LogFormat; gap?: string; key?: string; tz?: string; glob: boolean; replace: boolean }) => {
      const g = globals();
      await withWorkspaceStore(
        io,
        g,
        async (ws, store, bar) => {
          // The merged catalog is computed (and checked) before any data changes, written after.
          const merge = mergeLogCatalog(ws.paths.catalog);
          try {
            parseCatalog(merge.text, ws.paths.catalog);
          } catch (e) {
            if (e instanceof InputError)
              throw new InputError(`${ws.paths.catalog}: the catalog cannot take the log features; fix or remove the entries named`, e.problems);
            throw e;
          }
          const summary = await ingestLogs(store, ws.config, {
            files: files.map((f) => resolve(io.cwd, f)),
            format: opts.format,
            gap: opts.gap,
            key: opts.key,
            tz: opts.tz,
            glob: opts.glob,
            replace: opts.replace,
            onStep: bar.step,
            onProgress: bar.tick,
          });
          writeLogCatalog(ws.paths.catalog, merge);
          bar.done();
          if (!g.quiet) {
            for (const w of summary.warnings) io.stderr(formatProblem(w) + '\n');
            for (const c of merge.conflicts)
              io.stderr(`note: features.yaml declared "${c.name}" as ${c.catalog}; the log makes it a ${c.log}, which now applies\n`);
          }
          io.stdout(
            g.json
              ? JSON.stringify({ ...summary, catalog: { added: merge.added, kept: merge.kept, removed: merge.removed, backup: merge.backup } }, null, 2) + '\n'
              : formatLogSummary(summary, merge, ws.config.data.table),
          );
        },
        { access: { mode: 'write', command: 'ingest-logs' } },
      );
    });
};
