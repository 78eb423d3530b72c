#!/usr/bin/env node
// Issue 18: the cost of leaving the laptop. The backtest of the 100 benchmark rules
// (bench/rules-100.mjs) on N synthetic sessions (default 1,000,000, 14 days, seed 11), run by
// rulegen's own code on the embedded DuckDB store and on a real PostgreSQL server (Debian's
// package, started by scripts/postgres.sh in a temporary directory, stopped after) holding the
// same table. Two shapes: core counts only (one scan) and the full backtest (per day over train
// and test, per segment, overlap and the deployed set). The figures are checked identical.
//
// Usage: npx tsx bench/engine-postgres.mjs [--sessions 1000000] [--runs 3]
//        (RULEGEN_PG_URL=postgres://... uses an existing server instead)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { Store } from '../src/db/store.ts';
import { synthesize } from '../src/synth/generate.ts';
import { openWorkspace } from '../src/workspace.ts';
import { openEngine } from '../src/engine/index.ts';
import { backtestTargets } from '../src/backtest/run.ts';
import { resolveTargets } from '../src/rules/targets.ts';
import { main } from '../src/cli/main.ts';
import { copyTableToPostgres, startPostgres } from '../test/engine/pg-server.ts';
import { tmpDir } from '../test/helpers/tmp.ts';
import { RULES, conditionOf } from './rules-100.mjs';
import { summarise, fmt } from './lib.mjs';
import { cpSync, mkdirSync } from 'node:fs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SESSIONS = arg('sessions', 1_000_000);
const RUNS = arg('runs', 3);
const ROOT = join(import.meta.dirname, '..');
const quiet = { stdout: () => undefined, stderr: (t) => process.stderr.write(t), isTTY: false, cwd: ROOT, env: {} };

const dir = tmpDir('rulegen-bench-engine-');
cpSync(join(ROOT, 'fixtures/workspace/rulegen.yaml'), join(dir, 'rulegen.yaml'));
cpSync(join(ROOT, 'fixtures/workspace/features.yaml'), join(dir, 'features.yaml'));
mkdirSync(join(dir, 'rules'));
mkdirSync(join(dir, 'candidates'));
const { writeFileSync, readFileSync } = await import('node:fs');
writeFileSync(join(dir, 'rulegen.yaml'), readFileSync(join(dir, 'rulegen.yaml'), 'utf8').replace('rules: ../../rules', 'rules: rules'));

let t = performance.now();
const mem = await Store.open();
await synthesize(mem, { sessions: SESSIONS, days: 14, seed: 11, out: join(dir, 'data', 'sessions.parquet'), catalogOut: join(dir, 'data', 'features.yaml') });
mem.close();
if ((await main(['-C', dir, '--quiet', 'ingest', 'data/sessions.parquet'], { ...quiet, cwd: dir })) !== 0) throw new Error('ingest failed');
console.error(`synth + ingest ${SESSIONS} sessions: ${((performance.now() - t) / 1000).toFixed(1)} s`);

const server = await startPostgres();
try {
  const ws = openWorkspace(dir);
  const store = await Store.open(ws.paths.db, { readOnly: true });
  t = performance.now();
  await copyTableToPostgres(store, 'sessions', server.url);
  const loadS = (performance.now() - t) / 1000;
  console.error(`copied into PostgreSQL in ${loadS.toFixed(1)} s`);
  const pg = await openEngine({ ...ws.config, engine: { ...ws.config.engine, url: server.url } }, store, { kind: 'postgres' });
  const { targets, problems } = resolveTargets(ws, RULES.map(conditionOf), dir);
  if (problems.some((p) => p.severity === 'error') || targets.length !== 100) throw new Error(`rules: ${JSON.stringify(problems.slice(0, 3))}`);
  const strip = (r) => JSON.stringify({ ...r, timings: undefined, execution: undefined, window: { ...r.window, where: undefined } });
  const rows = [];
  for (const shape of ['core', 'full']) {
    const opts = { window: 'test', coreOnly: shape === 'core' };
    const times = { duckdb: [], postgres: [] };
    let same = true;
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      const a = await backtestTargets(store, ws.config, ws.catalog, targets, opts);
      times.duckdb.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      const b = await backtestTargets(store, ws.config, ws.catalog, targets, { ...opts, engine: pg });
      times.postgres.push((performance.now() - t0) / 1000);
      same &&= strip(a) === strip(b);
    }
    const d = summarise(times.duckdb);
    const p = summarise(times.postgres);
    rows.push({ shape, duckdb: d, postgres: p, same });
  }
  await pg.close();
  store.close();
  console.log(`\n# backtest of 100 rules on ${SESSIONS.toLocaleString('en-US')} sessions (test window), median of ${RUNS} runs`);
  console.log(
    `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM; PostgreSQL ${server.url.replace(/\/\/.*@/, '//')} (default ` +
      `settings, fsync off), loaded in ${loadS.toFixed(1)} s`,
  );
  console.log('| backtest | DuckDB (embedded) | PostgreSQL | ratio | identical figures |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of rows)
    console.log(
      `| ${r.shape === 'core' ? 'core counts (1 scan)' : 'full: day, segment, population, overlap, set, train'} | ${fmt(r.duckdb.median)} s ` +
        `| ${fmt(r.postgres.median)} s | ${(r.postgres.median / r.duckdb.median).toFixed(1)}x | ${r.same ? 'yes' : 'NO'} |`,
    );
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
