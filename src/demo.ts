/**
 * `rulegen demo`: the pipeline on synthetic data, with no credentials. The whole pipeline:
 * init, synth (100k sessions over 21 days), ingest, rank, offline propose, backtest, approve what
 * passes the gate, docs and the HTML report, and the CI check.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from './errors.js';
import { initWorkspace } from './init.js';
import { ingest, type IngestSummary } from './ingest/ingest.js';
import { Store } from './db/store.js';
import { synthesize } from './synth/generate.js';
import { openWorkspace, openWorkspaceStore } from './workspace.js';
import { rankFeatures } from './rank/rank.js';
import type { Ranking } from './rank/types.js';
import { proposeOffline, type ProposeResult } from './propose/propose.js';
import { backtestTargets, workspaceRules, type BacktestRun } from './backtest/run.js';
import { approveAndDocument } from './review/review.js';
import { proposeWithProvider, type ModelProposeResult } from './propose/model.js';
import { runCheck, type CheckResult } from './check/check.js';

export interface DemoOptions {
  dir: string;
  cwd: string;
  sessions?: number;
  days?: number;
  seed?: number;
  onStep?: (m: string) => void;
}

export interface DemoResult {
  dir: string;
  data: string;
  ingest: IngestSummary;
  ranking: Ranking;
  proposed: ProposeResult;
  replayed: ModelProposeResult;
  backtest: BacktestRun;
  review: Awaited<ReturnType<typeof approveAndDocument>>;
  check: CheckResult;
}

const MARKER = '.rulegen-demo';

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const dir = resolve(opts.cwd, opts.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    // Re-running the demo is expected; wiping anything that is not a demo is not.
    if (!existsSync(join(dir, MARKER))) {
      throw InputError.single({ message: `${dir} exists and is not a demo workspace; the demo will not touch it`, where: { file: dir }, expected: 'a new folder or one made by an earlier `rulegen demo`', found: 'a non-empty folder' });
    }
    rmSync(dir, { recursive: true, force: true });
  }
  initWorkspace(dir, { cwd: opts.cwd });
  writeFileSync(join(dir, MARKER), 'made by rulegen demo; safe to delete\n');
  const data = join(dir, 'data', 'sessions.parquet');
  opts.onStep?.('generating synthetic traffic');
  const mem = await Store.open();
  try {
    await synthesize(mem, { sessions: opts.sessions ?? 100_000, days: opts.days ?? 21, seed: opts.seed ?? 1, out: data, catalogOut: join(dir, 'data', 'features.yaml') });
  } finally {
    mem.close();
  }
  const ws = openWorkspace(dir);
  const store = await openWorkspaceStore(ws);
  try {
    opts.onStep?.('ingesting');
    const summary = await ingest(store, ws.config, ws.catalog, { files: [data], replace: true, onStep: opts.onStep });
    opts.onStep?.('ranking features');
    const ranking = await rankFeatures(store, ws.config, ws.catalog);
    const proposed = await proposeOffline(ws, store, { count: 5, ranking, onStep: opts.onStep });
    // the model path with no credentials: Claude's answer for this data, recorded as a cassette
    opts.onStep?.('proposing through the replay provider');
    const replayed = await proposeWithProvider(ws, store, { provider: 'replay', count: 5, ranking });
    // every candidate, measured on the later test window, evidence written into its file
    const { targets } = workspaceRules(ws);
    // (propose already wrote each candidate's evidence, with its threshold variations; this run
    // is the table the demo shows, so it does not rewrite the files)
    const backtest = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', onStep: opts.onStep });
    // a person would review here; the demo approves what passes the gate, as `rulegen approve` does
    opts.onStep?.('approving and writing docs');
    const review = await approveAndDocument(ws, store, { reviewer: 'rulegen demo', note: 'approved by the demo: every candidate that passed the gate', onStep: opts.onStep });
    const check = await runCheck(ws, store, { candidates: false, onStep: opts.onStep });
    return { dir, data, ingest: summary, ranking, proposed, replayed, backtest, review, check };
  } finally {
    store.close();
  }
}
