#!/usr/bin/env node
// Benchmark for issue 13: the columnar backtest kernel vs numpy's masks and the hand-written DuckDB
// statement, on the 100 rules of bench/rules-100.mjs over a synthetic workspace (default: the 10M
// sessions workspace at /tmp/h9/ws, made by `rulegen synth --sessions 10000000 --days 21 --seed 7`
// and `rulegen ingest`). Runs from the TypeScript sources through tsx (no build needed).
//
//   node --import tsx bench/kernel.mjs [--ws DIR] [--runs 3]
//
// Contenders, interleaved round by round (each a child process under /usr/bin/time -v):
//   core   kernel, core counts only, warm cache (in-process compute time reported apart)
//   core-js  the same with the plain JS loops (RULEGEN_KERNEL_SIMD=0) instead of WebAssembly SIMD
//   full   kernel, core + day + segment + populations-free overlap + set + train, warm cache
//   hand   the hand-written DuckDB statement (bench/backtest.mjs --hand)
//   numpy  numpy masks over the test window's columns (bench/backtest_numpy.py), compute apart
// and once, before the rounds, `full` with the cache deleted (the first run: cache build).
// Every contender's tp/fp per rule must agree, or the run fails.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarise } from './lib.mjs';
import { RULES, conditionOf, featuresOf, handWrittenStatement, numpyOf, featureKind } from './rules-100.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const root = resolve(here, '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ws = resolve(opt('ws', '/tmp/h9/ws'));
const db = join(ws, '.rulegen', 'rulegen.duckdb');

async function setup() {
  const { Store } = await import('../src/db/store.ts');
  const { loadConfig } = await import('../src/config/load.ts');
  const { loadCatalog } = await import('../src/catalog/load.ts');
  const { parse } = await import('../src/rule/parser.ts');
  const { compilePredicate } = await import('../src/compile/compile.ts');
  const { resolveWindow } = await import('../src/db/window.ts');
  const config = loadConfig(ws);
  const catalog = loadCatalog(join(ws, 'features.yaml'));
  const store = await Store.open(db, { readOnly: true });
  const rules = RULES.map((r, i) => {
    const ast = parse(conditionOf(r));
    return { id: `r${i}`, ast, predicate: compilePredicate(ast, catalog) };
  });
  const window = await resolveWindow(store, config, 'test');
  return { Store, store, config, catalog, rules, window, resolveWindow };
}

/** Child: one kernel run; prints JSON with timings and tp/fp. */
async function child(mode) {
  const t0 = performance.now();
  const { runKernelBacktest } = await import('../src/backtest/kernel/index.ts');
  const s = await setup();
  const t1 = performance.now();
  const peak = { rss: 0 };
  const timer = setInterval(() => (peak.rss = Math.max(peak.rss, process.memoryUsage.rss())), 10);
  const train = mode === 'full' ? await s.resolveWindow(s.store, s.config, 'train') : undefined;
  const segments = s.config.data.segments;
  const opts = mode === 'full' ? { daily: true, segments, overlap: true, set: true, train } : {};
  const r = await runKernelBacktest(s.store, s.config, s.catalog, s.window, s.rules, opts);
  const t2 = performance.now();
  clearInterval(timer);
  s.store.close();
  process.stdout.write(
    JSON.stringify({
      startup_ms: t1 - t0,
      run_ms: t2 - t1,
      timings: r.timings,
      kernel: r.kernel,
      rows: r.rows,
      counts: r.rules.map((x) => [x.counts.tp, x.counts.fp]),
      rss: peak.rss,
    }) + '\n',
  );
  process.exit(0);
}

/** Child: export the test window's columns as .npy for numpy (through Store.columnChunks). */
async function exportNpy(dir, cutoff) {
  const s = await setup();
  const { parse } = await import('yaml');
  const cat = parse(readFileSync(join(ws, 'features.yaml'), 'utf8'));
  const codes = Object.fromEntries(cat.filter((f) => f.type === 'category').map((f) => [f.name, f.values]));
  const features = featuresOf(RULES);
  const expr = (f) => {
    if (f === 'label') return `CAST(CASE WHEN label IS NULL THEN -1 ELSE label END AS DOUBLE)`;
    const k = featureKind(f);
    if (k === 'number') return `CAST(coalesce(${f}, 'NaN'::DOUBLE) AS DOUBLE)`;
    if (k === 'boolean') return `CAST(CASE WHEN ${f} IS NULL THEN -1 WHEN ${f} THEN 1 ELSE 0 END AS DOUBLE)`;
    return `CAST(CASE WHEN ${f} IS NULL THEN -1 ELSE coalesce(list_position([${codes[f].map((v) => `'${v}'`).join(', ')}], ${f}) - 1, 127) END AS DOUBLE)`;
  };
  const cols = ['label', ...features];
  const n = s.window.rows;
  const arrays = cols.map((f) => (f !== 'label' && featureKind(f) === 'number' ? new Float64Array(n) : new Int8Array(n)));
  let at = 0;
  for await (const chunk of s.store.columnChunks(`SELECT ${cols.map(expr).join(', ')} FROM sessions WHERE ts >= ?::TIMESTAMP`, [cutoff])) {
    chunk.columns.forEach((c, i) => arrays[i].set(c.values.subarray(0, chunk.rows), at));
    at += chunk.rows;
  }
  s.store.close();
  mkdirSync(dir, { recursive: true });
  cols.forEach((f, i) => writeNpy(join(dir, `${f}.npy`), arrays[i]));
  writeFileSync(join(dir, 'rules.json'), JSON.stringify({ features, rules: RULES.map((r) => ({ numpy: numpyOf(r, codes) })) }));
  process.exit(0);
}

function writeNpy(file, arr) {
  const descr = arr instanceof Float64Array ? '<f8' : '|i1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${arr.length},), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre[0] = 0x93;
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  const fd = openSync(file, 'w');
  writeSync(fd, pre);
  writeSync(fd, Buffer.from(header, 'latin1'));
  writeSync(fd, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
  closeSync(fd);
}

function timed(cmd, args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN) * 1024;
  return { seconds, rss, json: JSON.parse(r.stdout.trim().split('\n').pop()) };
}

async function main() {
  const runs = Number(opt('runs', 3));
  const loadStart = loadavg();
  const out = join(root, 'bench/out');
  mkdirSync(out, { recursive: true });
  const s = await setup();
  const cutoff = s.window.parameters[0];
  const rows = s.window.rows;
  s.store.close();
  const npDir = join('/tmp/h9', `npy-${rows}`);
  if (!existsSync(join(npDir, 'rules.json'))) {
    console.error(`exporting ${rows} test-window rows to ${npDir}`);
    const r = spawnSync('node', ['--import', 'tsx', 'bench/kernel.mjs', '--ws', ws, '--export', npDir, cutoff], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('export failed');
  }
  const cutoffText = cutoff.replace(/\.\d+$/, (m) => m);
  const handFile = join(out, 'kernel-hand.sql');
  writeFileSync(handFile, handWrittenStatement(RULES, cutoffText) + ';\n');
  const kernel = (mode, env) => timed('node', ['--import', 'tsx', 'bench/kernel.mjs', '--ws', ws, '--child', mode], env);
  const contenders = {
    core: () => kernel('core'),
    'core-js': () => kernel('core', { RULEGEN_KERNEL_SIMD: '0' }),
    full: () => kernel('full'),
    hand: () => timed('node', ['bench/backtest.mjs', '--hand', db, handFile]),
    numpy: () => timed('/usr/bin/python3', ['bench/backtest_numpy.py', npDir, join(npDir, 'rules.json')]),
  };
  const counts = (name, r) => {
    if (name === 'hand') {
      const row = (l) => r.json.rows.find((x) => x.label === l) ?? {};
      return RULES.map((_, i) => [Number(row(1)[`h${i}`] ?? 0), Number(row(0)[`h${i}`] ?? 0)]);
    }
    if (name === 'numpy') return r.json.tp.map((tp, i) => [tp, r.json.fp[i]]);
    return r.json.counts;
  };
  // first run: no cache
  const cacheDir = join(ws, '.rulegen', 'cache', 'kernel');
  rmSync(cacheDir, { recursive: true, force: true });
  console.error('first run (cache build) ...');
  const firstLoad = loadavg();
  const first = kernel('full');
  const res = Object.fromEntries(Object.keys(contenders).map((n) => [n, []]));
  const ref = counts('full', first);
  const mismatches = [];
  const names = Object.keys(contenders);
  for (let round = 0; round < runs; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const n of order) {
      console.error(`round ${round + 1}: ${n}`);
      const r = contenders[n]();
      res[n].push(r);
      const c = counts(n, r);
      c.forEach((x, i) => {
        if (x[0] !== ref[i][0] || x[1] !== ref[i][1]) mismatches.push(`${n} rule ${i}: ${x} vs ${ref[i]}`);
      });
    }
  }
  const f = (x) => x.toFixed(2);
  const mm = (xs) => {
    const s = summarise(xs);
    return `median ${f(s.median)} s (min ${f(s.min)}, max ${f(s.max)}; spread ${(100 * s.spread).toFixed(0)}%)`;
  };
  const lines = [];
  const say = (m) => {
    lines.push(m);
    console.log(m);
  };
  const comp = (r) => r.json.timings['kernel.compute'] / 1000;
  const how = (r) => (r.json.kernel.workers ? `${r.json.kernel.workers} workers` : 'in-thread');
  const workers = (name) => [...new Set(res[name].map(how))].join(' / ');
  const med = (xs) => summarise(xs).median;
  const mb = (name) => `${name} ${(med(res[name].map((r) => r.rss)) / 1e6).toFixed(0)} MB`;
  const secs = (r) => r.seconds;
  const runS = (r) => r.json.run_ms / 1000;
  const npS = (r) => r.json.compute_s;
  const stS = (r) => r.json.statement_ms / 1000;
  say(`kernel benchmark: ${RULES.length} rules, ${rows.toLocaleString('en-US')} test-window rows of ${ws}, ${runs} interleaved rounds`);
  say(`load average ${loadStart} at the start, ${loadavg()} at the end`);
  const build = first.json.timings['kernel.cache_build'] / 1000;
  say(`first run (cache build), full: wall ${f(first.seconds)} s, cache build ${f(build)} s, compute ${f(comp(first))} s`);
  say(`  peak RSS ${(first.rss / 1e6).toFixed(0)} MB (load ${firstLoad})`);
  say(`kernel compute, core counts (SIMD, ${workers('core')}):   ${mm(res.core.map(comp))}`);
  say(`kernel compute, core counts (plain JS, ${workers('core-js')}): ${mm(res['core-js'].map(comp))}`);
  say(`kernel compute, full breakdowns (SIMD, ${workers('full')}): ${mm(res.full.map(comp))}`);
  say(`numpy compute (masks, tp/fp):              ${mm(res.numpy.map(npS))}`);
  say(`kernel core process wall (tsx start-up incl.): ${mm(res.core.map(secs))}; in-process run ${mm(res.core.map(runS))}`);
  say(`kernel full process wall (tsx start-up incl.): ${mm(res.full.map(secs))}; in-process run ${mm(res.full.map(runS))}`);
  say(`hand-written statement: process wall ${mm(res.hand.map(secs))}; statement ${mm(res.hand.map(stS))}`);
  say(`ratio kernel core compute / numpy compute: ${f(med(res.core.map(comp)) / med(res.numpy.map(npS)))}x (target <= 0.5x)`);
  const byProcess = med(res.full.map(secs)) / med(res.hand.map(secs));
  const byRun = med(res.full.map(runS)) / med(res.hand.map(stS));
  say(`ratio kernel full process / hand-written process: ${f(byProcess)}x; kernel full in-process run / hand statement: ${f(byRun)}x (target <= 1x)`);
  say(`peak RSS (GNU time): ${['core', 'core-js', 'full', 'hand', 'numpy'].map(mb).join(', ')} (target < 400 MB)`);
  const last = Object.entries(res.full.at(-1).json.timings).map(([k, v]) => [k, Math.round(v)]);
  say(`full timings (last run): ${JSON.stringify(Object.fromEntries(last))}`);
  const verdict = mismatches.length ? `${mismatches.length} MISMATCHES` : 'identical';
  say(`correctness: tp/fp of ${RULES.length} rules, kernel (core, full, first) vs hand-written vs numpy: ${verdict}`);
  writeFileSync(join(out, 'kernel-report.txt'), lines.join('\n') + '\n');
  if (mismatches.length) {
    console.error(mismatches.slice(0, 20).join('\n'));
    process.exit(1);
  }
}

if (argv.includes('--child')) await child(opt('child'));
else if (argv.includes('--export')) await exportNpy(opt('export'), argv[argv.indexOf('--export') + 2]);
else await main();
