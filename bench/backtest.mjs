#!/usr/bin/env node
// Benchmark for issue 4: `rulegen backtest` of 100 rules (2-3 terms each) over N synthetic
// sessions (default 10M), compared in the same run with
//   (b) the equivalent single hand-written DuckDB statement (sum(CASE WHEN ... THEN 1 ELSE 0 END)
//       per rule, grouped by label) run by a minimal node process through @duckdb/node-api;
//   (d) what a data scientist would write: the same 100 rules as numpy boolean masks over the
//       test window's columns held in memory (Debian's python3-numpy; load time reported apart).
// It also times (c) `rulegen backtest` with its per-day, per-segment and overlap breakdowns, and
// measures peak RSS, the JS heap and DuckDB's own memory. Runs are interleaved (a, b, c, d, then
// again, rotating the order) so machine noise hits every contender alike, after one untimed
// warm-up round that brings the files into the page cache. Every contender's tp/fp counts must
// agree for every rule, or the run fails (exit 1).
//
// Before each timed run it waits until bench/synth-ingest.mjs is not running and the machine is
// quiet (other processes under a quarter of a core); a run during which other processes still
// used noticeable CPU is repeated (twice at most) and counted in the report.
//
// Usage: npm run build && node bench/backtest.mjs [--sessions 10000000] [--runs 3] [--no-wait]
//          [--build DIR]   time another rulegen build (DIR/bin/rulegen.js, DIR/dist)
//        node bench/backtest.mjs --issue12 [--sessions N] [--runs R] [--build DIR]
//          issue 12: 100 approved rules with every check (set, segments, populations,
//          stability, Jaccard) against --core-only, each by the columnar kernel and by SQL
//          (--engine kernel / sql, issue 13); bench/out/backtest-issue12-report-N.txt.
//          It never waits for a quiet machine: wall and CPU time (GNU time) and the load
//          average are reported per run, with one in-process statement trace of each side.
// Output: stdout and bench/out/backtest-report.txt (backtest-report-<DIR>.txt with --build);
// raw figures in bench/out/backtest-raw.json. Data, workspace and .npy files in bench/out are
// reused when they already hold the same synthetic Parquet (seed 7, 21 days).
//
// Internal modes of this same file (run as child processes by the benchmark):
//   --hand DB SQLFILE [--probe-memory]    the hand-written statement through @duckdb/node-api
//   --inproc WS ARGS.json                 rulegen's CLI in-process, sampling memory and timing
//                                         every statement it sends to DuckDB
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  copyFileSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, summarise, time } from './lib.mjs';
import { RULES, conditionOf, featureKind, featuresOf, handWrittenStatement, numpyOf } from './rules-100.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const argv = process.argv.slice(2);
/** The rulegen build under test: a folder with bin/rulegen.js and dist/ (default: this repository). */
const build = (() => {
  const i = argv.indexOf('--build');
  return i >= 0 ? resolve(argv[i + 1]) : root;
})();

// ====================================================================== child: hand-written

/** The hand-written statement as a person would run it: open the file, run it, read 3 rows. */
async function handMode(db, sqlFile, probe) {
  const t0 = performance.now();
  const { DuckDBInstance } = await import('@duckdb/node-api');
  // a .sql file, or a .json file { sql, params } for a statement with bound parameters
  const text = readFileSync(sqlFile, 'utf8');
  const { sql, params } = sqlFile.endsWith('.json') ? JSON.parse(text) : { sql: text, params: [] };
  const t1 = performance.now();
  // the same instance options rulegen's Store uses
  const inst = await DuckDBInstance.create(db, { autoinstall_known_extensions: 'false', autoload_known_extensions: 'true' });
  const conn = await inst.connect();
  const t2 = performance.now();
  let stopProbe = () => undefined;
  const mem = { duckdbPeak: 0, rssAtPeak: 0, rssPeak: 0, samples: 0 };
  if (probe) stopProbe = await startDuckMemoryProbe(inst, mem);
  const reader = await conn.runAndReadAll(sql, params.length ? params : undefined);
  const t3 = performance.now();
  await stopProbe();
  const rows = reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  const memAfter = probe ? await duckMemory(conn) : null;
  conn.closeSync();
  inst.closeSync();
  process.stdout.write(
    JSON.stringify({ import_ms: t1 - t0, open_ms: t2 - t1, statement_ms: t3 - t2, rows, mem: probe ? { ...mem, after: memAfter } : null }) + '\n',
  );
}

async function duckMemory(conn) {
  const r = await conn.runAndReadAll(
    `SELECT sum(memory_usage_bytes)::BIGINT AS m, sum(temporary_storage_bytes)::BIGINT AS t, current_setting('memory_limit')` +
      ` AS lim, current_setting('threads')::BIGINT AS threads FROM duckdb_memory()`,
  );
  const o = r.getRowObjectsJS()[0];
  return { bytes: Number(o.m), temp: Number(o.t), limit: o.lim, threads: Number(o.threads) };
}

/**
 * Poll DuckDB's own memory (duckdb_memory(): buffer-managed memory by tag) on a second
 * connection of the same instance while the main statement runs, with the process RSS at the
 * same moment. Only used in untimed probe runs: the polling costs a little CPU.
 */
async function startDuckMemoryProbe(inst, mem) {
  const c2 = await inst.connect();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const r = await c2.runAndReadAll(`SELECT sum(memory_usage_bytes)::BIGINT AS m FROM duckdb_memory()`);
      const m = Number(r.getRowObjectsJS()[0].m);
      const rss = process.memoryUsage.rss();
      mem.samples++;
      if (m > mem.duckdbPeak) {
        mem.duckdbPeak = m;
        mem.rssAtPeak = rss;
      }
      mem.rssPeak = Math.max(mem.rssPeak, rss);
      mem.beyondPeak = Math.max(mem.beyondPeak ?? 0, rss - m);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    stop = true;
    await loop;
    c2.closeSync();
  };
}

// ====================================================================== child: rulegen in-process

/**
 * rulegen's own CLI (dist/cli/main.js) run in this process, with
 * - process.memoryUsage() sampled every 10 ms: peak RSS, JS heap, external/ArrayBuffer memory;
 * - DuckDB's own memory polled on a second connection of rulegen's instance (captured by
 *   wrapping Store.open), with the RSS at the same moment;
 * - every statement rulegen sends to DuckDB timed (wrapping Store.all), and the time from
 *   process start to the first statement (node start-up, imports, workspace and rule loading).
 */
async function inprocMode(ws, argsFile, duckProbe) {
  const args = JSON.parse(readFileSync(argsFile, 'utf8'));
  const tImport0 = performance.now();
  const { Store } = await import(join(build, 'dist/db/store.js'));
  const { main } = await import(join(build, 'dist/cli/main.js'));
  const tImport1 = performance.now();
  const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
  };
  const timer = setInterval(sample, 10);
  const duck = { duckdbPeak: 0, rssAtPeak: 0, rssPeak: 0, samples: 0 };
  const stops = [];
  const origOpen = Store.open;
  Store.open = async function (...a) {
    const s = await origOpen.apply(this, a);
    if (duckProbe) stops.push(await startDuckMemoryProbe(s.instance, duck));
    return s;
  };
  const statements = [];
  // Store.all (queries) and Store.run (e.g. CREATE TEMP TABLE), each statement timed
  for (const method of ['all', 'run']) {
    const orig = Store.prototype[method];
    Store.prototype[method] = async function (sql, params, ...rest) {
      const t0 = performance.now();
      try {
        return await orig.call(this, sql, params, ...rest);
      } finally {
        const ms = performance.now() - t0;
        statements.push({ at_ms: t0, ms, method, sql: sql.replace(/\s+/g, ' ').slice(0, 90), full: sql, params: params ?? [] });
      }
    };
  }
  let out = '';
  let err = '';
  const io = { stdout: (t) => (out += t), stderr: (t) => (err += t), isTTY: false, cwd: process.cwd(), env: process.env };
  // The probes poll rulegen's DuckDB instance, so its store may only close after they stop:
  // defer Store.close until main() has returned (close is rulegen's last step).
  const origClose = Store.prototype.close;
  const toClose = [];
  Store.prototype.close = function () {
    toClose.push(this);
  };
  const tMain0 = performance.now();
  const code = await main(['-C', ws, ...args], io);
  const tMain1 = performance.now();
  for (const s of stops) await s();
  for (const s of toClose) origClose.call(s);
  clearInterval(timer);
  sample();
  writeSync(
    1,
    JSON.stringify({
      code,
      stderr: err,
      stdout_bytes: out.length,
      process_start_to_import_ms: tImport0,
      import_ms: tImport1 - tImport0,
      main_ms: tMain1 - tMain0,
      first_statement_at_ms: statements[0]?.at_ms ?? null,
      statements,
      peak,
      duck,
      timings: (() => {
        try {
          return JSON.parse(out).timings;
        } catch {
          return null;
        }
      })(),
    }) + '\n',
  );
  process.exit(0);
}

// ====================================================================== the benchmark

function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}

function sh(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
}

function shellQuote(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

const MB = (b) => `${(b / 1e6).toFixed(0)} MB`;

/** Debian packages the benchmark needs: `time` (GNU time for max RSS) and python3-numpy. */
function ensureDebianPackages(log) {
  const need = [];
  if (!existsSync('/usr/bin/time')) need.push('time');
  const np = sh('/usr/bin/python3', ['-c', 'import numpy; print(numpy.__version__)']);
  if (np.status !== 0) need.push('python3-numpy');
  if (!need.length) return;
  const policy = sh('apt-cache', ['policy', ...need]).stdout;
  if (/Candidate: \(none\)/.test(policy) || need.some((p) => !policy.includes(`${p}:`))) {
    log(`apt-get update (no candidate for ${need.join(', ')} yet)`);
    const u = sh('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (u.status !== 0) throw new Error('apt-get update failed');
  }
  log(`apt-get install -y ${need.join(' ')}`);
  const r = sh('apt-get', ['install', '-y', ...need], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`apt-get install ${need.join(' ')} failed`);
}

/** Size and a hash of the first and last 4 MB: enough to tell two synth outputs apart. */
function fingerprint(file) {
  const st = statSync(file);
  const h = createHash('sha1');
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(Math.min(4 << 20, st.size));
  readSync(fd, buf, 0, buf.length, 0);
  h.update(buf);
  readSync(fd, buf, 0, buf.length, Math.max(0, st.size - buf.length));
  h.update(buf);
  closeSync(fd);
  return `${st.size}:${h.digest('hex')}`;
}

function waitForOtherBenchmark(log) {
  let said = false;
  for (;;) {
    const r = sh('pgrep', ['-f', 'synth-ingest.mjs']);
    const pids = r.stdout.split('\n').filter((p) => p && Number(p) !== process.pid);
    if (!pids.length) return;
    if (!said) log(`waiting for bench/synth-ingest.mjs (pid ${pids.join(', ')}) to finish before timing ...`);
    said = true;
    spawnSync('sleep', ['10']);
  }
}

/** The timestamp literal window.ts would compute: lo + round((hi - lo) * (1 - test_fraction)). */
function sqlTimestamp(d) {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** Write a 1-D array as a .npy file (format 1.0). */
function writeNpy(file, arr) {
  const descr = arr instanceof Float64Array ? '<f8' : arr instanceof Int8Array ? '|i1' : null;
  if (!descr) throw new Error('unsupported array type');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${arr.length},), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93]).copy(pre, 0);
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const fd = openSync(file, 'w');
  writeSync(fd, pre);
  writeSync(fd, Buffer.from(header, 'latin1'));
  writeSync(fd, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
  closeSync(fd);
}

/**
 * Export the test window's label and the rules' columns to .npy files (DuckDB -> typed arrays
 * -> disk), the way a data scientist's frame would hold them: numbers float64 (NaN = NULL),
 * booleans int8 (1/0, -1 = NULL), categories int8 codes into the catalog's values (-1 = NULL).
 */
async function exportNumpy(db, cutoff, features, codes, dir, expectRows) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(db, { autoinstall_known_extensions: 'false', access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  const cols = ['label', ...features];
  const expr = (f) => {
    if (f === 'label') return `CASE WHEN label IS NULL THEN -1 ELSE label END::TINYINT`;
    const k = featureKind(f);
    if (k === 'number') return `${f}::DOUBLE`;
    if (k === 'boolean') return `CASE WHEN ${f} IS NULL THEN -1 WHEN ${f} THEN 1 ELSE 0 END::TINYINT`;
    const list = `[${codes[f].map((v) => `'${v}'`).join(', ')}]`;
    return `CASE WHEN ${f} IS NULL THEN -1 ELSE coalesce(list_position(${list}, ${f}) - 1, 127) END::TINYINT`;
  };
  const arrays = cols.map((f) => (f !== 'label' && featureKind(f) === 'number' ? new Float64Array(expectRows) : new Int8Array(expectRows)));
  const result = await conn.stream(`SELECT ${cols.map(expr).join(', ')} FROM sessions WHERE ts >= TIMESTAMP '${cutoff}'`);
  let at = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    if (at + n > expectRows) throw new Error('export: more rows than expected');
    for (let c = 0; c < cols.length; c++) {
      const v = chunk.getColumnVector(c);
      const a = arrays[c];
      if (a instanceof Float64Array) for (let i = 0; i < n; i++) a[at + i] = v.getItem(i) ?? NaN;
      else for (let i = 0; i < n; i++) a[at + i] = v.getItem(i);
    }
    at += n;
  }
  conn.closeSync();
  inst.closeSync();
  if (at !== expectRows) throw new Error(`export: ${at} rows, expected ${expectRows}`);
  mkdirSync(dir, { recursive: true });
  cols.forEach((f, i) => writeNpy(join(dir, `${f}.npy`), arrays[i]));
}

/** Busy CPU time of the whole machine so far (clock ticks, all cores) from /proc/stat. */
function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, hz: 100 };
}

/** Wait (10 min at most) until other processes use less than a quarter of a core. */
function waitForQuiet(log) {
  for (let i = 0; ; i++) {
    const a = cpuTimes();
    spawnSync('sleep', ['1']);
    const busy = (cpuTimes().busy - a.busy) / a.hz;
    if (busy < 0.25) return;
    if (i === 0) log(`machine busy (${busy.toFixed(2)} cores used by other processes): waiting for it to be quiet ...`);
    if (i >= 120) {
      log('still busy after 10 minutes: going on');
      return;
    }
    spawnSync('sleep', ['4']);
  }
}

/** Max RSS (kB) and the command's own output from `/usr/bin/time -v`'s stderr. */
function parseTimeV(stderr) {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const u = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const s = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  return { maxRssKB: m ? Number(m[1]) : NaN, user: u ? Number(u[1]) : NaN, sys: s ? Number(s[1]) : NaN };
}

/**
 * Run a child under GNU time: its max RSS and its own CPU time, so that CPU spent by other
 * processes during the run ("foreign" CPU, from /proc/stat) can be told apart; with the 1-minute
 * load average when it started.
 */
function timed(cmd, args) {
  const load = loadavg()[0];
  const c0 = cpuTimes();
  const r = time('/usr/bin/time', ['-v', cmd, ...args], { cwd: root, maxBuffer: 1 << 30 });
  const c1 = cpuTimes();
  const t = parseTimeV(r.stderr);
  const busy = (c1.busy - c0.busy) / c1.hz;
  return { ...r, ...t, load, foreign: Math.max(0, busy - t.user - t.sys) };
}

/** The synthetic Parquet and the ingested workspace for `sessions` rows (reused when they match). */
function prepareWorkspace(sessions, cli, out, log) {
  const parquet = join(out, `synth-${sessions}.parquet`);
  const catalog = join(out, sessions === 10_000_000 ? 'features.yaml' : `features-${sessions}.yaml`);
  let synthSeconds = null;
  if (!existsSync(parquet) || !existsSync(catalog)) {
    log(`synth ${sessions.toLocaleString('en-US')} sessions -> ${parquet}`);
    synthSeconds = time('node', [cli, 'synth', '--sessions', String(sessions), '--days', '21', '--seed', '7', '--out', parquet, '--catalog', catalog]).seconds;
  }
  const ws = join(out, `backtest-ws-${sessions}`);
  const db = join(ws, '.rulegen', 'rulegen.duckdb');
  const stampFile = join(ws, '.rulegen', 'backtest-source.txt');
  const source = fingerprint(parquet);
  let ingestSeconds = null;
  if (!existsSync(db) || !existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== source) {
    log(`init ${ws} and ingest ${parquet}`);
    rmSync(ws, { recursive: true, force: true });
    time('node', [cli, 'init', ws]);
    copyFileSync(catalog, join(ws, 'features.yaml'));
    ingestSeconds = time('node', [cli, '-C', ws, '--quiet', 'ingest', '--replace', parquet]).seconds;
    writeFileSync(stampFile, source);
  } else log(`reusing ${ws} (already holds ${parquet})`);
  return { parquet, catalog, ws, db, synthSeconds, ingestSeconds, source };
}

async function benchmark() {
  const sessions = opt('sessions', 10_000_000);
  const runs = opt('runs', 3);
  const noWait = argv.includes('--no-wait');
  const out = join(root, 'bench/out');
  mkdirSync(out, { recursive: true });
  const cli = join(build, 'bin/rulegen.js');
  const buildArgs = build === root ? [] : ['--build', build];
  const log = (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  const lines = [];
  const say = (m = '') => {
    lines.push(m);
    console.log(m);
  };

  if (!existsSync(join(build, 'dist/cli/main.js'))) throw new Error(`${build}/dist is missing: run \`npm run build\` first`);
  ensureDebianPackages(log);
  if (!noWait) waitForOtherBenchmark(log);

  // ---------------------------------------------------------------- data and workspace
  const { parquet, ws, db, synthSeconds, ingestSeconds, source } = prepareWorkspace(sessions, cli, out, log);

  // category codes from the workspace catalog, the cutoff and window size from the data
  const { parse } = await import('yaml');
  const cat = parse(readFileSync(join(ws, 'features.yaml'), 'utf8'));
  const codes = Object.fromEntries(cat.filter((f) => f.type === 'category').map((f) => [f.name, f.values]));
  const cfg = parse(readFileSync(join(ws, 'rulegen.yaml'), 'utf8'));
  const testFraction = cfg?.split?.test_fraction ?? 0.3;
  const span = JSON.parse(
    sh(
      'node',
      [
        '-e',
        `
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const i = await DuckDBInstance.create(${JSON.stringify(db)}, { access_mode: 'READ_ONLY' });
    const c = await i.connect();
    const r = (await c.runAndReadAll('SELECT epoch_ms(min(ts)) AS lo, epoch_ms(max(ts)) AS hi, count(*) AS n FROM sessions')).getRowObjectsJS()[0];
    console.log(JSON.stringify({ lo: Number(r.lo), hi: Number(r.hi), n: Number(r.n) }));
  `,
      ],
      { cwd: root, input: '' },
    ).stdout || '{}',
  );
  if (!span.n) throw new Error('cannot read the sessions table');
  const cutoff = sqlTimestamp(new Date(span.lo + Math.round((span.hi - span.lo) * (1 - testFraction))));
  const rules = RULES;
  const conditions = rules.map(conditionOf);
  const features = featuresOf(rules);
  const handSql = handWrittenStatement(rules, cutoff);
  const handFile = join(out, `backtest-hand-${sessions}.sql`);
  writeFileSync(handFile, handSql + ';\n');
  const rulesFile = join(out, `backtest-rules-${sessions}.json`);
  writeFileSync(
    rulesFile,
    JSON.stringify({ features, codes, rules: rules.map((r, i) => ({ i, condition: conditions[i], numpy: numpyOf(r, codes) })) }, null, 1),
  );
  const windowRows = Number(
    JSON.parse(
      sh('node', ['bench/backtest.mjs', '--hand', db, writeTmp(out, `SELECT count(*) AS n FROM sessions WHERE ts >= TIMESTAMP '${cutoff}'`)], { cwd: root })
        .stdout,
    ).rows[0].n,
  );

  // numpy's input: the test window's columns as .npy files
  const npDir = join(out, `backtest-npy-${sessions}`);
  const npStamp = join(npDir, 'source.txt');
  const npKey = `${source}|${cutoff}|${features.join(',')}`;
  let exportSeconds = null;
  if (!existsSync(npStamp) || readFileSync(npStamp, 'utf8') !== npKey) {
    log(`exporting ${windowRows.toLocaleString('en-US')} test-window rows x ${features.length + 1} columns to ${npDir}`);
    rmSync(npDir, { recursive: true, force: true });
    const t0 = performance.now();
    await exportNumpy(db, cutoff, features, codes, npDir, windowRows);
    exportSeconds = (performance.now() - t0) / 1000;
    writeFileSync(npStamp, npKey);
  }

  // ---------------------------------------------------------------- the contenders
  const rulegenArgs = (core) => ['-C', ws, '--quiet', '--json', 'backtest', ...conditions, '--window', 'test', ...(core ? ['--core-only'] : []), '--no-write'];
  if (!noWait) waitForOtherBenchmark(log);
  log('statement trace of rulegen --core-only, in-process (untimed)');
  const argsFile = (core) => writeTmp(out, JSON.stringify(rulegenArgs(core).slice(2)), 'json');
  const inproc = (core, probe = true) => {
    const r = sh('node', [join(root, 'bench/backtest.mjs'), '--inproc', ws, argsFile(core), ...(probe ? [] : ['--no-duck-probe']), ...buildArgs], {
      cwd: root,
    });
    if (r.status !== 0) throw new Error(`in-process run failed: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    if (j.code !== 0) throw new Error(`in-process rulegen failed (${j.code}): ${j.stderr}`);
    return j;
  };
  // the trace is one untimed run: take the faster of two, each started on a quiet machine
  const traceCore = [0, 1]
    .map(() => {
      if (!noWait) waitForQuiet(log);
      return inproc(true, false);
    })
    .sort((x, y) => x.main_ms - y.main_ms)[0];
  // rulegen's core statement exactly as it reaches DuckDB, and variants of it that tell where
  // a difference to the hand-written statement comes from (each run like (b), statement timed)
  const coreStmt = traceCore.statements.find((x) => /^SELECT "label" AS lbl, count\(\*\) AS n/.test(x.full));
  if (!coreStmt) throw new Error('no core statement in the trace');
  const litOf = (p) => (typeof p === 'string' ? `'${p.replaceAll("'", "''")}'` : String(p));
  const inlined = (sql, params) => {
    let k = 0;
    return sql.replace(/\?/g, () => litOf(params[k++]));
  };
  const outerCoalesce = coreStmt.full.includes('CASE WHEN coalesce(');
  const variants = {
    e1: {
      what:
        "rulegen's core statement as rulegen sends it (bound ?::DOUBLE parameters" +
        `${outerCoalesce ? ', coalesce(<rule>, false) inside each CASE WHEN' : ', no outer coalesce in this build'})`,
      sql: coreStmt.full,
      params: coreStmt.params,
    },
    e2: {
      what: outerCoalesce
        ? 'the same without the outer coalesce(..., false) inside CASE WHEN (NULL already counts as false there)'
        : 'the same as e1 (this build has no outer coalesce to drop)',
      sql: coreStmt.full.replaceAll('CASE WHEN coalesce(', 'CASE WHEN (').replaceAll(', false) THEN 1 ELSE 0 END', ') THEN 1 ELSE 0 END'),
      params: coreStmt.params,
    },
    e3: {
      what: 'the hand-written statement with each rule wrapped in coalesce((...), false)',
      sql: handSql.replace(/CASE WHEN (.*?) THEN 1 ELSE 0 END/g, 'CASE WHEN coalesce(($1), false) THEN 1 ELSE 0 END'),
      params: [],
    },
    e4: { what: "rulegen's core statement with its parameters inlined as literals", sql: inlined(coreStmt.full, coreStmt.params), params: [] },
  };
  const variantFiles = Object.fromEntries(
    Object.entries(variants).map(([k, v]) => {
      const f = join(out, `backtest-variant-${k}-${sessions}.json`);
      writeFileSync(f, JSON.stringify({ what: v.what, sql: v.sql, params: v.params }));
      return [k, f];
    }),
  );
  const contenders = {
    core: () => {
      const r = timed('node', [cli, ...rulegenArgs(true)]);
      const j = JSON.parse(r.stdout);
      return {
        seconds: r.seconds,
        foreign: r.foreign,
        rssKB: r.maxRssKB,
        cpu: r.user + r.sys,
        engine: j.timings,
        counts: j.rules.map((x) => [x.counts.tp, x.counts.fp]),
        json: j,
        bytes: r.stdout.length,
      };
    },
    hand: () => {
      const r = timed('node', [join(root, 'bench/backtest.mjs'), '--hand', db, handFile]);
      const j = JSON.parse(r.stdout);
      const row = (l) => j.rows.find((x) => x.label === l) ?? {};
      return {
        seconds: r.seconds,
        foreign: r.foreign,
        rssKB: r.maxRssKB,
        cpu: r.user + r.sys,
        statement: j.statement_ms / 1000,
        open: j.open_ms / 1000,
        counts: rules.map((_, i) => [Number(row(1)[`h${i}`] ?? 0), Number(row(0)[`h${i}`] ?? 0)]),
        rows: j.rows,
      };
    },
    full: () => {
      const r = timed('node', [cli, ...rulegenArgs(false)]);
      const j = JSON.parse(r.stdout);
      return {
        seconds: r.seconds,
        foreign: r.foreign,
        rssKB: r.maxRssKB,
        cpu: r.user + r.sys,
        engine: j.timings,
        counts: j.rules.map((x) => [x.counts.tp, x.counts.fp]),
        bytes: r.stdout.length,
      };
    },
    ...Object.fromEntries(
      Object.keys(variants).map((k) => [
        k,
        () => {
          const r = timed('node', [join(root, 'bench/backtest.mjs'), '--hand', db, variantFiles[k]]);
          const j = JSON.parse(r.stdout);
          const lbl = j.rows[0] && 'lbl' in j.rows[0] ? 'lbl' : 'label';
          const row = (l) => j.rows.find((x) => x[lbl] === l) ?? {};
          return {
            seconds: r.seconds,
            foreign: r.foreign,
            statement: j.statement_ms / 1000,
            counts: rules.map((_, i) => [Number(row(1)[`h${i}`] ?? 0), Number(row(0)[`h${i}`] ?? 0)]),
          };
        },
      ]),
    ),
    numpy: () => {
      const r = timed('/usr/bin/python3', [join(root, 'bench/backtest_numpy.py'), npDir, rulesFile]);
      const j = JSON.parse(r.stdout);
      return {
        seconds: r.seconds,
        foreign: r.foreign,
        load: j.load_s,
        compute: j.compute_s,
        counts: j.tp.map((tp, i) => [tp, j.fp[i]]),
        numpyVersion: j.numpy,
        bytes: j.bytes,
      };
    },
  };
  const names = Object.keys(contenders);
  if (!noWait) waitForOtherBenchmark(log);
  log('warm-up round (untimed: page cache)');
  const warm = {};
  for (const n of names) warm[n] = contenders[n]();
  const res = Object.fromEntries(names.map((n) => [n, []]));
  let repeated = 0;
  /** A run during which other processes used a noticeable share of the CPU is run again (twice at most). */
  const measured = (n) => {
    let r;
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (!noWait) waitForQuiet(log);
      r = contenders[n]();
      r.attempts = attempt;
      if (noWait || r.foreign <= Math.max(0.3, 0.05 * r.seconds)) break;
      repeated++;
      log(
        `  ${n}: other processes used` +
          ` ${fmt(r.foreign)} CPU-s during this ${fmt(r.seconds)} s run${attempt < 3 ? ': running it again' : ': kept (3rd attempt)'}`,
      );
    }
    return r;
  };
  for (let i = 0; i < runs; i++) {
    if (!noWait) waitForOtherBenchmark(log);
    const order = names.map((_, k) => names[(k + i) % names.length]);
    for (const n of order) res[n].push(measured(n));
    log(
      `run ${i + 1}/${runs} (${order.join(', ')}): core ${fmt(res.core[i].seconds)} s,` +
        ` hand ${fmt(res.hand[i].seconds)} s (statement ${fmt(res.hand[i].statement)} s), full ${fmt(res.full[i].seconds)} s,` +
        ` numpy compute ${fmt(res.numpy[i].compute)} s (+ load ${fmt(res.numpy[i].load)} s); statements e1..e4 ${Object.keys(variants)
          .map((k) => fmt(res[k][i].statement))
          .join(', ')} s`,
    );
  }

  // ---------------------------------------------------------------- correctness
  const mismatches = [];
  const ref = res.hand[0].counts;
  const check = (what, counts) => {
    counts.forEach(([tp, fp], i) => {
      if (tp !== ref[i][0] || fp !== ref[i][1])
        mismatches.push(`rule ${i + 1} (${conditions[i]}): ${what} tp/fp ${tp}/${fp}, hand-written ${ref[i][0]}/${ref[i][1]}`);
    });
  };
  for (const n of names) for (const [k, r] of [...res[n], warm[n]].entries()) check(`${n}#${k}`, r.counts);
  const ruleCutoff = sqlTimestamp(new Date(res.core[0].json.window.cutoff));
  if (ruleCutoff !== cutoff) mismatches.push(`rulegen's cutoff ${ruleCutoff} differs from the hand-written ${cutoff}`);
  if (res.core[0].json.rows !== windowRows) mismatches.push(`rulegen's window has ${res.core[0].json.rows} rows, the hand-written ${windowRows}`);

  // ---------------------------------------------------------------- memory and where the time goes
  log('memory probes (untimed runs)');
  const quiet = (f) => {
    if (!noWait) waitForQuiet(log);
    return f();
  };
  const probeCore = quiet(() => inproc(true));
  const probeFull = quiet(() => inproc(false));
  if (!noWait) waitForQuiet(log);
  const probeHand = JSON.parse(sh('node', [join(root, 'bench/backtest.mjs'), '--hand', db, handFile, '--probe-memory'], { cwd: root }).stdout);
  if (!noWait) waitForQuiet(log);
  const nodeBare = summarise([0, 1, 2].map(() => time('node', ['-e', '0']).seconds));
  const cliVersion = summarise([0, 1, 2].map(() => time('node', [cli, '--version']).seconds));
  const nodeApiOnly = summarise([0, 1, 2].map(() => time('node', ['--input-type=module', '-e', "await import('@duckdb/node-api')"], { cwd: root }).seconds));
  const nodeBareRss = parseTimeV(time('/usr/bin/time', ['-v', 'node', '-e', '0']).stderr).maxRssKB;

  // ---------------------------------------------------------------- report
  const S = Object.fromEntries(names.map((n) => [n, summarise(res[n].map((r) => r.seconds))]));
  const stmt = summarise(res.hand.map((r) => r.statement));
  const np = summarise(res.numpy.map((r) => r.compute));
  const npLoad = summarise(res.numpy.map((r) => r.load));
  const engCore = summarise(res.core.map((r) => r.engine.core / 1000));
  // the engine's own step timings (their names follow src/backtest/engine.ts, e.g. core,
  // breakdowns, overlap, or core+breakdowns when one scan does both)
  const fullKeys = Object.keys(res.full[0].engine);
  const engFull = Object.fromEntries(fullKeys.map((k) => [k, summarise(res.full.map((r) => (r.engine[k] ?? NaN) / 1000))]));
  const engFullSum = summarise(res.full.map((r) => fullKeys.reduce((a, k) => a + (r.engine[k] ?? 0), 0) / 1000));
  const label = {
    core: 'core counts',
    breakdowns: 'per-day + per-segment (GROUPING SETS)',
    'core+breakdowns': 'core + per-day + per-segment (one GROUPING SETS scan)',
    overlap: 'overlap + incremental recall (hit bitmasks)',
  };
  const engFullText = fullKeys.map((k) => `${label[k] ?? k} ${fmt(engFull[k].median)} s`).join(' + ');
  const rss = (xs) => summarise(xs.map((r) => r.rssKB * 1024));
  const rssCore = rss(res.core);
  const rssHand = rss(res.hand);
  const rssFull = rss(res.full);
  const mm = (s, unit = 's') => `median ${fmt(s.median)} ${unit} (min ${fmt(s.min)}, max ${fmt(s.max)})`;
  const mmMB = (s) => `median ${MB(s.median)} (min ${MB(s.min)}, max ${MB(s.max)})`;
  const ratio = (a, b) => `${(a / b).toFixed(3)}x`;
  const tr = res.core[0].json;
  const suffix = build === root ? '' : `-${basename(build)}`;
  const commandLine = ['node', cli.replace(root + '/', ''), ...rulegenArgs(true).map((a) => (a === ws ? `bench/out/backtest-ws-${sessions}` : a))]
    .map(shellQuote)
    .join(' ');
  writeFileSync(join(out, `backtest-command${suffix}.sh`), `#!/bin/sh\n# (a) as timed by bench/backtest.mjs (run from the repository root)\n${commandLine}\n`);

  const coreVsStmt = S.core.median / stmt.median;
  const coreVsHand = S.core.median / S.hand.median;
  const host = sh('sh', ['-c', 'nproc; grep -m1 "model name" /proc/cpuinfo | cut -d: -f2; free -m | awk \'/Mem:/{print $2}\'']).stdout.trim().split('\n');
  say(
    `rulegen bench: backtest of ${rules.length} rules (2-3 terms) over ${sessions.toLocaleString('en-US')} sessions,` +
      ` ${runs} interleaved runs after 1 warm-up round`,
  );
  say(
    `  rulegen build:` +
      ` ${build === root ? 'dist/' : build.replace(root + '/', '') + '/dist'} compiled ${statSync(join(build, 'dist/cli/main.js')).mtime.toISOString()}`,
  );
  say(
    `  machine: ${host[0]} cores,${host[1] ?? ''}, ${host[2]} MB RAM; node ${process.version};` +
      ` DuckDB threads ${probeHand.mem?.after?.threads}, memory_limit ${probeHand.mem?.after?.limit} (default, not set);` +
      ` numpy ${res.numpy[0].numpyVersion} (Debian python3-numpy, /usr/bin/python3)`,
  );
  say(
    `  data:` +
      ` ${parquet.replace(root + '/', '')}${synthSeconds !== null ? ` (synthesised now in ${fmt(synthSeconds)} s)` : ' (reused)'};` +
      ` workspace ${ws.replace(root + '/', '')}${ingestSeconds !== null ? ` (ingested now in ${fmt(ingestSeconds)} s)` : ' (reused)'}`,
  );
  say(
    `  test window:` +
      ` ts >= ${cutoff} -> ${windowRows.toLocaleString('en-US')} of ${span.n.toLocaleString('en-US')} rows (bots ${tr.bots.toLocaleString('en-US')},` +
      ` humans ${tr.humans.toLocaleString('en-US')}, unlabelled ${tr.unlabeled.toLocaleString('en-US')})`,
  );
  say(
    `  rules: bench/rules-100.mjs (${rules.reduce((a, r) => a + r.terms.length, 0)} terms over ${features.length} features);` +
      ` hand-written SQL in ${handFile.replace(root + '/', '')}`,
  );
  say('');
  say('wall time per run (seconds)');
  say(`  (a) rulegen backtest --core-only (child process):   ${mm(S.core)}`);
  say(`      of which the core statement (engine timings):   ${mm(engCore)}`);
  say(`  (b) hand-written statement, node child process:     ${mm(S.hand)}`);
  say(`      of which the statement itself:                  ${mm(stmt)}`);
  say(`  (c) rulegen backtest, full breakdowns:              ${mm(S.full)}`);
  say(`      engine medians: ${engFullText}`);
  say(`  (d) numpy masks, compute only:                      ${mm(np)}`);
  say(`      load of the ${features.length + 1} columns from .npy (apart):       ${mm(npLoad)}; child process wall ${mm(S.numpy)}`);
  if (exportSeconds !== null) say(`      (one-off DuckDB -> .npy export of the test window: ${fmt(exportSeconds)} s)`);
  say('');
  say('ratios (medians)');
  say(`  rulegen core / hand-written process:    ${ratio(S.core.median, S.hand.median)}   (target <= 1.15x) ${coreVsHand <= 1.15 ? 'MET' : 'MISSED'}`);
  say(`  rulegen core / hand-written statement:  ${ratio(S.core.median, stmt.median)}   (target <= 1.15x) ${coreVsStmt <= 1.15 ? 'MET' : 'MISSED'}`);
  say(`  rulegen core statement / hand-written statement (engine vs statement, both in DuckDB): ${ratio(engCore.median, stmt.median)}`);
  say(`  rulegen core / numpy compute:           ${ratio(S.core.median, np.median)}   (aim: 1x)`);
  say(`  hand-written statement / numpy compute: ${ratio(stmt.median, np.median)}`);
  say(
    `  breakdowns' extra cost (per-day, per-segment, overlap):` +
      ` full - core = ${fmt(S.full.median - S.core.median)} s (full = ${ratio(S.full.median, S.core.median)} of core);` +
      ` in the engine ${fmt(engFullSum.median - engCore.median)} s (${engFullText} vs core-only ${fmt(engCore.median)} s),` +
      ` outside it (JSON of ${(res.full[0].bytes / 1e6).toFixed(1)} MB instead of ${(res.core[0].bytes / 1e6).toFixed(2)} MB)` +
      ` ${fmt(S.full.median - S.core.median - (engFullSum.median - engCore.median))} s`,
  );
  say(
    `  runs repeated because other processes used the CPU meanwhile: ${repeated};` +
      ` foreign CPU in the kept runs at most ${fmt(Math.max(...names.flatMap((n) => res[n].map((r) => r.foreign ?? 0))))} CPU-s`,
  );
  say(
    `  every run (s): core ${res.core.map((r) => fmt(r.seconds)).join(' ')} | hand ${res.hand.map((r) => fmt(r.seconds)).join(' ')}` +
      ` (statement ${res.hand.map((r) => fmt(r.statement)).join(' ')})` +
      ` | full ${res.full.map((r) => fmt(r.seconds)).join(' ')} | numpy compute ${res.numpy.map((r) => fmt(r.compute)).join(' ')}`,
  );
  say(
    `  spread (max-min)/median: core ${(100 * S.core.spread).toFixed(0)}%, hand ${(100 * S.hand.spread).toFixed(0)}%,` +
      ` statement ${(100 * stmt.spread).toFixed(0)}%, full ${(100 * S.full.spread).toFixed(0)}%, numpy ${(100 * np.spread).toFixed(0)}%`,
  );
  say('');
  say('where the DuckDB-side difference comes from: statement-only times, each run as (b) in the same rounds');
  say(`  (b)  hand-written statement:  ${mm(stmt)}`);
  for (const k of Object.keys(variants)) {
    const v = summarise(res[k].map((r) => r.statement));
    say(`  (${k}) ${mm(v)}  = ${ratio(v.median, stmt.median)} of (b): ${variants[k].what}`);
  }
  {
    const e1 = summarise(res.e1.map((r) => r.statement)).median;
    const e2 = summarise(res.e2.map((r) => r.statement)).median;
    const projected = S.core.median - (e1 - e2);
    if (outerCoalesce)
      say(
        `  => projected rulegen --core-only wall without the outer coalesce: (a) - ((e1) - (e2)) = ${fmt(projected)} s:` +
          ` ${ratio(projected, S.hand.median)} of the hand-written process, ${ratio(projected, stmt.median)} of the statement alone`,
      );
  }
  say('');
  say('where rulegen --core-only spends its wall time (in-process trace, one untimed run)');
  say(
    `  node start-up (bare \`node -e 0\`): ${fmt(nodeBare.median)} s; node importing only @duckdb/node-api:` +
      ` ${fmt(nodeApiOnly.median)} s; \`rulegen --version\` (imports every command): ${fmt(cliVersion.median)} s`,
  );
  say(
    `  process start -> first DuckDB statement:` +
      ` ${fmt(traceCore.first_statement_at_ms / 1000)} s (imports ${fmt(traceCore.import_ms / 1000)} s, then workspace,` +
      ` catalog, 100 conditions parsed and checked, DuckDB opened)`,
  );
  for (const s of traceCore.statements) say(`  ${fmt(s.ms / 1000).padStart(6)} s  ${s.sql}`);
  say(
    `  in-process total (main()): ${fmt(traceCore.main_ms / 1000)} s; process start -> main()` +
      ` returned ${fmt((traceCore.process_start_to_import_ms + traceCore.import_ms + traceCore.main_ms) / 1000)} s`,
  );
  {
    const coreMs = traceCore.statements.find((x) => x.full.startsWith('SELECT "label" AS lbl')).ms;
    const other = traceCore.statements.reduce((a, x) => a + x.ms, 0) - coreMs;
    say(
      `  non-statement overhead of (a): wall - engine core = ${fmt(S.core.median - engCore.median)} s (hand-written process:` +
        ` wall - statement = ${fmt(S.hand.median - stmt.median)} s); of it the window/describe statements ${fmt(other / 1000)} s`,
    );
  }
  say('  full breakdowns, in-process trace (one untimed run, DuckDB memory probe on):');
  for (const s of probeFull.statements) say(`  ${fmt(s.ms / 1000).padStart(6)} s  ${s.sql}`);
  {
    const ov = probeFull.statements.find((x) => x.full.startsWith('SELECT lbl, m0'));
    if (ov && probeFull.timings?.overlap)
      say(
        `  overlap: ${fmt(probeFull.timings.overlap / 1000)} s in the engine,` +
          ` of which the bitmask statement (with reading its rows into JS)` +
          ` ${fmt(ov.ms / 1000)} s and the JS pair counting after it ${fmt((probeFull.timings.overlap - ov.ms) / 1000)} s`,
      );
  }
  say('');
  say('memory');
  say(
    `  peak RSS (/usr/bin/time -v): rulegen core ${mmMB(rssCore)}; hand-written node process ${mmMB(rssHand)};` +
      ` rulegen full ${mmMB(rssFull)}; bare node ${MB(nodeBareRss * 1024)}`,
  );
  say(
    `  rulegen core - hand-written process (same DuckDB work): ${MB(rssCore.median - rssHand.median)}; full - hand-written:` +
      ` ${MB(rssFull.median - rssHand.median)}`,
  );
  const dm = (p) =>
    `DuckDB's own memory (duckdb_memory(), polled every 50 ms) peak ${MB(p.duckdbPeak)}, RSS then ${MB(p.rssAtPeak)};` +
    ` max over samples of RSS - DuckDB memory ${MB(p.beyondPeak ?? 0)}`;
  say(`  hand-written (probe run): ${dm(probeHand.mem)}`);
  say(
    `  rulegen core (in-process probe): ${dm(probeCore.duck)}; process peaks: RSS ${MB(probeCore.peak.rss)},` +
      ` JS heap used ${MB(probeCore.peak.heapUsed)} (heap total ${MB(probeCore.peak.heapTotal)}),` +
      ` external ${MB(probeCore.peak.external)}, ArrayBuffers ${MB(probeCore.peak.arrayBuffers)}`,
  );
  say(
    `  rulegen full (in-process probe): ${dm(probeFull.duck)}; process peaks: RSS ${MB(probeFull.peak.rss)},` +
      ` JS heap used ${MB(probeFull.peak.heapUsed)} (heap total ${MB(probeFull.peak.heapTotal)}),` +
      ` external ${MB(probeFull.peak.external)}, ArrayBuffers ${MB(probeFull.peak.arrayBuffers)}`,
  );
  const beyond = Math.max(probeCore.duck.beyondPeak ?? 0, probeFull.duck.beyondPeak ?? 0);
  say(
    `  target: < 300 MB of RSS beyond DuckDB's own memory -> ${MB(beyond)} at most (core and full)` +
      ` ${beyond < 300e6 ? 'MET' : 'MISSED'}; the JS heap peaked at ${MB(Math.max(probeCore.peak.heapUsed, probeFull.peak.heapUsed))}`,
  );
  say(
    `  (RSS - duckdb_memory() also holds node itself (~${MB(nodeBareRss * 1024)} bare),` +
      ` DuckDB's allocations outside its buffer manager and malloc's retained pages;`,
  );
  say(`   rulegen's JS side is bounded by the JS heap + external figures above)`);
  say('');
  say(
    `correctness: tp/fp of all ${rules.length} rules from rulegen (core and full), the hand-written statement and numpy,` +
      ` over ${runs + 1} rounds: ${mismatches.length ? `${mismatches.length} MISMATCHES` : 'identical'}`,
  );
  say('');
  say('commands');
  say(`  benchmark: node bench/backtest.mjs --sessions ${sessions} --runs ${runs}${build === root ? '' : ` --build ${build.replace(root + '/', '')}`}`);
  say(`  (a) ${commandLine.slice(0, 400)} ... (${conditions.length} conditions; full line in bench/out/backtest-command${suffix}.sh)`);
  say(`  (b) node bench/backtest.mjs --hand ${db.replace(root + '/', '')} ${handFile.replace(root + '/', '')}`);
  say(`  (c) as (a) without --core-only`);
  say(`  (e1..e4) node bench/backtest.mjs --hand ${db.replace(root + '/', '')} bench/out/backtest-variant-eN-${sessions}.json`);
  say(`  (d) /usr/bin/python3 bench/backtest_numpy.py ${npDir.replace(root + '/', '')} ${rulesFile.replace(root + '/', '')}`);
  writeFileSync(join(out, `backtest-report${suffix}.txt`), lines.join('\n') + '\n');
  writeFileSync(
    join(out, `backtest-raw${suffix}.json`),
    JSON.stringify(
      {
        res: Object.fromEntries(names.map((n) => [n, res[n].map(({ json, rows, ...r }) => r)])),
        traceCore,
        probeCore,
        probeFull,
        probeHand: { ...probeHand, rows: undefined },
      },
      null,
      1,
    ),
  );
  for (const f of tmpFiles) rmSync(f, { force: true });
  if (mismatches.length) {
    console.error('\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    console.error(`!!! COUNTS DISAGREE: ${mismatches.length} mismatches`);
    for (const m of mismatches.slice(0, 40)) console.error(`!!! ${m}`);
    console.error('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    process.exit(1);
  }
}

// ====================================================================== issue 12: the full gate

/**
 * `--issue12`: the 100 rules as APPROVED rule files (block / challenge, every tenth a log rule)
 * in a second workspace over the same database, with a protected segment column and a protected
 * population; `rulegen backtest` there runs every issue-12 check (the deployed set's union,
 * incremental FPR, per-segment and per-population FPR, the train scan for stability, hit-set
 * Jaccard). Timed interleaved against (a) `backtest --core-only` of the same 100 conditions;
 * target <= 2x. The tp/fp of every rule must agree between the two, or the run fails. Besides
 * wall time, each run's own CPU time (user + sys of the process and DuckDB's threads): on a
 * shared machine the CPU ratio moves much less with the load than the wall ratio.
 */
async function issue12() {
  const sessions = opt('sessions', 10_000_000);
  const runs = opt('runs', 3);
  const out = join(root, 'bench/out');
  mkdirSync(out, { recursive: true });
  const cli = join(build, 'bin/rulegen.js');
  const log = (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  if (!existsSync(join(build, 'dist/cli/main.js'))) throw new Error(`${build}/dist is missing: run \`npm run build\` first`);
  const { ws, db } = prepareWorkspace(sessions, cli, out, log);
  const conditions = RULES.map(conditionOf);

  // the second workspace: same config and catalog plus segments:, its own rules/, the same database
  const ws12 = join(out, `backtest-ws12-${sessions}`);
  rmSync(ws12, { recursive: true, force: true });
  mkdirSync(join(ws12, 'rules'), { recursive: true });
  mkdirSync(join(ws12, 'candidates'));
  mkdirSync(join(ws12, '.rulegen'));
  symlinkSync(db, join(ws12, '.rulegen', 'rulegen.duckdb'));
  copyFileSync(join(ws, 'features.yaml'), join(ws12, 'features.yaml'));
  writeFileSync(
    join(ws12, 'rulegen.yaml'),
    readFileSync(join(ws, 'rulegen.yaml'), 'utf8') +
      `
segments:
  - column: country
    protected: true
  - name: keyboard_users
    where: "pointer_events < 5 and keyboard_nav_ratio > 0.5"
    protected: true
`,
  );
  const ids = conditions.map((_, i) => {
    const h = createHash('sha1').update(`bench-rule-${i}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
  conditions.forEach((c, i) => {
    const action = i % 10 === 9 ? 'log' : i % 2 ? 'challenge' : 'block';
    writeFileSync(
      join(ws12, 'rules', `${ids[i]}.yaml`),
      `id: ${ids[i]}
title: Bench rule ${i + 1}
status: approved
action: ${action}
level: high
condition: ${JSON.stringify(c)}
description: Bench rule.
rationale: Bench rule.
falsepositives: [Unknown]
provenance:
  generator: human:bench
  created: 2026-01-01T00:00:00Z
review:
  decision: approved
  reviewer: bench
  at: 2026-01-01T00:00:00Z
`,
    );
  });

  const coreArgs = ['-C', ws, '--quiet', '--json', 'backtest', ...conditions, '--window', 'test', '--core-only', '--no-write'];
  const fullArgs = ['-C', ws12, '--quiet', '--json', 'backtest', '--window', 'test', '--no-write'];
  // issue 13: each side by the columnar kernel and by the SQL engine (the reference), in the same interleaved rounds
  const core = (engine) => () => {
    const r = timed('node', [cli, ...coreArgs, '--engine', engine]);
    const j = JSON.parse(r.stdout);
    return { ...pick(r), engine: j.timings, made_by: j.engine, kernel: j.kernel ?? null, counts: j.rules.map((x) => [x.counts.tp, x.counts.fp]) };
  };
  const full = (engine) => () => {
    const r = timed('node', [cli, ...fullArgs, '--engine', engine]);
    const j = JSON.parse(r.stdout);
    const byId = new Map(j.rules.map((x) => [x.id, x]));
    const f = Object.values(j.findings);
    return {
      ...pick(r),
      engine: j.timings,
      made_by: j.engine,
      kernel: j.kernel ?? null,
      counts: ids.map((id) => [byId.get(id).counts.tp, byId.get(id).counts.fp]),
      set: j.set.deployed,
      set_gate: j.set_gate,
      segments: f.reduce((a, x) => a + x.segment.length, 0),
      stability: f.reduce((a, x) => a + x.stability.length, 0),
      duplicates: f.reduce((a, x) => a + x.duplicate.length, 0),
      days: byId.get(ids[0]).daily.series.length,
      pairs: j.rules.reduce((a, x) => a + x.overlap.filter((o) => o.jaccard >= 0.9).length, 0) / 2,
      bytes: r.stdout.length,
      // every figure but timings and which engine made it: compared kernel vs SQL
      digest: createHash('sha256')
        .update(canonical({ ...j, timings: undefined, engine: undefined, kernel: undefined }))
        .digest('hex'),
    };
  };
  const contenders = { core_sql: core('sql'), core_kernel: core('kernel'), full_sql: full('sql'), full_kernel: full('kernel') };
  const names = Object.keys(contenders);
  log('warm-up round (untimed: page cache; the kernel builds its column cache in each workspace here)');
  const warm = Object.fromEntries(names.map((n) => [n, contenders[n]()]));
  const res = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    // rotate the order every round so load that changes over time hits every contender alike
    const order = names.map((_, k) => names[(k + i) % names.length]);
    for (const n of order) res[n].push(contenders[n]());
    log(`run ${i + 1}/${runs}: ` + names.map((n) => `${n} ${fmt(res[n][i].seconds)} s (${fmt(res[n][i].cpu)} CPU-s, load ${fmt(res[n][i].load)})`).join(', '));
  }
  // where the time goes: each CLI once more in-process (untimed), every DuckDB statement timed
  log('statement traces (in-process, untimed)');
  const trace = (wsArgs) => {
    const args = writeTmp(out, JSON.stringify(wsArgs.slice(2)), 'json');
    const r = sh('node', [join(root, 'bench/backtest.mjs'), '--inproc', wsArgs[1], args, '--no-duck-probe', ...(build === root ? [] : ['--build', build])], {
      cwd: root,
    });
    if (r.status !== 0) throw new Error(`in-process run failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const traces = {
    core_sql: trace([...coreArgs, '--engine', 'sql']),
    full_sql: trace([...fullArgs, '--engine', 'sql']),
    full_kernel: trace([...fullArgs, '--engine', 'kernel']),
  };
  const mismatches = [];
  const all = names.flatMap((n) => [warm[n], ...res[n]].map((r) => ({ n, r })));
  for (const { n, r } of all) {
    if (r.made_by !== (n.endsWith('kernel') ? 'kernel' : 'sql')) mismatches.push(`${n}: made by ${r.made_by}`);
    r.counts.forEach(([tp, fp], i) => {
      if (tp !== warm.core_sql.counts[i][0] || fp !== warm.core_sql.counts[i][1])
        mismatches.push(`${n} rule ${i + 1}: ${tp}/${fp} vs core SQL ${warm.core_sql.counts[i].join('/')}`);
    });
    if (n.startsWith('full') && r.digest !== warm.full_sql.digest) mismatches.push(`${n}: the full result differs from SQL's (sha256 of the --json figures)`);
  }
  const med = (n, k) => summarise(res[n].map((r) => r[k]));
  const S = Object.fromEntries(names.map((n) => [n, med(n, 'seconds')]));
  const C = Object.fromEntries(names.map((n) => [n, med(n, 'cpu')]));
  const eng = (n) => Object.fromEntries(Object.keys(res[n][0].engine).map((k) => [k, summarise(res[n].map((r) => r.engine[k] / 1000)).median]));
  const engText = (n) => JSON.stringify(Object.fromEntries(Object.entries(eng(n)).map(([k, v]) => [k, fmt(v)])));
  const ratio = (a, b) => S[a].median / S[b].median;
  const cpuRatio = (a, b) => C[a].median / C[b].median;
  const perRound = (a, b) => res[b].map((x, i) => (res[a][i].seconds / x.seconds).toFixed(2)).join(' ');
  const w = warm.full_sql;
  const loads = names.flatMap((n) => res[n].map((r) => r.load));
  const statementLines = (t) =>
    t.statements
      .filter((x) => x.ms >= 10)
      .map((x) => `      ${fmt(x.ms / 1000).padStart(6)} s  ${x.method} ${x.sql}`)
      .concat(
        `      in-process main(): ${fmt(t.main_ms / 1000)} s;` +
          ` engine ${JSON.stringify(Object.fromEntries(Object.entries(t.timings ?? {}).map(([k, v]) => [k, fmt(v / 1000)])))}`,
      );
  const label = {
    core_sql: '(a) backtest --core-only, SQL engine:      ',
    core_kernel: "(a') backtest --core-only, kernel:         ",
    full_sql: '(f) every check, SQL engine:              ',
    full_kernel: "(f') every check, kernel:                 ",
  };
  const kernelOf = (n) => (warm[n].kernel ? ` [kernel simd ${warm[n].kernel.simd}, workers ${warm[n].kernel.workers}]` : '');
  const verdict = (x) => `${x.toFixed(3)}x (target <= 2x) ${x <= 2 ? 'MET' : 'MISSED'}`;
  const lines = [
    `rulegen bench (issues 12, 13): 100 approved rules over ${sessions.toLocaleString('en-US')} sessions, ${runs} interleaved runs after 1 warm-up round`,
    `  load average (1 min) at the start of the timed runs: ${fmt(Math.min(...loads))} .. ${fmt(Math.max(...loads))} on ${cpus().length} cores`,
    ...names.map(
      (n) =>
        `  ${label[n]} wall median ${fmt(S[n].median)} s (min ${fmt(S[n].min)}, max ${fmt(S[n].max)}); CPU median ${fmt(C[n].median)} s;` +
        ` peak RSS ${Math.round(Math.max(...res[n].map((r) => r.rssKB)) / 1024)} MB; engine ${engText(n)}${kernelOf(n)}`,
    ),
    `  first run of the kernel (its column cache built, in the warm-up round): core-only ${fmt(warm.core_kernel.seconds)} s` +
      ` (cache build ${fmt((warm.core_kernel.engine['kernel.cache_build'] ?? 0) / 1000)} s), every check ${fmt(warm.full_kernel.seconds)} s` +
      ` (cache build ${fmt((warm.full_kernel.engine['kernel.cache_build'] ?? 0) / 1000)} s)`,
    `  (f') / (a), every check by the kernel over core-only by SQL: wall ${verdict(ratio('full_kernel', 'core_sql'))};` +
      ` per round ${perRound('full_kernel', 'core_sql')}; CPU ${cpuRatio('full_kernel', 'core_sql').toFixed(3)}x`,
    `  (f') / (a'), both by the kernel: wall ${verdict(ratio('full_kernel', 'core_kernel'))}; per round ${perRound('full_kernel', 'core_kernel')};` +
      ` CPU ${cpuRatio('full_kernel', 'core_kernel').toFixed(3)}x`,
    `  (f) / (a), both by SQL: wall ${verdict(ratio('full_sql', 'core_sql'))}; per round ${perRound('full_sql', 'core_sql')};` +
      ` CPU ${cpuRatio('full_sql', 'core_sql').toFixed(3)}x`,
    `  kernel over SQL: every check ${ratio('full_kernel', 'full_sql').toFixed(3)}x, core-only ${ratio('core_kernel', 'core_sql').toFixed(3)}x (wall medians)`,
    `  checks: deployed set of ${w.set.ids.length} rules hits ${w.set.counts.fp} humans (FPR upper ${(100 * w.set.fpr_upper95).toFixed(3)}%, ` +
      `set gate ${w.set_gate.pass ? 'pass' : 'fail'}); ${w.segments} protected segment/population failures; ${w.stability} stability failures; ` +
      `${w.duplicates} duplicate findings; ${w.days} points in a daily series (train + test); ` +
      `${w.pairs} rule pairs with Jaccard >= 0.9; JSON ${(w.bytes / 1e6).toFixed(1)} MB`,
    `  correctness: tp/fp of all 100 rules in every run, and every figure of the full --json, kernel vs SQL, ${runs + 1} rounds: ` +
      `${mismatches.length ? `${mismatches.length} MISMATCHES` : 'identical'}`,
    `  every run (wall s / CPU s / load):`,
    ...names.map((n) => `    ${n.padEnd(12)} ${res[n].map((r) => `${fmt(r.seconds)}/${fmt(r.cpu)}/${fmt(r.load)}`).join(' ')}`),
    `  statements of one in-process run each (untimed; >= 10 ms):`,
    `    (a) core-only, SQL`,
    ...statementLines(traces.core_sql),
    `    (f) every check, SQL`,
    ...statementLines(traces.full_sql),
    `    (f') every check, kernel`,
    ...statementLines(traces.full_kernel),
    `  command: node bench/backtest.mjs --issue12 --sessions ${sessions} --runs ${runs}${build === root ? '' : ` --build ${build.replace(root + '/', '')}`}`,
  ];
  for (const l of lines) console.log(l);
  writeFileSync(join(out, `backtest-issue12-report-${sessions}.txt`), lines.join('\n') + '\n');
  for (const f of tmpFiles) rmSync(f, { force: true });
  if (mismatches.length) {
    for (const m of mismatches.slice(0, 20)) console.error(`!!! ${m}`);
    process.exit(1);
  }
}

/** JSON with every object's keys sorted: the two engines build their results in different key orders. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** What the issue-12 rounds keep of a timed child. */
function pick(r) {
  return { seconds: r.seconds, cpu: r.user + r.sys, load: r.load, foreign: r.foreign, rssKB: r.maxRssKB };
}

const tmpFiles = new Set();
function writeTmp(dir, text, ext = 'sql') {
  const f = join(dir, `backtest-tmp-${createHash('sha1').update(text).digest('hex').slice(0, 12)}.${ext}`);
  writeFileSync(f, text);
  tmpFiles.add(f);
  return f;
}

// dispatch last: every top-level declaration above is initialised by now
if (argv[0] === '--hand') await handMode(argv[1], argv[2], argv.includes('--probe-memory'));
else if (argv[0] === '--inproc') await inprocMode(argv[1], argv[2], !argv.includes('--no-duck-probe'));
else if (argv.includes('--issue12')) await issue12();
else await benchmark();
