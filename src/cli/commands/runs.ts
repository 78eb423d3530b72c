import type { Register } from './index.js';
import { InputError } from '../../errors.js';
import { formatRuns, readRuns } from '../../runs/record.js';
import { openWorkspace } from '../../workspace.js';

/** `--since`: an ISO date or time, or a span back from now such as 7d, 12h, 30m. */
export function parseSince(raw: string, now = new Date()): Date {
  const span = /^(\d+)\s*([dhm])$/.exec(raw.trim());
  if (span) return new Date(now.getTime() - Number(span[1]) * { d: 86400_000, h: 3600_000, m: 60_000 }[span[2] as 'd' | 'h' | 'm']);
  const d = new Date(raw);
  if (/^\d{4}-\d{2}-\d{2}/.test(raw.trim()) && !Number.isNaN(d.getTime())) return d;
  throw InputError.single({
    message: 'invalid --since',
    where: { field: '--since' },
    expected: 'an ISO date or time (2026-01-10, 2026-01-10T12:00Z) or a span such as 7d, 12h, 30m',
    found: raw,
  });
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('runs')
    .description('the record of every propose, fp, eval, backtest, check, approve and reject run (.rulegen/runs/)')
    .option('--since <t>', 'only runs from this time on: an ISO date/time or a span such as 7d, 12h')
    .action(async (opts: { since?: string }) => {
      const g = globals();
      const since = opts.since === undefined ? undefined : parseSince(opts.since);
      const ws = openWorkspace(g.workspace);
      const { records, skipped } = readRuns(ws.paths.runs, since ? { since } : {});
      io.stdout(g.json ? JSON.stringify({ runs: records, skipped }, null, 2) + '\n' : formatRuns(records));
      if (skipped && !g.quiet) io.stderr(`warning: ${skipped} line(s) in ${ws.paths.runs} are not run records and were skipped\n`);
    });
};
