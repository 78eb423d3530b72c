#!/usr/bin/env node
// Benchmark for issue 2: `rulegen synth` of N sessions, then `rulegen ingest` of that Parquet,
// compared in the same run with raw DuckDB CREATE TABLE AS SELECT * FROM read_parquet(...).
// Runs are interleaved (ingest, raw, ingest, raw, ...) so machine noise hits both alike.
// Usage: npm run build && node bench/synth-ingest.mjs [--sessions 10000000] [--runs 3]
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, summarise, time } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const sessions = opt('sessions', 10_000_000);
const runs = opt('runs', 3);
const out = resolve('bench/out');
const ws = join(out, 'ws');
mkdirSync(out, { recursive: true });
const cli = resolve('bin/rulegen.js');
const parquet = join(out, `synth-${sessions}.parquet`);

console.log(`rulegen bench: synth + ingest, ${sessions.toLocaleString('en-US')} sessions, ${runs} runs each`);
const synth = [];
for (let i = 0; i < runs; i++) {
  rmSync(parquet, { force: true });
  synth.push(
    time('node', [cli, 'synth', '--sessions', String(sessions), '--days', '21', '--seed', '7', '--out', parquet, '--catalog', join(out, 'features.yaml')])
      .seconds,
  );
  console.log(`  synth run ${i + 1}: ${fmt(synth[i])} s`);
}
console.log(`  parquet: ${(statSync(parquet).size / 1e6).toFixed(0)} MB`);

rmSync(ws, { recursive: true, force: true });
time('node', [cli, 'init', ws]);
// the workspace's catalog must be the one synth wrote
time('cp', [join(out, 'features.yaml'), join(ws, 'features.yaml')]);
const ingest = [];
const raw = [];
for (let i = 0; i < runs; i++) {
  ingest.push(time('node', [cli, '-C', ws, '--quiet', 'ingest', '--replace', parquet]).seconds);
  raw.push(time('node', [resolve('bench/raw-ctas.mjs'), join(out, 'raw.duckdb'), parquet]).seconds);
  console.log(`  run ${i + 1}: rulegen ingest ${fmt(ingest[i])} s, raw DuckDB CTAS ${fmt(raw[i])} s`);
}
const s = summarise(synth);
const g = summarise(ingest);
const r = summarise(raw);
console.log('');
console.log(`synth  ${sessions.toLocaleString('en-US')} sessions: median ${fmt(s.median)} s (min ${fmt(s.min)}, max ${fmt(s.max)}) target < 60 s`);
console.log(`ingest (rulegen):        median ${fmt(g.median)} s (min ${fmt(g.min)}, max ${fmt(g.max)})`);
console.log(`CTAS   (raw DuckDB):     median ${fmt(r.median)} s (min ${fmt(r.min)}, max ${fmt(r.max)})`);
console.log(
  `ingest / raw: ${(g.median / r.median).toFixed(3)}x (target <= 1.2x); spread between runs: ingest ${(100 * g.spread).toFixed(0)}%, ` +
    `raw ${(100 * r.spread).toFixed(0)}%`,
);
