#!/usr/bin/env node
// Benchmark for issue 14: `rulegen ingest-logs` of a generated combined-format access log, next to
// DuckDB's plain read_csv of the same file into a table, interleaved in one run, with peak RSS.
// The log is generated in DuckDB (seeded): visitors are humans (browsers fetching pages and their
// assets with in-site referrers), crawlers (declared bot agents, robots.txt), scrapers (browser
// agents, pages only, no referrer) and login bots (curl/python POSTing to /login).
// Usage: npm run build && node bench/ingest-logs.mjs [--lines 10000000] [--runs 2] [--dir bench/out]
// (--dir: where the generated log and the workspaces go; a 10M-line log is 2 GB)
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { fmt, summarise } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const lines = opt('lines', 10_000_000);
const runs = opt('runs', 2);
const dirAt = args.indexOf('--dir');
const out = resolve(dirAt >= 0 ? args[dirAt + 1] : 'bench/out');
mkdirSync(out, { recursive: true });
const log = join(out, `access-${lines}.log`);
const cli = resolve('bin/rulegen.js');

async function generate() {
  const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await inst.connect();
  await c.run('SELECT setseed(0.42)');
  // ~25 requests per visitor; the visitor's kind fixes its agent, pace and paths
  await c.run(`COPY (
    WITH r AS (SELECT i, i // 25 AS v, hash(i // 25) % 100 AS kind_roll, hash(i) AS h FROM range(${lines}) t(i)),
    k AS (SELECT *, CASE WHEN kind_roll < 70 THEN 'human' WHEN kind_roll < 82 THEN 'crawler' WHEN kind_roll < 94 THEN 'scraper' ELSE 'login' END AS kind FROM r)
    SELECT
      printf('%d.%d.%d.%d', 10 + v % 200, (v // 200) % 250, (v // 50000) % 250, 1 + v % 7) || ' - - [' ||
      strftime(TIMESTAMP '2026-01-01' + to_seconds((v % 604800) + (i % 25) * CASE kind WHEN 'human' THEN 20 + h % 40 WHEN 'crawler' THEN 3 ELSE 1 END),
        '%d/%b/%Y:%H:%M:%S') || ' +0000] "' ||
      CASE kind WHEN 'login' THEN 'POST /login' WHEN 'crawler' THEN CASE WHEN i % 25 = 0 THEN 'GET /robots.txt' ELSE 'GET /p/' || (h % 5000) END
        WHEN 'scraper' THEN 'GET /product/' || (h % 20000) || '?page=' || (i % 25)
        ELSE CASE h % 4 WHEN 0 THEN 'GET /p/' || (h % 500) WHEN 1 THEN 'GET /static/app.' || (h % 3) || '.css'
          WHEN 2 THEN 'GET /img/' || (h % 300) || '.png' ELSE 'GET /js/app.js' END END ||
      ' HTTP/1.1" ' || CASE kind WHEN 'login' THEN '401' WHEN 'crawler' THEN CASE WHEN h % 10 = 0 THEN '404' ELSE '200' END ELSE '200' END ||
      ' ' || (200 + h % 50000) || ' "' ||
      CASE kind WHEN 'human' THEN CASE WHEN i % 25 = 0 THEN '-' ELSE 'https://shop.example.org/p/' || (h % 500) END ELSE '-' END || '" "' ||
      CASE kind WHEN 'crawler' THEN 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
        WHEN 'login' THEN CASE WHEN v % 2 = 0 THEN 'curl/8.5.0' ELSE 'python-requests/2.31' END
        ELSE 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/' || (110 + v % 15) || '.0 Safari/537.36'
        END || '"' AS line
    FROM k ORDER BY i) TO '${log}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')`);
}

/** Run a command under GNU time: wall seconds, CPU seconds (user + system: steadier than wall on a shared machine) and peak RSS (MB). */
function measured(cmd, argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...argv], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const [kb, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, cpu: user + sys, rssMb: kb / 1024, stdout: r.stdout };
}

if (!existsSync(log)) {
  const t0 = Date.now();
  await generate();
  console.log(`generated ${log} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`rulegen bench: ingest-logs, ${lines.toLocaleString('en-US')} lines (${(statSync(log).size / 1e9).toFixed(2)} GB), ${runs} runs each, interleaved`);
const ws = join(out, 'logs-ws');
const ing = [];
const raw = [];
const rss = [];
const rawRss = [];
const cpu = [];
const rawCpu = [];
const load = () => loadavg()[0].toFixed(1);
for (let i = 0; i < runs; i++) {
  const loadBefore = load();
  rmSync(ws, { recursive: true, force: true });
  measured('node', [cli, 'init', ws]);
  const a = measured('node', [cli, '-C', ws, '--quiet', 'ingest-logs', log]);
  ing.push(a.seconds);
  rss.push(a.rssMb);
  cpu.push(a.cpu);
  const db = join(out, 'raw-logs.duckdb');
  rmSync(db, { force: true });
  const b = measured('node', [resolve('bench/raw-read-csv.mjs'), db, log]);
  raw.push(b.seconds);
  rawRss.push(b.rssMb);
  rawCpu.push(b.cpu);
  console.log(
    `  run ${i + 1}: ingest-logs ${fmt(a.seconds)} s (CPU ${fmt(a.cpu)} s, peak RSS ${a.rssMb.toFixed(0)} MB), ` +
      `read_csv into a table ${fmt(b.seconds)} s (CPU ${fmt(b.cpu)} s, peak RSS ${b.rssMb.toFixed(0)} MB); load average ${loadBefore} -> ${load()}`,
  );
}
if (!runs) process.exit(0);
const g = summarise(ing);
const r = summarise(raw);
console.log('');
console.log(`ingest-logs: median ${fmt(g.median)} s (min ${fmt(g.min)}, max ${fmt(g.max)}), peak RSS max ${Math.max(...rss).toFixed(0)} MB (target < 2048 MB)`);
console.log(`read_csv:    median ${fmt(r.median)} s (min ${fmt(r.min)}, max ${fmt(r.max)}), peak RSS max ${Math.max(...rawRss).toFixed(0)} MB`);
console.log(
  `ingest-logs / read_csv: ${(g.median / r.median).toFixed(2)}x (target <= 3x); ` +
    `spread between runs: ${(100 * g.spread).toFixed(0)}% and ${(100 * r.spread).toFixed(0)}%`,
);
const sum = (xs) => xs.reduce((x, y) => x + y, 0);
console.log(`CPU seconds, ingest-logs / read_csv: ${(sum(cpu) / sum(rawCpu)).toFixed(2)}x (${fmt(sum(cpu) / runs)} s / ${fmt(sum(rawCpu) / runs)} s per run)`);
