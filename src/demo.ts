/**
 * `rulegen demo`: the pipeline on synthetic data, with no credentials. The whole pipeline:
 * init, synth (100k sessions over 21 days), ingest, rank, offline propose, backtest, approve what
 * passes the gate, docs and the HTML report, and the CI check. `sessions` (rulegen demo --sessions)
 * makes the data smaller or larger; Claude's recorded answer (the replay step) exists for the
 * default data only, so on other data that step is skipped and the result says why.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from './errors.js';
import { initWorkspace } from './init.js';
import { segmentsBlock } from './config/template.js';
import { ingest, type IngestSummary } from './ingest/ingest.js';
import { Store } from './db/store.js';
import { synthesize } from './synth/generate.js';
import { openWorkspace, openWorkspaceStore } from './workspace.js';
import { rankFeatures } from './rank/rank.js';
import type { Ranking } from './rank/types.js';
import { proposeOffline, type ProposeResult } from './propose/propose.js';
import { backtestTargets, type BacktestRun } from './backtest/run.js';
import { workspaceRules } from './rules/targets.js';
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
  /** The replay provider's candidates; null when the data is not the data the cassette was recorded for. */
  replayed: ModelProposeResult | null;
  /** Why the replay step was skipped (other data than the recording), when it was. */
  replaySkipped: string | null;
  backtest: BacktestRun;
  review: Awaited<ReturnType<typeof approveAndDocument>>;
  check: CheckResult;
}

const MARKER = '.rulegen-demo';

/** The data the demo's cassette (fixtures/llm, demo-cassette.mts) was recorded on. */
export const DEMO_DATA = { sessions: 100_000, days: 21, seed: 1 } as const;

/**
 * Re-running the demo is expected; wiping anything that is not the demo's is not. The marker
 * lists every file the demo wrote; a re-run removes exactly those (and `.rulegen/`, the demo's
 * database and run records), and refuses, naming them, if the folder holds anything else.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const dir = resolve(opts.cwd, opts.dir);
  clearEarlierDemo(dir);
  initWorkspace(dir, { cwd: opts.cwd });
  // the demo data has people on screen readers and keyboards only: a protected population
  const cfg = join(dir, 'rulegen.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(segmentsBlock(false), segmentsBlock(true)));
  writeMarker(dir);
  const data = join(dir, 'data', 'sessions.parquet');
  const { sessions = DEMO_DATA.sessions, days = DEMO_DATA.days, seed = DEMO_DATA.seed } = opts;
  const recorded = sessions === DEMO_DATA.sessions && days === DEMO_DATA.days && seed === DEMO_DATA.seed;
  // the marker is rewritten however the run ends: the folder held nothing else when the demo
  // started, so whatever is in it now is the demo's, and a re-run after a failure may clear it
  try {
    opts.onStep?.('generating synthetic traffic');
    const mem = await Store.open();
    try {
      await synthesize(mem, { sessions, days, seed, out: data, catalogOut: join(dir, 'data', 'features.yaml') });
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
      // the model path with no credentials: Claude's answer for this data, recorded as a cassette.
      // It was recorded for the default data only; on other data the request differs and no
      // answer exists, so the step is skipped (said so) rather than failing. On the default data
      // a missing cassette is still an error: it means the cassette needs recording again.
      let replayed: ModelProposeResult | null = null;
      let replaySkipped: string | null = null;
      if (recorded) {
        opts.onStep?.('proposing through the replay provider');
        replayed = await proposeWithProvider(ws, store, { provider: 'replay', count: 5, ranking });
      } else {
        replaySkipped =
          `Claude's recorded answer is for the default demo data (${DEMO_DATA.sessions.toLocaleString('en-US')} sessions, ${DEMO_DATA.days} days, ` +
          `seed ${DEMO_DATA.seed}); this run has ${sessions.toLocaleString('en-US')} sessions, ${days} days, seed ${seed}`;
      }
      // every candidate, measured on the later test window, evidence written into its file
      const { targets } = workspaceRules(ws);
      // (propose already wrote each candidate's evidence, with its threshold variations; this run
      // is the table the demo shows, so it does not rewrite the files)
      const backtest = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', onStep: opts.onStep });
      // a person would review here; the demo approves what passes the gate, as `rulegen approve` does
      opts.onStep?.('approving and writing docs');
      const review = await approveAndDocument(ws, store, {
        reviewer: 'rulegen demo',
        note: 'approved by the demo: every candidate that passed the gate',
        onStep: opts.onStep,
      });
      const check = await runCheck(ws, store, { candidates: false, onStep: opts.onStep });
      return { dir, data, ingest: summary, ranking, proposed, replayed, replaySkipped, backtest, review, check };
    } finally {
      store.close();
    }
  } finally {
    writeMarker(dir);
  }
}

/** Every file under `dir`, relative, '/'-separated; symlinks are listed, never followed. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (lstatSync(join(dir, r)).isDirectory()) out.push(...filesUnder(dir, r));
    else out.push(r);
  }
  return out;
}

/** `.rulegen/` holds the demo's database and the run records of commands run on it: the demo's own state. */
const ownState = (rel: string) => rel === '.rulegen' || rel.startsWith('.rulegen/');

/** The marker: what the demo wrote, so that a re-run deletes only that. */
export function writeMarker(dir: string): void {
  const files = [...new Set([...filesUnder(dir).filter((f) => !ownState(f)), MARKER])].sort();
  writeFileSync(
    join(dir, MARKER),
    JSON.stringify({ made_by: 'rulegen demo', note: 'a re-run of `rulegen demo` deletes exactly these files (and .rulegen/)', files }, null, 2) + '\n',
  );
}

function markedFiles(dir: string): string[] | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as { files?: unknown };
    return Array.isArray(m.files) && m.files.every((f) => typeof f === 'string') ? (m.files as string[]) : null;
  } catch {
    return null;
  }
}

/** Make `dir` ready for a fresh demo: absent, empty, or an earlier demo whose files are removed. */
export function clearEarlierDemo(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory())
    throw InputError.single({
      message: `${dir} is not a directory`,
      where: { file: dir },
      expected: 'a directory (new, empty, or made by an earlier `rulegen demo`)',
      found: 'a file',
    });
  const present = filesUnder(dir);
  if (present.length === 0) return;
  if (!existsSync(join(dir, MARKER))) {
    throw InputError.single({
      message: `${dir} exists and is not a demo workspace; the demo will not touch it`,
      where: { file: dir },
      expected: 'a new folder or one made by an earlier `rulegen demo`',
      found: 'a non-empty folder',
    });
  }
  const listed = markedFiles(dir);
  if (!listed) {
    throw InputError.single({
      message: `${join(dir, MARKER)} does not list the files the demo wrote (an older rulegen, or edited); the demo will not guess what to delete`,
      where: { file: join(dir, MARKER) },
      expected: 'a marker written by this rulegen demo',
      found: 'no list of files',
      excerpt: `delete ${dir} yourself, or pick another --dir`,
    });
  }
  const mine = new Set(listed);
  const extra = present.filter((f) => !mine.has(f) && !ownState(f));
  if (extra.length) {
    throw InputError.single({
      message: `${dir} holds ${extra.length} file${extra.length === 1 ? '' : 's'} the demo did not write; nothing was deleted`,
      where: { file: dir },
      expected: 'only the files listed in its .rulegen-demo marker',
      found: extra.slice(0, 10).join(', ') + (extra.length > 10 ? `, and ${extra.length - 10} more` : ''),
      excerpt: 'move them out of the folder, or pick another --dir',
    });
  }
  for (const f of present) rmSync(join(dir, f), { force: true });
  removeEmptyDirs(dir);
}

/** Remove folders left empty under `dir` (deepest first), keeping `dir` itself. */
function removeEmptyDirs(dir: string, rel = ''): void {
  for (const name of readdirSync(join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (!lstatSync(join(dir, r)).isDirectory()) continue;
    removeEmptyDirs(dir, r);
    if (readdirSync(join(dir, r)).length === 0) rmdirSync(join(dir, r));
  }
}
