/**
 * `rulegen eval`: every case in a scratch workspace of its own (made with `init`, filled by the
 * ordinary ingest, removed afterwards), every provider/model of the case on the same ranking,
 * each measured by metrics.ts. A case whose data cannot be made or read fails alone; a provider
 * that fails (a cassette miss, a Bedrock error) fails its row alone. The user's workspace is
 * never opened.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Store } from '../db/store.js';
import { RulegenError } from '../errors.js';
import type { OnProgress } from '../progress.js';
import { initWorkspace } from '../init.js';
import { ingest } from '../ingest/ingest.js';
import type { LlmProvider } from '../llm/types.js';
import { proposeWithProvider, ProposeRunError, type ModelProposeResult } from '../propose/model.js';
import { induce } from '../propose/offline.js';
import { rankFeatures } from '../rank/rank.js';
import { openWorkspace, openWorkspaceStore, type Workspace } from '../workspace.js';
import { driftStart, fileTruth, stageFile, synthTruth, writeSynthCase, type Truth } from './data.js';
import { measure, type Metrics, type PopulationFigure, type RuleFigure } from './metrics.js';
import { resolveCases, type EvalProvider, type ResolvedCase, type Suite } from './suite.js';

export interface EvalOptions {
  /** Only these providers (default: each case's own). */
  providers?: EvalProvider[];
  /** Models for the model providers (default: each case's, else the config's). */
  models?: string[];
  /** Only cases with these names. */
  cases?: string[];
  /** Record every model exchange as a cassette in the suite's cassette folder (bedrock only). */
  record?: boolean;
  /** Overrides of every case's `count` (a weakened inducer setting, for instance). */
  count?: number;
  /** A ready model provider per case (tests, scripted recordings); default: from the scratch config. */
  llm?: (ws: Workspace, provider: EvalProvider) => LlmProvider | undefined;
  /** Keep the scratch workspaces (for debugging); default removed. */
  keep?: boolean;
  onStep?: (m: string) => void;
  /** Cases done of the cases to run, ticked with every step and after each case. */
  onProgress?: OnProgress;
}

/** One case x provider x model. `error` set: the row failed and its metrics are null. */
export interface EvalRow {
  case: string;
  provider: EvalProvider;
  model: string | null;
  metrics: Metrics;
  judged_on: 'truth' | 'labels';
  populations: PopulationFigure[];
  rules: RuleFigure[];
  /** The prompt version and sha256 (model providers). */
  prompt?: string;
  cassettes_written?: string[];
  error?: string;
}

export interface EvalResult {
  suite: string;
  version: number;
  file: string;
  started: string;
  seconds: number;
  rows: EvalRow[];
  /** Cases that could not run at all (their data could not be made or read). */
  failed: { case: string; message: string }[];
  /** Per case: rows, seconds. */
  cases: { case: string; rows: number | null; seconds: number; dir?: string }[];
}

const nullMetrics = (): Metrics => ({
  rules: null,
  valid_rate: null,
  repair_rounds: null,
  passing: null,
  best_recall: null,
  set_recall: null,
  set_fpr: null,
  set_fpr_upper95: null,
  drift_survival: null,
  duplicates: null,
  input_tokens: null,
  output_tokens: null,
  cost_usd: null,
  latency_ms: null,
});

const message = (e: unknown): string => (e instanceof RulegenError ? e.describe() : e instanceof Error ? e.message : String(e));

export async function runSuite(suite: Suite, opts: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const started = new Date().toISOString();
  let cases = resolveCases(suite);
  if (opts.cases?.length) cases = cases.filter((c) => opts.cases!.includes(c.name));
  const result: EvalResult = { suite: suite.suite, version: suite.version, file: suite.file, started, seconds: 0, rows: [], failed: [], cases: [] };
  const step = (m: string): void => {
    opts.onStep?.(m);
    opts.onProgress?.(result.cases.length, cases.length, 'cases');
  };
  for (const c of cases) {
    const tc = performance.now();
    const dir = mkdtempSync(join(tmpdir(), `rulegen-eval-${c.name}-`));
    let rows: number | null = null;
    try {
      step(`case ${c.name}: making the data`);
      const prepared = await prepareCase(suite, c, dir);
      rows = prepared.rows;
      const store = await openWorkspaceStore(prepared.ws);
      try {
        const ranking = await rankFeatures(store, prepared.ws.config, prepared.ws.catalog);
        const providers = c.providers.filter((p) => !opts.providers || opts.providers.includes(p));
        const extra = (opts.providers ?? []).filter((p) => !c.providers.includes(p));
        for (const provider of [...providers, ...extra]) {
          const models = provider === 'offline' ? [null] : opts.models?.length ? opts.models : (c.models ?? prepared.ws.config.llm.models);
          for (const model of models) {
            step(`case ${c.name}: ${provider}${model ? ` ${model}` : ''}`);
            result.rows.push(await runProvider(suite, c, prepared.ws, store, ranking, prepared.truth, prepared.drift, provider, model, opts));
            clearCandidates(prepared.ws);
          }
        }
      } finally {
        store.close();
      }
    } catch (e) {
      result.failed.push({ case: c.name, message: message(e) });
    } finally {
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    }
    result.cases.push({ case: c.name, rows, seconds: (performance.now() - tc) / 1000, ...(opts.keep ? { dir } : {}) });
    opts.onProgress?.(result.cases.length, cases.length, 'cases');
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

interface Prepared {
  ws: Workspace;
  truth: Truth | null;
  drift: Date | null;
  rows: number;
}

async function prepareCase(suite: Suite, c: ResolvedCase, dir: string): Promise<Prepared> {
  initWorkspace(dir, { cwd: dir });
  const config: Record<string, unknown> = {
    split: c.split,
    gate: c.gate,
    // replay reads (and --record writes) the suite's cassettes, then the shipped ones
    llm: { cassettes: suite.cassetteDir, ...(c.models ? { models: c.models } : {}) },
  };
  writeFileSync(join(dir, 'rulegen.yaml'), `# scratch workspace of eval case ${c.name} (suite ${suite.suite}); removed after the run\n${stringify(config)}`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  let data: string;
  if (c.synth) {
    data = join(dataDir, 'sessions.parquet');
    const mem = await Store.open();
    try {
      await writeSynthCase(mem, c.synth, data);
    } finally {
      mem.close();
    }
  } else {
    data = stageFile(c, dataDir);
    if (c.file!.catalog) writeFileSync(join(dir, 'features.yaml'), readFileSync(c.file!.catalog, 'utf8'));
  }
  const ws = openWorkspace(dir);
  const store = await openWorkspaceStore(ws);
  try {
    const summary = await ingest(store, ws.config, ws.catalog, { files: [data], replace: true });
    const truth = c.synth ? synthTruth() : c.file!.truth ? await fileTruth(store, ws.config.data.table, ws.config.data.label, c.file!.truth) : null;
    return { ws, truth, drift: c.synth ? driftStart(c.synth) : null, rows: summary.totalRows };
  } finally {
    store.close();
  }
}

function clearCandidates(ws: Workspace): void {
  for (const f of readdirSync(ws.paths.candidates)) if (f.endsWith('.yaml')) rmSync(join(ws.paths.candidates, f), { force: true });
}

async function runProvider(
  suite: Suite,
  c: ResolvedCase,
  ws: Workspace,
  store: Store,
  ranking: Awaited<ReturnType<typeof rankFeatures>>,
  truth: Truth | null,
  drift: Date | null,
  provider: EvalProvider,
  model: string | null,
  opts: EvalOptions,
): Promise<EvalRow> {
  const row: EvalRow = { case: c.name, provider, model, metrics: nullMetrics(), judged_on: truth ? 'truth' : 'labels', populations: [], rules: [] };
  const count = opts.count ?? c.count;
  try {
    let conditions: string[];
    if (provider === 'offline') {
      // the inducer exactly as `propose` runs it, without writing candidate files or their
      // threshold variations (nothing here reads them)
      const t0 = performance.now();
      const r = await induce(store, ws.config, ws.catalog, ranking, { count });
      conditions = r.rules.map((x) => x.condition);
      Object.assign(row.metrics, {
        rules: conditions.length,
        valid_rate: conditions.length ? 1 : null,
        repair_rounds: 0,
        input_tokens: 0,
        output_tokens: 0,
        cost_usd: 0,
        latency_ms: Math.round(performance.now() - t0),
      });
    } else {
      const llm = opts.llm?.(ws, provider);
      let r: ModelProposeResult;
      try {
        r = await proposeWithProvider(ws, store, {
          provider,
          models: [model!],
          count,
          ranking,
          ...(opts.record ? { record: true } : {}),
          ...(llm ? { llm } : {}),
        });
      } catch (e) {
        // a run where no call produced a usable rule still has figures worth showing
        if (!(e instanceof ProposeRunError)) throw e;
        r = e.result;
        row.error = e.headline;
      }
      const m = r.models.find((x) => x.model === model) ?? r.models[0];
      conditions = r.candidates.map((x) => x.condition);
      const valid = m?.valid_rules ?? conditions.length;
      const invalid = m?.invalid_rules ?? 0;
      const tokens = m?.tokens ?? { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
      Object.assign(row.metrics, {
        rules: conditions.length,
        valid_rate: valid + invalid ? valid / (valid + invalid) : null,
        repair_rounds: m?.repair_rounds ?? 0,
        input_tokens: tokens.input_tokens + tokens.cache_read_tokens + tokens.cache_write_tokens,
        output_tokens: tokens.output_tokens,
        cost_usd: m?.cost_usd ?? null,
        latency_ms: Math.round(m?.latency_ms ?? r.seconds * 1000),
      });
      row.prompt = r.prompt;
      if (r.cassettes_written?.length) row.cassettes_written = r.cassettes_written;
    }
    const measured = await measure(store, ws.config, ws.catalog, conditions, truth, drift);
    Object.assign(row.metrics, measured.metrics);
    row.populations = measured.populations;
    row.rules = measured.rules;
  } catch (e) {
    row.error =
      provider === 'replay'
        ? `${message(e)}\n(re-record this suite's cassettes: \`rulegen eval ${suite.file} --provider bedrock --record\` with AWS credentials, or ` +
          `\`npx tsx eval/record-cassettes.mts\` for the scripted ones)`
        : message(e);
  }
  return row;
}
