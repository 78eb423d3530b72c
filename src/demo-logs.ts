/**
 * `rulegen demo --logs`: the pipeline on a real access log instead of synthetic sessions —
 * init, ingest-logs (the shipped fixtures/logs/elastic-apache.log), rank, offline propose,
 * backtest, approve what passes, docs, check. The log is small (3,224 sessions, about 500
 * labelled humans in the test window) and its labels are weak (from the user agent), so the
 * demo's gate is one the data can reach, and its config says why.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initWorkspace } from './init.js';
import { openWorkspace, openWorkspaceStore } from './workspace.js';
import { ingestLogs, type IngestLogsSummary } from './ingest/logs/ingest-logs.js';
import { mergeLogCatalog, writeLogCatalog } from './ingest/logs/catalog.js';
import { rankFeatures } from './rank/rank.js';
import type { Ranking } from './rank/types.js';
import { proposeOffline, type ProposeResult } from './propose/propose.js';
import { backtestTargets, type BacktestRun } from './backtest/run.js';
import { workspaceRules } from './rules/targets.js';
import { approveAndDocument } from './review/review.js';
import { runCheck, type CheckResult } from './check/check.js';
import { packageRoot } from './package.js';
import { clearEarlierDemo, writeMarker } from './demo.js';

export interface LogsDemoResult {
  dir: string;
  log: string;
  ingest: IngestLogsSummary;
  ranking: Ranking;
  proposed: ProposeResult;
  backtest: BacktestRun;
  review: Awaited<ReturnType<typeof approveAndDocument>>;
  check: CheckResult;
}

/** The real log shipped with the package (Apache-2.0; fixtures/logs/PROVENANCE.md). */
export function demoLog(): string {
  return join(packageRoot(), 'fixtures', 'logs', 'elastic-apache.log');
}

/** The demo's gate and labels, with the reasons, as they are written into its rulegen.yaml. */
export function logsDemoConfig(text: string): string {
  return text
    .replace(
      /^ {2}max_fpr: .*$/m,
      "  max_fpr: 0.05          # this log's test window holds about 500 labelled humans: at 0.1% no rule could\n" +
        '                         # pass (zero false positives still has an upper bound of 0.76%); 5% is a bound it can judge',
    )
    .replace(
      /^ {2}min_precision: .*$/m,
      '  min_precision: 0.85     # labels come from the user agent: bots faking a browser count as people, so precision reads low',
    )
    .replace(/^ {2}unlabelled: .*$/m, '  unlabelled: human        # the demo treats sessions that declare no bot as people (a weak label, said so)');
}

export async function runLogsDemo(opts: { dir: string; cwd: string; log?: string; onStep?: (m: string) => void }): Promise<LogsDemoResult> {
  const dir = resolve(opts.cwd, opts.dir);
  const log = opts.log ?? demoLog();
  clearEarlierDemo(dir);
  initWorkspace(dir, { cwd: opts.cwd });
  const cfg = join(dir, 'rulegen.yaml');
  writeFileSync(cfg, logsDemoConfig(readFileSync(cfg, 'utf8')));
  writeMarker(dir);
  try {
    const first = openWorkspace(dir);
    const merge = mergeLogCatalog(first.paths.catalog);
    let ingest: IngestLogsSummary;
    {
      const store = await openWorkspaceStore(first);
      try {
        opts.onStep?.('reading the access log');
        ingest = await ingestLogs(store, first.config, { files: [log], replace: true, onStep: opts.onStep });
      } finally {
        store.close();
      }
    }
    writeLogCatalog(first.paths.catalog, merge);
    // the catalog is now the log's features
    const ws = openWorkspace(dir);
    const store = await openWorkspaceStore(ws);
    try {
      opts.onStep?.('ranking features');
      const ranking = await rankFeatures(store, ws.config, ws.catalog);
      const proposed = await proposeOffline(ws, store, { count: 5, ranking, onStep: opts.onStep });
      const { targets } = workspaceRules(ws);
      const backtest = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', onStep: opts.onStep });
      opts.onStep?.('approving and writing docs');
      const review = await approveAndDocument(ws, store, {
        reviewer: 'rulegen demo',
        note: 'approved by the demo (--logs): every candidate that passed the gate',
        onStep: opts.onStep,
      });
      const check = await runCheck(ws, store, { candidates: false, onStep: opts.onStep });
      return { dir, log, ingest, ranking, proposed, backtest, review, check };
    } finally {
      store.close();
    }
  } finally {
    writeMarker(dir);
  }
}
