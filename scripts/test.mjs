#!/usr/bin/env node
// `npm test`: typecheck, then vitest with its JSON reporter, then one plain closing line
// "N passed, N failed" computed from the JSON (CI reads that line, not vitest's summary).
// Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const out = 'test-output/vitest.json';
mkdirSync('test-output', { recursive: true });
rmSync(out, { force: true });
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

// The report test drives Debian's chromium (test/report/report.test.ts). A fresh machine lacks
// it: as root, install it; otherwise say so. If it still is not there the browser test FAILS
// (it is never skipped), so a missing browser cannot pass unnoticed.
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() === 0) {
    console.error(`${CHROMIUM} is missing: running apt-get update && apt-get install -y chromium`);
    const apt = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y chromium'], {
      stdio: 'inherit',
      env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (apt.status !== 0 || !existsSync(CHROMIUM)) console.error(`could not install chromium (exit ${apt.status}); the browser test will fail`);
  } else {
    console.error(`${CHROMIUM} is missing and this is not root: install it with \`apt-get install -y chromium\`; the browser test will fail`);
  }
}

// The engine tests start a real PostgreSQL server (test/engine/pg-server.ts, scripts/postgres.sh)
// from Debian's postgresql package. Installed here the same way; if it is still missing the
// engine tests FAIL with the reason (never skipped).
const hasPostgres = () => spawnSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/initdb']).status === 0;
if (!hasPostgres()) {
  if (process.getuid?.() === 0) {
    console.error('PostgreSQL is missing: running apt-get update && apt-get install -y postgresql');
    const apt = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y postgresql'], {
      stdio: 'inherit',
      env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (apt.status !== 0 || !hasPostgres()) console.error(`could not install postgresql (exit ${apt.status}); the engine tests will fail`);
  } else {
    console.error('PostgreSQL is missing and this is not root: install it with `apt-get install -y postgresql`; the engine tests will fail');
  }
}

const t0 = Date.now();
const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit', env });
const typecheckFailed = tsc.status !== 0;
if (typecheckFailed) console.error('typecheck failed');

const started = Date.now();
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env });

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** The ten slowest tests, so a test creeping towards the 10 s budget is seen before it flakes. */
function slowest(r) {
  const all = [];
  for (const f of r.testResults ?? [])
    for (const t of f.assertionResults ?? []) all.push({ ms: t.duration ?? 0, name: `${f.name.replace(process.cwd() + '/', '')} > ${t.fullName ?? t.title}` });
  all.sort((a, b) => b.ms - a.ms);
  console.log('\nslowest tests:');
  for (const t of all.slice(0, 10)) console.log(`  ${seconds(t.ms).padStart(7)}  ${t.name}${t.ms > BUDGET_MS ? '  <-- over the 10 s budget' : ''}`);
}
const BUDGET_MS = 10_000;

let passed = 0;
let failed = typecheckFailed ? 1 : 0;
let skipped = 0;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  slowest(r);
  passed = r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that fails to load has no tests in the counts: count it as a failure.
  for (const f of r.testResults ?? []) if (f.status === 'failed' && (f.assertionResults ?? []).length === 0) failed++;
} else {
  failed += 1;
  console.error(`vitest wrote no ${out}`);
}
if (run.status !== 0 && failed === 0) failed = 1;
console.log(`suite time: ${seconds(Date.now() - started)} (vitest), ${seconds(Date.now() - t0)} with the typecheck`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
