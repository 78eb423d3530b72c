import type { Register } from './index.js';
import { runDemo, type DemoResult } from '../../demo.js';
import { formatBacktest } from '../../backtest/format.js';
import { progress } from '../context.js';
import { formatIngestSummary } from './ingest.js';
import { incrementalText } from '../../review/findings.js';
import { InputError, ReportedFailure } from '../../errors.js';
import { MAX_SESSIONS } from '../../synth/generate.js';
import { runLogsDemo, type LogsDemoResult } from '../../demo-logs.js';

function formatLogsDemo(r: LogsDemoResult): string {
  const s = r.ingest;
  const top = r.ranking.features.slice(0, 5).map((f, i) => `  ${i + 1}. ${f.feature} (AUC ${f.auc?.toFixed(3) ?? 'n/a'}, bots ${f.direction ?? 'n/a'})`);
  return [
    `demo workspace: ${r.dir} (the real access log ${r.log})`,
    '',
    `1. ingest-logs: ${s.lines.toLocaleString('en-US')} lines (${s.bad.count} malformed) -> ${s.sessions.toLocaleString('en-US')} ` +
      `sessions: ${s.bots.toLocaleString('en-US')} declare a bot, ${s.humans.toLocaleString('en-US')} labelled human`,
    `   ${s.labels}`,
    `   gate: max_fpr 5%, min_precision 85% — what ~500 labelled humans in the test window can judge (see rulegen.yaml)`,
    '',
    '2. rank (train window): the most separating features (user-agent features are label leaks and left out of propose)',
    ...top,
    '',
    `3. propose (offline:${r.proposed.method}): ${r.proposed.candidates.length} candidates written to ${r.dir}/candidates/`,
    ...r.proposed.candidates.map((c) => `  ${c.id.slice(0, 8)}  ${c.condition}`),
    '',
    '4. backtest (test window)',
    formatBacktest(r.backtest, { segments: false }).trimEnd(),
    '',
    `5. approve: ${r.review.approved.length} approved into ${r.dir}/rules/`,
    ...r.review.notes.map((n) => `  ${n}`),
    `6. docs: open ${r.dir}/docs/report.html`,
    `7. check (what CI runs): ${r.check.passed ? 'passed' : 'FAILED'}, ${r.check.rules.filter((x) => x.verdict.pass).length} ` +
      `of ${r.check.rules.length} approved rules within the gate`,
    '',
  ].join('\n');
}

/** The fewest sessions the demo runs on: below that the test window holds too few people to say anything. */
const MIN_SESSIONS = 1_000;

/** `--sessions`: a whole number (underscores allowed, as in 20_000); anything else names the flag, what was expected and what came. */
function sessionsFlag(raw: string): number {
  const text = raw.trim().replaceAll('_', '');
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < MIN_SESSIONS || value > MAX_SESSIONS) {
    throw InputError.single({
      message: 'invalid value for --sessions',
      where: { field: '--sessions' },
      expected: `a whole number from ${MIN_SESSIONS.toLocaleString('en-US')} to ${MAX_SESSIONS.toLocaleString('en-US')}`,
      found: JSON.stringify(raw),
    });
  }
  return value;
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('demo')
    .description('run the pipeline on synthetic traffic in a fresh workspace (no credentials needed)')
    .option('--dir <dir>', 'workspace to create (re-created if it is an earlier demo)', 'rulegen-demo')
    .option('--sessions <n>', "synthetic sessions to generate (Claude's recorded answer exists for the default only)", '100000')
    .option('--logs', 'run on the real access log shipped in fixtures/logs/ (ingest-logs, offline propose) instead of synthetic sessions', false)
    .action(async (opts: { dir: string; sessions: string; logs: boolean }) => {
      const g = globals();
      const sessions = sessionsFlag(opts.sessions);
      const bar = progress(io, g.quiet);
      if (opts.logs) {
        try {
          const r = await runLogsDemo({ dir: opts.dir, cwd: io.cwd, onStep: bar.step });
          bar.done();
          io.stdout(g.json ? JSON.stringify(r, null, 2) + '\n' : formatLogsDemo(r));
          if (!r.check.passed) throw new ReportedFailure(1);
        } finally {
          bar.done();
        }
        return;
      }
      try {
        const r = await runDemo({ dir: opts.dir, cwd: io.cwd, sessions, onStep: bar.step });
        bar.done();
        // the demo ends with the CI check on what it approved: a failing check fails the demo (exit 1, as `rulegen check`)
        io.stdout(g.json ? JSON.stringify(r, null, 2) + '\n' : formatDemo(r));
        if (!r.check.passed) throw new ReportedFailure(1);
      } finally {
        bar.done();
      }
    });
};

function formatDemo(r: DemoResult): string {
  const top = r.ranking.features.slice(0, 5).map((f, i) => `  ${i + 1}. ${f.feature} (AUC ${f.auc?.toFixed(3) ?? 'n/a'}, bots ${f.direction ?? 'n/a'})`);
  return [
    `demo workspace: ${r.dir}`,
    `synthetic data: ${r.data}`,
    '',
    '1. ingest',
    formatIngestSummary(r.ingest, 'sessions').trimEnd(),
    '',
    '2. rank (train window): the most separating features',
    ...top,
    '',
    `3. propose (offline:${r.proposed.method}): ${r.proposed.candidates.length} candidates written to ${r.dir}/candidates/`,
    ...r.proposed.candidates.map((c) => `  ${c.id.slice(0, 8)}  ${c.condition}`),
    '',
    ...(r.replayed
      ? [
          `   replay (Claude's recorded answer for this data, no credentials): ${r.replayed.candidates.length} ` +
            `candidates, ${r.replayed.candidates.filter((c) => c.gate.pass).length} within the gate on the test window`,
          ...r.replayed.candidates.map((c) => `  ${c.id.slice(0, 8)}  ${c.condition}`),
        ]
      : [`   replay: skipped: ${r.replaySkipped ?? 'no recorded answer for this data'}`]),
    '',
    '4. backtest (test window)',
    formatBacktest(r.backtest, { segments: false }).trimEnd(),
    '',
    '5. review: ' +
      (r.review.listing
        ? `${r.review.listing.items.filter((i) => i.verdict.pass).length} of ${r.review.listing.items.length} candidates pass every gate ` +
          '(per rule, the deployed set, protected populations, stability, duplicates)'
        : ''),
    ...(r.review.listing?.items ?? [])
      .filter((i) => !i.verdict.pass)
      .map((i) => `  FAIL ${i.id.slice(0, 8)}: ${i.verdict.reasons[0]}${i.verdict.reasons.length > 1 ? ` (and ${i.verdict.reasons.length - 1} more)` : ''}`),
    '',
    `   approve (what passes, best first, while the deployed set stays within the gate): ${r.review.approved.length} approved into ${r.dir}/rules/`,
    ...r.review.approved.flatMap((a) => (a.incremental ? [`  ${a.id.slice(0, 8)}  ${incrementalText(a.incremental)}`] : [])),
    ...r.review.notes.map((n) => `  ${n}`),
    '',
    `6. docs: ${r.review.docs.files.length} files; open ${r.dir}/docs/report.html in a browser, read ${r.dir}/docs/rules/README.md`,
    '',
    `7. check (what CI runs): ${r.check.passed ? 'passed' : 'FAILED'}, ${r.check.rules.filter((x) => x.verdict.pass).length} ` +
      `of ${r.check.rules.length} approved rules within the ` +
      `gate${r.check.set ? `; the deployed set ${r.check.set.pass ? 'passes' : 'FAILS'}` : ''}`,
    '',
    'next:',
    `  rulegen -C ${r.dir} rank`,
    `  rulegen -C ${r.dir} review`,
    `  rulegen -C ${r.dir} backtest --variations`,
    `  rulegen -C ${r.dir} check --junit check.xml --summary summary.md`,
    '',
  ].join('\n');
}
