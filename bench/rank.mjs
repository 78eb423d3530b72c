#!/usr/bin/env node
// Benchmark for issue 5 (rank): `rulegen rank --json` on 10M synthetic sessions (every catalog
// feature: AUC, KS, IV, coverage, null split, per-label quantiles, lifts) against the loop a data
// scientist would write: pandas + scikit-learn's roc_auc_score per numeric/boolean feature,
// nulls dropped per feature (bench/rank_sklearn.py, Debian's python3-sklearn/python3-pandas).
//
// Debian's pandas has no Parquet engine (pyarrow and fastparquet are not packaged), so the
// train window of the same Parquet is exported once to CSV by DuckDB; pandas' load of it is
// timed and reported apart, and the ratio compares rank's whole run (node start, database
// open, every statistic) with the AUC loop alone.
// Runs are interleaved (rank, sklearn, rank, sklearn, ...) after one warm-up of each; medians.
// Every feature's AUC must agree with scikit-learn's to 1e-3.
// Usage: npm run build && node bench/rank.mjs [--runs 3] [--sessions 10000000] [--ws DIR --parquet FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, summarise, time } from './lib.mjs';

const args = process.argv.slice(2);
const str = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const opt = (name, dflt) => Number(str(name, dflt));
const runs = opt('runs', 3);
const sessions = opt('sessions', 10_000_000);
const root = resolve('.');
const out = join(root, 'bench/out');
// --ws and --parquet point at another ingested workspace and its source (a quick dry run on small data)
const ws = resolve(str('ws', join(out, 'ws')));
const cli = join(root, 'bin/rulegen.js');
const parquet = resolve(str('parquet', join(out, `synth-${sessions}.parquet`)));
const PY = '/usr/bin/python3'; // Debian's python, where apt puts sklearn (not pyenv's python3)

function ensurePython() {
  if (spawnSync(PY, ['-c', 'import sklearn, pandas'], { encoding: 'utf8' }).status === 0) return;
  console.log('installing python3-sklearn and python3-pandas (Debian)...');
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-sklearn', 'python3-pandas'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) throw new Error('could not install python3-sklearn and python3-pandas');
}

/** The workspace of bench/synth-ingest.mjs, made the same way when it is missing. */
function ensureWorkspace() {
  if (existsSync(join(ws, '.rulegen', 'rulegen.duckdb'))) return;
  mkdirSync(out, { recursive: true });
  if (!existsSync(parquet)) {
    console.log(`synthesising ${sessions.toLocaleString('en-US')} sessions...`);
    time('node', [cli, 'synth', '--sessions', String(sessions), '--days', '21', '--seed', '7', '--out', parquet, '--catalog', join(out, 'features.yaml')]);
  }
  console.log(`ingesting ${parquet}...`);
  rmSync(ws, { recursive: true, force: true });
  time('node', [cli, 'init', ws]);
  time('cp', [join(out, 'features.yaml'), join(ws, 'features.yaml')]);
  time('node', [cli, '-C', ws, '--quiet', 'ingest', '--replace', parquet]);
}

/** The train window's label and numeric/boolean columns, from the Parquet, as CSV (once per cutoff). */
async function exportTrain(cutoff, features) {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(cutoff)) throw new Error(`unexpected cutoff ${cutoff}`);
  const csv = join(
    out,
    `rank-train-${parquet
      .split('/')
      .at(-1)
      .replace(/\.parquet$/, '')}.csv`,
  );
  const stamp = `${parquet} ${cutoff} ${features.join(',')}`;
  if (existsSync(csv) && existsSync(csv + '.source') && readFileSync(csv + '.source', 'utf8') === stamp) return { csv, seconds: null };
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const conn = await inst.connect();
  const q = (s) => `"${s.replaceAll('"', '""')}"`;
  const lit = (s) => `'${s.replaceAll("'", "''")}'`;
  const cols = ['label', ...features].map((c) => `CAST(${q(c)} AS DOUBLE) AS ${q(c)}`).join(', ');
  const ts = cutoff.replace('T', ' ').replace('Z', '');
  const t0 = performance.now();
  await conn.run(`COPY (SELECT ${cols} FROM read_parquet(${lit(parquet)}) WHERE ts < TIMESTAMP ${lit(ts)}) TO ${lit(csv)} (HEADER)`);
  conn.closeSync();
  inst.closeSync();
  writeFileSync(csv + '.source', stamp);
  return { csv, seconds: (performance.now() - t0) / 1000 };
}

ensurePython();
ensureWorkspace();
const rankArgs = [cli, '-C', ws, '--quiet', 'rank', '--json'];
console.log(
  `rulegen bench: rank vs scikit-learn roc_auc_score on ${ws.replace(root + '/', '')} (${parquet.replace(root + '/', '')}), ${runs} interleaved ` +
    `runs each after a warm-up`,
);
const warm = time('node', rankArgs, { maxBuffer: 1 << 26 });
const ranking = JSON.parse(warm.stdout);
const numeric = ranking.features.filter((f) => f.type !== 'category').map((f) => f.feature);
const { csv, seconds: exportSeconds } = await exportTrain(ranking.window.to, numeric);
if (exportSeconds !== null) console.log(`  exported the train window to ${csv.replace(root + '/', '')} in ${fmt(exportSeconds)} s (once)`);
const pyArgs = [join(root, 'bench/rank_sklearn.py'), csv, numeric.join(',')];
time(PY, pyArgs, { maxBuffer: 1 << 26 }); // warm-up: page cache, imports

const rank = [];
const pyWall = [];
const pyLoad = [];
const pyLoop = [];
let sk;
let last;
for (let i = 0; i < runs; i++) {
  const r = time('node', rankArgs, { maxBuffer: 1 << 26 });
  rank.push(r.seconds);
  last = JSON.parse(r.stdout);
  const p = time(PY, pyArgs, { maxBuffer: 1 << 26 });
  sk = JSON.parse(p.stdout);
  pyWall.push(p.seconds);
  pyLoad.push(sk.load_seconds);
  pyLoop.push(sk.auc_seconds);
  console.log(
    `  run ${i + 1}: rulegen rank ${fmt(r.seconds)} s; sklearn: load ${fmt(sk.load_seconds)} s + roc_auc_score loop ${fmt(sk.auc_seconds)} s ` +
      `(process ${fmt(p.seconds)} s)`,
  );
}

// Agreement: the same rows, and every AUC within 1e-3.
let worst = { feature: null, diff: 0 };
const bad = [];
for (const f of last.features.filter((x) => x.type !== 'category')) {
  const a = f.auc;
  const b = sk.auc[f.feature];
  if (a === null || b === null || b === undefined) {
    if (!(a === null && (b === null || b === undefined))) bad.push(`${f.feature}: rank ${a}, sklearn ${b}`);
    continue;
  }
  const d = Math.abs(a - b);
  if (d > worst.diff) worst = { feature: f.feature, diff: d };
  if (d > 1e-3) bad.push(`${f.feature}: rank ${a}, sklearn ${b}`);
}
const sameRows = last.bots === sk.bots && last.humans === sk.humans;

const R = summarise(rank);
const L = summarise(pyLoop);
const D = summarise(pyLoad);
const W = summarise(pyWall);
const stats = last.features.length;
console.log('');
console.log(
  `train window: ${last.window.rows.toLocaleString('en-US')} sessions, ${(last.bots + last.humans).toLocaleString('en-US')} labelled (rank) ` +
    `vs ${sk.rows.toLocaleString('en-US')} (pandas): ${sameRows ? 'same' : 'DIFFERENT'} bots/humans`,
);
console.log(
  `rulegen rank (${stats} features: AUC, KS, IV, coverage, null split, 7 quantiles per label, lifts): median ${fmt(R.median)} s ` +
    `(min ${fmt(R.min)}, max ${fmt(R.max)})`,
);
console.log(
  `sklearn roc_auc_score loop (${numeric.length} numeric/boolean features, AUC only): median ${fmt(L.median)} s (min ${fmt(L.min)}, max ${fmt(L.max)})`,
);
console.log(`  pandas load of the train window CSV, apart: median ${fmt(D.median)} s; whole python process median ${fmt(W.median)} s`);
console.log(
  `speed-up: AUC loop / rank = ${(L.median / R.median).toFixed(1)}x (target >= 5x); whole python process / rank = ${(W.median / R.median).toFixed(1)}x`,
);
console.log(
  `AUC agreement over ${numeric.length} features: max |rank - sklearn| ` +
    `= ${worst.diff.toExponential(2)}${worst.feature ? ` (${worst.feature})` : ''}; ` +
    (bad.length ? `${bad.length} beyond 1e-3:\n    ${bad.join('\n    ')}` : 'all within 1e-3'),
);
console.log(
  `command: node bin/rulegen.js -C ${ws.replace(root + '/', '')} --quiet rank --json   vs   ${PY} ` +
    `bench/rank_sklearn.py ${csv.replace(root + '/', '')} <${numeric.length} features>`,
);
if (bad.length || !sameRows) process.exitCode = 1;
