#!/usr/bin/env node
// Benchmark for issue 13's "offline propose faster with the kernel (same candidates)": the whole
// `rulegen propose --provider offline --count N --dry-run` on a workspace (default: the 10M-session
// workspace at /tmp/h9/ws, made by `rulegen synth --sessions 10000000 --days 21 --seed 7` and
// `rulegen ingest`), with every backtest by the SQL engine (`--engine sql`, what propose did before
// the kernel) and by the kernel (`--engine kernel`, warm column cache), interleaved round by round.
// Each run is a child process under /usr/bin/time -v (wall, CPU, peak RSS); the candidates (their
// conditions and test counts) must be identical, or the run fails. The sources are built first
// (tsc into bench/out/propose-dist) and run as the installed CLI runs them (bin/rulegen.js loads
// the built dist/): through tsx every run also paid ~0.8 s of transpiling, the same for both.
//
//   node bench/propose.mjs [--ws DIR] [--runs 3] [--count 5]
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { summarise } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ws = resolve(opt('ws', '/tmp/h9/ws'));
const runs = Number(opt('runs', 3));
const count = opt('count', '5');
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const dist = join(root, 'bench/out/propose-dist');
console.error(`building the CLI into ${dist} ...`);
rmSync(dist, { recursive: true, force: true });
const built = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: root, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`tsc failed:\n${built.stdout}${built.stderr}`);
const cli = `import(${JSON.stringify(pathToFileURL(join(dist, 'cli/main.js')).href)}).then(async m=>{process.exitCode=await m.main(process.argv.slice(1))})`;

function run(engine) {
  const args = ['-v', 'node', '-e', cli, '--', '-C', ws, '-q', '--json', 'propose', '--provider', 'offline'];
  args.push('--count', count, '--dry-run', '--engine', engine);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`propose --engine ${engine} failed (${r.status}):\n${r.stderr}`);
  const num = (re) => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const cpu = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  const rss = num(/Maximum resident set size \(kbytes\): (\d+)/) * 1024;
  const json = JSON.parse(r.stdout);
  const candidates = json.candidates.map((c) => `${c.condition} | test tp ${c.test.counts.tp} fp ${c.test.counts.fp}`);
  return { wall, cpu, rss, engine: json.engine, candidates, seconds: json.seconds };
}

const res = { sql: [], kernel: [] };
const load0 = loadavg();
// a first kernel run builds the column cache (not timed: what the rounds measure is a warm cache)
console.error('warming the kernel cache ...');
const warm = run('kernel');
for (let round = 0; round < runs; round++) {
  for (const e of round % 2 ? ['kernel', 'sql'] : ['sql', 'kernel']) {
    console.error(`round ${round + 1}: ${e}`);
    res[e].push(run(e));
  }
}
const ref = warm.candidates.join('\n');
const mismatch = Object.values(res)
  .flat()
  .filter((r) => r.candidates.join('\n') !== ref);
const f = (x) => x.toFixed(2);
const mm = (xs) => {
  const s = summarise(xs);
  return `median ${f(s.median)} s (min ${f(s.min)}, max ${f(s.max)})`;
};
const med = (e, k) => summarise(res[e].map((r) => r[k])).median;
const lines = [
  `offline propose (--count ${count} --dry-run), ${ws}, ${runs} interleaved rounds; load ${load0} at the start, ${loadavg()} at the end`,
  `candidates: ${warm.candidates.length}${warm.candidates.map((c) => `\n  ${c}`).join('')}`,
  ...['sql', 'kernel'].map(
    (e) =>
      `--engine ${e.padEnd(6)}: wall ${mm(res[e].map((r) => r.wall))}; CPU ${mm(res[e].map((r) => r.cpu))}; in propose ${mm(res[e].map((r) => r.seconds))}; ` +
      `peak RSS ${(Math.max(...res[e].map((r) => r.rss)) / 1e6).toFixed(0)} MB; engine in --json: ${[...new Set(res[e].map((r) => r.engine))].join(', ')}`,
  ),
  `ratio sql / kernel: wall ${f(med('sql', 'wall') / med('kernel', 'wall'))}x, CPU ${f(med('sql', 'cpu') / med('kernel', 'cpu'))}x (issue 13 target: >= 3x)`,
  `same candidates in every run: ${mismatch.length ? `NO (${mismatch.length} runs differ)` : 'yes'}`,
];
console.log(lines.join('\n'));
process.exit(mismatch.length ? 1 : 0);
