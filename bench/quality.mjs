#!/usr/bin/env node
// Quality benchmark for issue 5: on a synthetic dataset split by time, the best offline
// candidate's recall on the test window at the gate, against the best leaf rule of a depth-3
// scikit-learn decision tree trained on the same train window and judged by the same gate.
// Usage: npm run build && node bench/quality.mjs [--sessions 300000] [--seed 5]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { time } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(`--${n}`) ? Number(args[args.indexOf(`--${n}`) + 1]) : d);
const sessions = opt('sessions', 300_000);
const seed = opt('seed', 5);
const out = resolve('bench/out/quality');
const cli = resolve('bin/rulegen.js');
const PY = '/usr/bin/python3'; // Debian's python, where apt puts sklearn (not pyenv's)

function ensurePython() {
  const probe = spawnSync(PY, ['-c', 'import sklearn, pandas, numpy'], { encoding: 'utf8' });
  if (probe.status === 0) return;
  console.log('installing python3-sklearn python3-pandas (Debian)...');
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', 'python3-sklearn', 'python3-pandas', 'python3-numpy'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not install python3-sklearn');
}

ensurePython();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const ws = join(out, 'ws');
time('node', [cli, 'init', ws]);
const csv = join(out, 'sessions.csv');
time('node', [cli, 'synth', '--sessions', String(sessions), '--days', '28', '--seed', String(seed), '--out', csv, '--catalog', join(ws, 'features.yaml')]);
time('node', [cli, '-C', ws, '--quiet', 'ingest', csv]);
const prop = time('node', [cli, '-C', ws, '--quiet', '--json', 'propose', '--count', '10']);
const proposed = JSON.parse(prop.stdout);
const bt = JSON.parse(time('node', [cli, '-C', ws, '--quiet', '--json', 'backtest', '--no-write', '--window', 'test']).stdout);
const config = readFileSync(join(ws, 'rulegen.yaml'), 'utf8');
const gate = {
  max_fpr: Number(/max_fpr: ([\d.]+)/.exec(config)[1]),
  min_precision: Number(/min_precision: ([\d.]+)/.exec(config)[1]),
  min_support: Number(/min_support: (\d+)/.exec(config)[1]),
};
const passes = (r) => r.fpr_upper95 !== null && r.fpr_upper95 <= gate.max_fpr && (r.precision ?? 0) >= gate.min_precision && r.counts.tp >= gate.min_support;
const ours = bt.rules.map((r, i) => ({ ...r, condition: bt.targets[i].condition })).filter(passes).sort((a, b) => b.recall - a.recall)[0];
const tree = JSON.parse(time(PY, [resolve('bench/quality_tree.py'), csv, join(ws, 'features.yaml'), bt.window.cutoff, String(gate.max_fpr), String(gate.min_precision), String(gate.min_support)]).stdout);
const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(2)}%`);
console.log(`quality: ${sessions.toLocaleString('en-US')} synthetic sessions (seed ${seed}, 28 days), test window from ${bt.window.cutoff}`);
console.log(`gate: FPR upper 95% <= ${pct(gate.max_fpr)}, precision >= ${pct(gate.min_precision)}, tp >= ${gate.min_support}`);
console.log(`offline propose: ${proposed.candidates.length} candidates in ${proposed.seconds.toFixed(1)} s`);
console.log(ours ? `  best passing on test: recall ${pct(ours.recall)}, precision ${pct(ours.precision)}, FPR ${pct(ours.fpr)} (upper ${pct(ours.fpr_upper95)}): ${ours.condition}` : '  no candidate passes the gate on the test window');
const passingLeaves = tree.leaves.filter((l) => l.fpr_upper95 <= gate.max_fpr && (l.precision ?? 0) >= gate.min_precision && l.tp >= gate.min_support);
console.log(`depth-3 decision tree: ${tree.leaves.length} leaves, ${passingLeaves.length} pass the gate on test (${tree.note})`);
console.log(tree.best ? `  best passing leaf: recall ${pct(tree.best.recall)}, precision ${pct(tree.best.precision)}, FPR ${pct(tree.best.fpr)} (upper ${pct(tree.best.fpr_upper95)}): ${tree.best.condition}` : '  no leaf passes the gate on the test window');
const bestTree = tree.leaves.filter((l) => (l.precision ?? 0) >= 0.5).sort((a, b) => (b.recall ?? 0) - (a.recall ?? 0))[0];
if (bestTree) console.log(`  (its highest-recall bot leaf, gate or not: recall ${pct(bestTree.recall)}, precision ${pct(bestTree.precision)}, FPR upper ${pct(bestTree.fpr_upper95)}: ${bestTree.condition})`);
const a = ours?.recall ?? 0;
const b = tree.best?.recall ?? 0;
console.log(`result: offline ${pct(a)} vs tree ${pct(b)} recall at the gate -> ${a >= b ? 'offline >= tree (target met)' : 'offline < tree (target missed)'}`);
