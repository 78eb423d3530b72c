#!/usr/bin/env node
// Quality benchmark (issues 5 and 15): the offline inducer's proposed SET, judged on the test
// window, side by side with the previous inducer and with the passing leaves of a depth-3
// scikit-learn decision tree trained on the same train window (bench/quality_tree.py), under
// the same gate.
//   --data synth (default): `rulegen synth` data; union recall of the set, its union FPR and
//     upper bound, and recall per bot archetype (synth's ground truth column `archetype`).
//   --data apache: ../shared/data/apache-logs/elastic-apache.log sessionized by
//     bench/apache_sessions.mjs (IP + user agent, 30-minute gap; label from the user agent),
//     gate max_fpr 0.05, min_precision 0.85.
// Also times `rulegen propose --provider offline --dry-run` end to end.
// Usage: npm run build && node bench/quality.mjs [--data synth|apache] [--sessions 1000000] [--seed 5]
//        [--count 10] [--set-max-fpr X] [--dist DIR]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { time } from './lib.mjs';
import { catalogYaml, sessionize } from './apache_sessions.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const data = opt('data', 'synth');
const sessions = Number(opt('sessions', 1_000_000));
const seed = Number(opt('seed', 5));
const count = Number(opt('count', 10));
const setMaxFpr = opt('set-max-fpr', undefined);
const dist = resolve(opt('dist', 'dist'));
const out = resolve(`bench/out/quality-${data}${setMaxFpr ? `-set${setMaxFpr}` : ''}`);
const PY = '/usr/bin/python3';
const launcher = join(out, 'rulegen.mjs');
const imp = (p) => import(pathToFileURL(join(dist, p)).href);

function ensurePython() {
  const probe = spawnSync(PY, ['-c', 'import sklearn, pandas, numpy'], { encoding: 'utf8' });
  if (probe.status === 0) return;
  console.log('installing python3-sklearn python3-pandas (Debian)...');
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', 'python3-sklearn', 'python3-pandas', 'python3-numpy'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not install python3-sklearn (or: pip install scikit-learn pandas)');
}

ensurePython();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(
  launcher,
  `import { main } from ${JSON.stringify(pathToFileURL(join(dist, 'cli/main.js')).href)};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
);
const ws = join(out, 'ws');
const cli = (a) => time('node', [launcher, ...a]);
cli(['init', ws]);
const csv = join(out, 'sessions.csv');
let cfg = readFileSync(join(ws, 'rulegen.yaml'), 'utf8');
let described;
if (data === 'apache') {
  const s = await sessionize(resolve('../shared/data/apache-logs/elastic-apache.log'), csv);
  writeFileSync(join(ws, 'features.yaml'), catalogYaml());
  cfg = cfg
    .replace(/^ {2}max_fpr: [\d.]+/m, '  max_fpr: 0.05')
    .replace(/^ {2}min_precision: [\d.]+/m, '  min_precision: 0.85')
    .replace(/^ {2}segments:.*$/m, '  segments: []');
  described = `elastic-apache.log: ${s.sessions.toLocaleString('en-US')} sessions (IP + user agent, 30-minute gap), ${s.bots} labelled bot by user agent, ${s.from} .. ${s.to}`;
} else {
  cli(['synth', '--sessions', String(sessions), '--days', '28', '--seed', String(seed), '--out', csv, '--catalog', join(ws, 'features.yaml')]);
  described = `${sessions.toLocaleString('en-US')} synthetic sessions (seed ${seed}, 28 days)`;
}
if (setMaxFpr !== undefined) cfg = cfg.replace(/^( {2}max_fpr: [\d.]+.*)$/m, `$1\n  set_max_fpr: ${setMaxFpr}`);
writeFileSync(join(ws, 'rulegen.yaml'), cfg);
const ingest = cli(['-C', ws, '--quiet', 'ingest', csv]);

// the command, end to end, as a user runs it
const prop = cli(['-C', ws, '--quiet', '--json', 'propose', '--provider', 'offline', '--count', String(count), '--dry-run']);
const proposed = JSON.parse(prop.stdout);

// both inducers in-process on the same workspace, judged on the test window
const { openWorkspace, openWorkspaceStore } = await imp('workspace.js');
const { rankFeatures } = await imp('rank/rank.js');
const { induce } = await imp('propose/offline.js');
const { induceGreedy } = await imp('propose/greedy.js');
const { compilePredicate } = await imp('compile/compile.js');
const { resolveWindow } = await imp('db/window.js');
const { wilson } = await imp('backtest/stats.js');
const w = openWorkspace(ws);
const store = await openWorkspaceStore(w);
const gate = { ...w.config.gate, set_max_fpr: w.config.gate.set_max_fpr ?? w.config.gate.max_fpr };
const ranking = await rankFeatures(store, w.config, w.catalog);
let t0 = performance.now();
const ours = await induce(store, w.config, w.catalog, ranking, { count });
const oursS = (performance.now() - t0) / 1000;
t0 = performance.now();
const prev = await induceGreedy(store, w.config, w.catalog, ranking, { count });
const prevS = (performance.now() - t0) / 1000;
const test = await resolveWindow(store, w.config, 'test');
const hasArch = (await store.describe(`SELECT * FROM sessions`)).some((c) => c.name === 'archetype');

/** Union of a set of rules (compiled predicates or a raw SQL mask) on the test window. */
async function judge(preds) {
  const any = preds.length ? preds.map((p) => `(${p.sql})`).join(' OR ') : 'FALSE';
  const rows = await store.all(
    `SELECT label${hasArch ? ', archetype' : ''}, count(*) AS n, sum(CASE WHEN ${any} THEN 1 ELSE 0 END) AS h FROM sessions WHERE ${test.where} GROUP BY ALL`,
    [...preds.flatMap((p) => p.parameters), ...test.parameters],
  );
  let bots = 0,
    tp = 0,
    humans = 0,
    fp = 0;
  const arch = {};
  for (const r of rows) {
    const n = Number(r.n),
      h = Number(r.h);
    if (r.label === 1) ((bots += n), (tp += h));
    if (r.label === 0) ((humans += n), (fp += h));
    if (hasArch) {
      const a = (arch[r.archetype] ??= { n: 0, h: 0, bots: 0 });
      a.n += n;
      a.h += h;
      if (r.label === 1) a.bots += n;
    }
  }
  const upper = humans ? wilson(fp, humans).upper : null;
  return {
    rules: preds.length,
    recall: bots ? tp / bots : null,
    precision: tp + fp ? tp / (tp + fp) : null,
    fpr: humans ? fp / humans : null,
    fpr_upper95: upper,
    tp,
    fp,
    bots,
    humans,
    arch,
    passes: upper !== null && upper <= gate.set_max_fpr && (tp + fp ? tp / (tp + fp) : 0) >= gate.min_precision,
  };
}
// the archetype column is read in the second grouping key when present
async function judgeRules(rs) {
  return judge(rs.map((r) => compilePredicate(r.ast, w.catalog)));
}
const oursJ = await (async () => {
  const r = await judgeRules(ours.rules);
  return r;
})();
const prevJ = await judgeRules(prev.rules);
store.close();

// the tree: its passing leaves, judged as a set (leaves are disjoint: counts add up)
const tree = JSON.parse(
  time(PY, [
    resolve('bench/quality_tree.py'),
    csv,
    join(ws, 'features.yaml'),
    test.cutoff,
    String(gate.max_fpr),
    String(gate.min_precision),
    String(gate.min_support),
  ]).stdout,
);
const passing = tree.leaves.filter((l) => l.fpr_upper95 <= gate.max_fpr && (l.precision ?? 0) >= gate.min_precision && l.tp >= gate.min_support);
const tTp = passing.reduce((s, l) => s + l.tp, 0),
  tFp = passing.reduce((s, l) => s + l.fp, 0);
const treeJ = {
  rules: passing.length,
  recall: tree.bots ? tTp / tree.bots : null,
  precision: tTp + tFp ? tTp / (tTp + tFp) : null,
  fpr: tree.humans ? tFp / tree.humans : null,
  fpr_upper95: tree.humans ? wilson(tFp, tree.humans).upper : null,
  arch: tree.arch_union ? Object.fromEntries(Object.entries(tree.arch_union).map(([a, v]) => [a, v])) : {},
};
if (tree.leaf_arch) {
  treeJ.arch = {};
  passing.forEach((l) => {
    for (const [a, v] of Object.entries(tree.leaf_arch[tree.leaves.indexOf(l)] ?? {})) {
      const x = (treeJ.arch[a] ??= { n: tree.arch_n[a], h: 0 });
      x.h += v;
    }
  });
}

const pct = (x, d = 2) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(d)}%`);
const line = (name, j) =>
  `  ${name.padEnd(34)} ${String(j.rules).padStart(3)} rules  recall ${pct(j.recall).padStart(7)}  precision ${pct(j.precision).padStart(7)}  FPR ${pct(j.fpr, 3).padStart(7)} (upper ${pct(j.fpr_upper95, 3)})`;
console.log(`quality: ${described}; test window from ${test.cutoff}`);
console.log(
  `gate: per rule FPR upper 95% <= ${pct(gate.max_fpr, 3)}, precision >= ${pct(gate.min_precision)}, tp >= ${gate.min_support}; the set: union FPR upper 95% <= ${pct(gate.set_max_fpr, 3)}`,
);
console.log(
  `propose --provider offline --count ${count} --dry-run: ${prop.seconds.toFixed(1)} s wall (${proposed.candidates.length} candidates; ingest ${ingest.seconds.toFixed(1)} s)`,
);
console.log(`the sets on the test window (the union of each set's rules):`);
console.log(line(`covering inducer (${oursS.toFixed(1)} s)`, oursJ));
console.log(line(`previous greedy inducer (${prevS.toFixed(1)} s)`, prevJ));
console.log(line(`depth-3 tree, passing leaves`, treeJ));
for (const n of ours.notes) console.log(`  note: ${n}`);
for (const r of ours.rules) console.log(`    ${r.condition}`);
if (hasArch) {
  console.log('recall per archetype (share of its test sessions hit; bots: >= 60% wanted for archetypes of >= 1% of sessions):');
  const total = Object.values(oursJ.arch).reduce((s, a) => s + a.n, 0);
  for (const [a, v] of Object.entries(oursJ.arch).sort()) {
    const pv = prevJ.arch[a],
      tv = treeJ.arch?.[a];
    console.log(
      `  ${a.padEnd(20)} ${pct(v.n / total, 1).padStart(6)} of sessions   covering ${pct(v.h / v.n, 1).padStart(6)}   previous ${pct(pv ? pv.h / pv.n : null, 1).padStart(6)}   tree ${pct(tv ? tv.h / tv.n : null, 1).padStart(6)}`,
    );
  }
}
const a = oursJ.recall ?? 0,
  b = treeJ.recall ?? 0;
if (hasArch) {
  const total = Object.values(oursJ.arch).reduce((s, x) => s + x.n, 0);
  const botArch = Object.entries(oursJ.arch).filter(([, x]) => x.bots > x.n / 2 && x.n >= 0.01 * total);
  const low = botArch.filter(([, x]) => x.h / x.n < 0.6).map(([k]) => k);
  console.log(
    `result (synthetic): union recall ${pct(a)}, union FPR upper ${pct(oursJ.fpr_upper95, 3)} ${oursJ.passes ? 'within' : 'OUTSIDE'} the set gate ${pct(gate.set_max_fpr, 3)}; bot archetypes >= 1% of sessions covered >= 60%: ${low.length ? `no (${low.join(', ')})` : `yes (${botArch.length} of ${botArch.length})`}`,
  );
}
console.log(
  `result (vs tree): covering set recall ${pct(a)} at FPR ${pct(oursJ.fpr, 3)} vs tree ${pct(b)} at FPR ${pct(treeJ.fpr, 3)} -> ${treeJ.rules === 0 ? `no leaf of the tree passes the gate: covering ${a > 0 ? 'ahead' : 'level'}` : a >= b && (oursJ.fpr ?? 1) <= (treeJ.fpr ?? 1) ? 'recall >= tree at an FPR no higher (target met)' : 'target missed'}; set gate ${oursJ.passes ? 'passes' : 'fails'} on test`,
);
