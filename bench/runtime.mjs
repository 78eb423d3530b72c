#!/usr/bin/env node
// Benchmark for issue 19: the runtime evaluator (`rulegen/runtime`) on a 100-rule bundle over
// 1M session objects, single thread. The 100 rules are the backtest benchmark's
// (bench/rules-100.mjs: 2-3 terms each over numbers, booleans and categories, NULL checks and
// negations); the sessions are synthetic traffic from `rulegen synth` (seed 7), read from
// DuckDB once and copied into 1M distinct plain objects (--distinct rows, repeated), as a
// service would hold them after parsing its own input.
//
// Timed, separately: `evaluate(ruleset, session)` (the full Decision: action, matches, errors —
// the figure issue 19's target is about) and `decide(ruleset, session)` (the action alone,
// allocation-free), each for every session, one pass = 1M calls; one untimed warm-up pass, then
// --runs passes. Reported per entry: sessions/s per pass of wall time (median, min, max), ns per
// session, sessions per CPU-second of this process, and the decisions counted (a checksum, so
// nothing can be optimised away; decide's action counts must equal evaluate's).
//
// Usage: npx tsc -p tsconfig.build.json --outDir /tmp/rulegen-build   (or npm run build)
//        node bench/runtime.mjs [--build /tmp/rulegen-build] [--sessions 1000000] [--distinct 200000] [--runs 7]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RULES, conditionOf } from './rules-100.mjs';
import { summarise } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const build = resolve(arg('build', join(here, '..', 'dist')));
const N = Number(arg('sessions', 1_000_000));
const DISTINCT = Number(arg('distinct', 200_000));
const RUNS = Number(arg('runs', 7));
const mod = (p) => import(pathToFileURL(join(build, p)).href);

const { loadRuleset, evaluate, decide } = await mod('runtime/index.js');
const { buildBundle } = await mod('release/build.js');
const { parseCondition } = await mod('rule/parser.js');
const { print } = await mod('rule/printer.js');
const { loadCatalog } = await mod('catalog/load.js');
const { synthesize } = await mod('synth/generate.js');
const { Store } = await mod('db/store.js');

// ---------------------------------------------------------------- data
const tmp = mkdtempSync(join(tmpdir(), 'rulegen-bench-runtime-'));
let rows;
let catalog;
{
  const store = await Store.open();
  try {
    await synthesize(store, { sessions: DISTINCT, days: 14, seed: 7, out: join(tmp, 's.parquet'), catalogOut: join(tmp, 'features.yaml') });
    catalog = loadCatalog(join(tmp, 'features.yaml'));
    const cols = catalog.features.map((f) => `"${f.name}"`).join(', ');
    rows = await store.all(`SELECT ${cols} FROM read_parquet('${join(tmp, 's.parquet')}')`);
  } finally {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
const sessions = new Array(N);
for (let i = 0; i < N; i++) sessions[i] = { ...rows[i % rows.length] };
rows = undefined;

// ---------------------------------------------------------------- the 100-rule bundle
const rules = RULES.map((r, i) => {
  const p = parseCondition(conditionOf(r));
  if (!p.ok) throw new Error(`${conditionOf(r)}: ${p.problem.message}`);
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const action = ['block', 'challenge', 'log'][i % 3];
  return {
    id,
    title: `rule ${i}`,
    status: 'approved',
    action,
    level: 'high',
    condition: print(p.ast),
    ast: p.ast,
    description: 'x',
    rationale: 'x',
    falsepositives: ['Unknown'],
    tags: [],
    related: [],
    ...(i % 10 === 0 ? { rollout: { stage: 'shadow', since: '2026-01-01T00:00:00Z' } } : {}),
  };
});
const bundle = buildBundle({
  version: 'bench',
  created: new Date(0),
  generator: 'bench',
  gate: { max_fpr: 0.001, min_precision: 0.95, min_support: 20 },
  catalog,
  rules: rules.map((rule) => ({ rule, evidence: null })),
  previous: null,
});
const t0 = performance.now();
const rs = loadRuleset(JSON.stringify(bundle));
const loadMs = performance.now() - t0;

// ---------------------------------------------------------------- timing
function passEvaluate() {
  let block = 0;
  let challenge = 0;
  let log = 0;
  let matched = 0;
  let errors = 0;
  const c0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const d = evaluate(rs, sessions[i]);
    if (d.action === 'block') block++;
    else if (d.action === 'challenge') challenge++;
    else if (d.action === 'log') log++;
    matched += d.matches.length;
    errors += d.errors.length;
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const c = process.cpuUsage(c0);
  return { s, cpu: (c.user + c.system) / 1e6, counts: { block, challenge, log, matched, errors } };
}
function passDecide() {
  let block = 0;
  let challenge = 0;
  let log = 0;
  const c0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const a = decide(rs, sessions[i]);
    if (a === 'block') block++;
    else if (a === 'challenge') challenge++;
    else if (a === 'log') log++;
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const c = process.cpuUsage(c0);
  return { s, cpu: (c.user + c.system) / 1e6, counts: { block, challenge, log } };
}
function measure(pass) {
  const warm = pass();
  const rates = [];
  const cpuRates = [];
  for (let r = 0; r < RUNS; r++) {
    const p = pass();
    if (JSON.stringify(p.counts) !== JSON.stringify(warm.counts)) throw new Error('decisions changed between passes');
    rates.push(N / p.s);
    cpuRates.push(N / p.cpu);
  }
  return { counts: warm.counts, wall: summarise(rates), cpu: summarise(cpuRates) };
}
const full = measure(passEvaluate);
const only = measure(passDecide);
for (const k of ['block', 'challenge', 'log']) if (only.counts[k] !== full.counts[k]) throw new Error(`decide and evaluate disagree on ${k}`);

const os = await import('node:os');
const M = (x) => (x / 1e6).toFixed(2);
console.log(
  `runtime evaluate: ${rules.length} rules (${bundle.rules.filter((r) => r.stage === 'shadow').length} in shadow), ${N.toLocaleString('en-US')} ` +
    `session objects (${DISTINCT.toLocaleString('en-US')} distinct synthetic rows), ${rs.features().length} features read per session, ` +
    `node ${process.version}, single thread`,
);
console.log(`  load (verify sha256 + schema + compile): ${loadMs.toFixed(1)} ms`);
for (const [name, m] of [
  ['evaluate(rs, session) -> { action, matches, errors }', full],
  ['decide(rs, session) -> action (allocation-free)', only],
]) {
  console.log(`  ${name}`);
  console.log(
    `    sessions/s per pass: median ${M(m.wall.median)}M, min ${M(m.wall.min)}M, max ${M(m.wall.max)}M over ${m.wall.runs} passes ` +
      `(spread ${(100 * m.wall.spread).toFixed(1)}%); ${(1e9 / m.wall.median).toFixed(0)} ns per session`,
  );
  console.log(
    `    sessions per CPU-second of this process (what a busy machine leaves of wall time): median ${M(m.cpu.median)}M, min ${M(m.cpu.min)}M, ` +
      `max ${M(m.cpu.max)}M`,
  );
  console.log(`    decisions per pass: ${JSON.stringify(m.counts)}`);
}
console.log(`  load average at the end ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`);
console.log(
  `  target >= 2M sessions/s for evaluate: ${full.wall.median >= 2e6 ? 'met' : 'NOT met'} (wall median ${M(full.wall.median)}M; per ` +
    `CPU-second ${M(full.cpu.median)}M)`,
);
