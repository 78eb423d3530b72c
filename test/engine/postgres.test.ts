/**
 * Issue 18 on a real PostgreSQL server (Debian's postgresql, started for this file in a
 * temporary directory): the same 10,000-session synthetic fixture in the workspace's DuckDB
 * and in PostgreSQL; rank and the full backtest (core counts, per day over train and test, per
 * segment, populations, overlap, the deployed set) are identical on both engines, and
 * `check --engine postgres` gates the repository's rules/.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestTargets, type BacktestRun } from '../../src/backtest/run.js';
import { resolveTargets, workspaceContext, workspaceRules } from '../../src/rules/targets.js';
import { Store } from '../../src/db/store.js';
import { openEngine } from '../../src/engine/index.js';
import { PostgresEngine } from '../../src/engine/postgres.js';
import type { Engine } from '../../src/engine/types.js';
import { rankFeatures } from '../../src/rank/rank.js';
import { synthesize } from '../../src/synth/generate.js';
import { openWorkspace, type Workspace } from '../../src/workspace.js';
import { runCli, tmpDir } from '../helpers/cli.js';
import { copyTableToPostgres, startPostgres, type PgServer } from './pg-server.js';

const ROOT = join(import.meta.dirname, '../..');
const SESSIONS = 10_000;

let server: PgServer;
let dir: string;
let ws: Workspace;
let store: Store;
let pg: Engine;

/** The example workspace at 10k sessions, with the repository's rules/ and a population. */
async function workspace(url: string): Promise<string> {
  const d = tmpDir('rulegen-engine-');
  const yaml = readFileSync(join(ROOT, 'fixtures/workspace/rulegen.yaml'), 'utf8').replace('rules: ../../rules', 'rules: rules');
  writeFileSync(
    join(d, 'rulegen.yaml'),
    yaml.replace(
      /^segments:\n/m,
      `segments:\n  - name: fast_clients\n    where: "requests_per_minute > 20 and ua_family != 'curl'"\n  - column: country\n    protected: true\n`,
    ) + `\nengine:\n  kind: duckdb\n  url: ${url}\n`,
  );
  cpSync(join(ROOT, 'fixtures/workspace/features.yaml'), join(d, 'features.yaml'));
  cpSync(join(ROOT, 'rules'), join(d, 'rules'), { recursive: true });
  mkdirSync(join(d, 'candidates'));
  const mem = await Store.open();
  try {
    await synthesize(mem, { sessions: SESSIONS, days: 14, seed: 11, out: join(d, 'data', 'sessions.parquet'), catalogOut: join(d, 'data', 'features.yaml') });
  } finally {
    mem.close();
  }
  const r = await runCli(['-C', d, '--quiet', 'ingest', 'data/sessions.parquet'], d);
  if (r.code !== 0) throw new Error(r.stderr);
  return d;
}

beforeAll(async () => {
  server = await startPostgres();
  dir = await workspace(server.url);
  ws = openWorkspace(dir);
  store = await Store.open(ws.paths.db, { readOnly: true });
  const copied = await copyTableToPostgres(store, 'sessions', server.url);
  expect(copied.rows).toBe(SESSIONS);
  pg = await openEngine(ws.config, store, { kind: 'postgres' });
}, 60_000);

afterAll(async () => {
  await pg?.close();
  store?.close();
  server?.stop();
});

/** A run without what legitimately differs between engines (timings, where it ran, which evaluator made it: the kernel here, SQL there). */
function comparable(run: BacktestRun): unknown {
  const { timings: _t, execution: _e, engine: _k, kernel: _s, window, ...rest } = run;
  // the window's WHERE is written in each engine's dialect; its bounds, cut-off, rows and parameters must agree
  return JSON.parse(JSON.stringify({ ...rest, window: { ...window, where: undefined } }));
}

describe('PostgreSQL engine (a real server)', () => {
  it('is a real PostgreSQL server holding the same sessions', async () => {
    const v = await pg.one<{ v: string; n: number }>('SELECT version() AS v, (SELECT count(*) FROM sessions) AS n');
    expect(v?.v).toMatch(/^PostgreSQL \d+/);
    expect(v?.n).toBe(SESSIONS);
    expect(pg.kind).toBe('postgres');
  });

  it('rank: identical rankings on DuckDB and PostgreSQL', async () => {
    const duck = await rankFeatures(store, ws.config, ws.catalog);
    const local = await Store.open();
    try {
      const remote = await rankFeatures(local, ws.config, ws.catalog, { engine: pg });
      expect(remote.execution?.kind).toBe('postgres');
      expect(remote.execution?.statement_hash).toMatch(/^[0-9a-f]{64}$/);
      const { execution: _e, ...rest } = remote;
      expect(rest).toEqual(duck);
      expect(duck.features.filter((f) => f.auc !== null).length).toBeGreaterThan(20);
    } finally {
      local.close();
    }
  });

  it('backtest: every breakdown identical (core, daily train+test, segments, populations, overlap, set)', async () => {
    const { targets } = workspaceRules(ws);
    const opts = { window: 'test' as const, context: workspaceContext(ws), configFile: ws.paths.config };
    const duck = await backtestTargets(store, ws.config, ws.catalog, targets, opts);
    const remote = await backtestTargets(store, ws.config, ws.catalog, targets, { ...opts, engine: pg });
    expect(remote.execution).toMatchObject({ kind: 'postgres', dialect: 'postgres', target: server.url.replace(/\/\/[^@]*@/, '//postgres@') });
    expect({ ...remote.window, where: '' }).toEqual({ ...duck.window, where: '' });
    expect(remote.window.where).toBe('"ts" >= CAST(? AS timestamp)');
    expect([duck.engine, remote.engine]).toEqual(['kernel', 'sql']);
    expect(comparable(remote)).toEqual(comparable(duck));
    const r = duck.rules[0]!;
    // the breakdowns are really there (and so compared)
    expect(r.daily!.series.some((p) => p.window === 'train') && r.daily!.series.some((p) => p.window === 'test')).toBe(true);
    expect(Object.keys(r.segments!).length).toBeGreaterThan(5);
    expect(r.populations!['fast_clients']).toBeDefined();
    expect(r.set).toBeDefined();
    expect(r.counts.tp).toBeGreaterThan(0);
  });

  it('backtest: 70 rules (two mask blocks), the train window and core-only identical', async () => {
    const exprs = Array.from({ length: 70 }, (_, i) =>
      i % 2 ? `requests_per_minute > ${5 + i}` : `static_asset_ratio < ${((i + 1) / 200).toFixed(3)} and pointer_events = 0`,
    );
    const { targets, problems } = resolveTargets(ws, exprs, dir);
    expect(problems).toEqual([]);
    expect(targets).toHaveLength(70);
    for (const window of ['train', 'all'] as const) {
      const duck = await backtestTargets(store, ws.config, ws.catalog, targets, { window });
      const remote = await backtestTargets(store, ws.config, ws.catalog, targets, { window, engine: pg });
      expect(comparable(remote)).toEqual(comparable(duck));
      expect(duck.rules.some((x) => (x.overlap ?? []).some((o) => o.jaccard > 0))).toBe(true);
    }
    const core = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', coreOnly: true, engine: pg });
    const coreDuck = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', coreOnly: true });
    expect(comparable(core)).toEqual(comparable(coreDuck));
  });

  it('hostile strings stay data ($n parameters), and the table is intact', async () => {
    for (const h of ["x'; DROP TABLE sessions; --", 'a?b', '$1', "\\' or 1=1 --", "E'\\x00'"]) {
      expect(
        await pg.one<{ s: string; n: number }>('SELECT CAST(? AS text) AS s, (SELECT count(*) FROM sessions WHERE "ua_family" = CAST(? AS text)) AS n', [h, h]),
      ).toEqual({ s: h, n: 0 });
    }
    expect((await pg.one<{ n: number }>('SELECT count(*) AS n FROM sessions'))?.n).toBe(SESSIONS);
  });

  it('check --engine postgres gates the repository rules/ with the same verdicts as the embedded engine', async () => {
    const duck = await runCli(['-C', dir, 'check', '--json'], dir);
    const remote = await runCli(['-C', dir, 'check', '--json', '--engine', 'postgres'], dir);
    expect(remote.stderr).toMatch(/engine postgres postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: \d+ statements/);
    expect(remote.code).toBe(duck.code);
    expect([0, 1]).toContain(remote.code);
    const a = JSON.parse(duck.stdout) as { passed: boolean; rules: { id: string; pass: boolean; counts: unknown }[] };
    const b = JSON.parse(remote.stdout) as typeof a;
    expect(b.rules.map((r) => [r.id, r.pass, r.counts])).toEqual(a.rules.map((r) => [r.id, r.pass, r.counts]));
    expect(b.rules.length).toBeGreaterThanOrEqual(2);
    const text = await runCli(['-C', dir, 'check', '--engine', 'postgres'], dir);
    expect(text.stdout).toBe((await runCli(['-C', dir, 'check'], dir)).stdout);
  });

  it('bad engine input: missing table exit 2, unreachable server exit 3, a password in the file exit 2', async () => {
    const cfg = join(dir, 'rulegen.yaml');
    const original = readFileSync(cfg, 'utf8');
    try {
      writeFileSync(cfg, original.replace('table: sessions', 'table: no_such_table'));
      const missing = await runCli(['-C', dir, 'backtest', '--engine', 'postgres', '--no-write'], dir);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/no_such_table/);
      expect(missing.stderr).toMatch(/postgres/);
      writeFileSync(cfg, original.replace(server.url, 'postgres://postgres@127.0.0.1:1/postgres'));
      const down = await runCli(['-C', dir, 'rank', '--engine', 'postgres'], dir);
      expect(down.code).toBe(3);
      expect(down.stderr).toMatch(/postgres:\/\/postgres@127\.0\.0\.1:1\/postgres/);
      writeFileSync(cfg, original.replace(server.url, server.url.replace('postgres@', 'postgres:hunter2@')));
      const secret = await runCli(['-C', dir, 'rank', '--engine', 'postgres'], dir);
      expect(secret.code).toBe(2);
      expect(secret.stderr).toMatch(/PGPASSWORD/);
      expect(secret.stderr).not.toMatch(/hunter2/);
    } finally {
      writeFileSync(cfg, original);
    }
  });

  it('cancel stops a running statement with exit-3 error', async () => {
    const other = await PostgresEngine.connect({ url: server.url });
    try {
      const running = other.all('SELECT pg_sleep(20) AS s').then(
        () => undefined,
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      await other.cancel();
      expect(await running).toMatchObject({ exitCode: 3, message: expect.stringMatching(/cancelled \(Ctrl-C\)/) });
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      await other.close();
    }
  });
});
