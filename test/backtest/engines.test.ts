/**
 * `--engine kernel | sql` (issue 13): the columnar kernel and the SQL engine give the same
 * figures through the CLI, every result says which made it, the default falls back to SQL where
 * the kernel cannot run (and `--engine kernel` then fails, exit 2), and a workspace whose cache
 * folder cannot be written still backtests (read-only store, kernel reading DuckDB directly).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { backtestTargets } from '../../src/backtest/run.js';
import { Store } from '../../src/db/store.js';
import { resolveTargets } from '../../src/rules/targets.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { IDS, tinyWorkspace } from '../impact/tiny.js';

/** A run without what legitimately differs between evaluators: timings, and which one made it. */
function figures(run: Record<string, unknown>): unknown {
  const { timings: _t, engine: _e, kernel: _k, kernel_fallback: _f, ...rest } = run;
  return rest;
}

const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown> & { engine?: string; kernel?: unknown; kernel_fallback?: string };
const lastRecord = (dir: string) => {
  const runs = join(dir, '.rulegen', 'runs');
  const file = readdirSync(runs)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .at(-1)!;
  return JSON.parse(readFileSync(join(runs, file), 'utf8').trim().split('\n').at(-1)!);
};

let ws: string;
beforeAll(async () => {
  ws = await exampleWorkspace();
});

describe('backtest --engine kernel | sql', () => {
  it('the same figures (every breakdown) from the kernel, from SQL and by default; each result and run record names its engine', async () => {
    const cache = join(ws, '.rulegen', 'cache', 'kernel');
    const base = ['-C', ws, '--json', 'backtest', '--no-write', '--variations'];
    const kernel = await runCli([...base, '--engine', 'kernel'], ws);
    expect(kernel.code, kernel.stderr).toBe(0);
    // the column cache lives in the workspace's hidden folder
    expect(existsSync(join(cache, 'sessions', 'meta.json'))).toBe(true);
    expect(lastRecord(ws).engine).toMatchObject({ engine: 'kernel', kernel: { simd: expect.any(Boolean), workers: expect.any(Number) } });
    const sql = await runCli([...base, '--engine', 'sql'], ws);
    expect(sql.code, sql.stderr).toBe(0);
    expect(lastRecord(ws).engine).toEqual({ engine: 'sql', kernel: null });
    const auto = await runCli(base, ws);
    expect(auto.code, auto.stderr).toBe(0);

    const [k, s, a] = [json(kernel.stdout), json(sql.stdout), json(auto.stdout)];
    expect(k.engine).toBe('kernel');
    expect(k.kernel).toEqual({ simd: expect.any(Boolean), workers: expect.any(Number) });
    expect(s.engine).toBe('sql');
    expect(s.kernel).toBeUndefined();
    expect(a.engine).toBe('kernel');
    expect(a.kernel_fallback).toBeUndefined();
    // rules, counts, daily series (train + test), segments, populations, overlap, set, findings, variations
    expect(figures(k)).toEqual(figures(s));
    expect(figures(a)).toEqual(figures(s));
    const rules = s['rules'] as { counts: { tp: number }; daily?: unknown; overlap?: unknown }[];
    expect(rules.length).toBeGreaterThanOrEqual(2);
    expect(rules.some((r) => r.counts.tp > 0 && r.daily && r.overlap)).toBe(true);
    expect(Object.keys(s['variations'] as object).length).toBeGreaterThan(0);
  }, 30_000);

  it('check --json: the same verdicts either way, and the engine that made them', async () => {
    const k = await runCli(['-C', ws, '--json', 'check', '--engine', 'kernel'], ws);
    const s = await runCli(['-C', ws, '--json', 'check', '--engine', 'sql'], ws);
    expect([k.code, s.code], k.stderr + s.stderr).toEqual([0, 0]);
    const [kj, sj] = [json(k.stdout), json(s.stdout)];
    expect([kj.engine, sj.engine]).toEqual(['kernel', 'sql']);
    const { engine: _a, kernel: _b, ...kr } = kj;
    const { engine: _c, ...sr } = sj;
    const strip = (x: Record<string, unknown>) => ({ ...x, rules: (x['rules'] as Record<string, unknown>[]).map((r) => ({ ...r, timings: undefined })) });
    expect(strip(kr)).toEqual(strip(sr));
  }, 20_000);

  it('writes which engine measured a rule into its evidence', async () => {
    const dir = await tinyWorkspace();
    const r = await runCli(['-C', dir, '--quiet', 'backtest', IDS.D, '--engine', 'sql'], dir);
    expect(r.code, r.stderr).toBe(0);
    const evidence = () => parse(readFileSync(join(dir, 'candidates', `${IDS.D}.yaml`), 'utf8')).backtest;
    expect(evidence().engine).toBe('sql');
    const k = await runCli(['-C', dir, '--quiet', 'backtest', IDS.D], dir);
    expect(k.code, k.stderr).toBe(0);
    expect(evidence().engine).toBe('kernel');
  });

  it('an unknown --engine is exit 2 naming every kind', async () => {
    const r = await runCli(['-C', ws, 'backtest', '--engine', 'gpu', '--no-write'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected: duckdb, postgres, athena, kernel, sql');
  });
});

describe('where the kernel cannot run', () => {
  it('the default falls back to SQL (saying why in --json and the run record); --engine kernel is exit 2', async () => {
    const dir = await tinyWorkspace();
    // a time column with a time zone: the kernel takes TIMESTAMP only
    const w = await Store.open(join(dir, '.rulegen', 'rulegen.duckdb'));
    await w.run('ALTER TABLE sessions ALTER COLUMN ts SET DATA TYPE TIMESTAMPTZ');
    w.close();
    const auto = await runCli(['-C', dir, '--json', 'backtest', '--no-write'], dir);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toBe('');
    const a = json(auto.stdout);
    expect(a.engine).toBe('sql');
    expect(a.kernel_fallback).toBe('the time column ts is TIMESTAMP WITH TIME ZONE, not TIMESTAMP');
    expect(lastRecord(dir).engine).toEqual({ engine: 'sql', kernel: null, fallback: 'the time column ts is TIMESTAMP WITH TIME ZONE, not TIMESTAMP' });
    const sql = await runCli(['-C', dir, '--json', 'backtest', '--no-write', '--engine', 'sql'], dir);
    expect(figures(json(sql.stdout))).toEqual(figures(a));

    const kernel = await runCli(['-C', dir, 'backtest', '--no-write', '--engine', 'kernel'], dir);
    expect(kernel.code).toBe(2);
    expect(kernel.stdout).toBe('');
    expect(kernel.stderr).toContain('error: the kernel cannot run this backtest: the time column ts is TIMESTAMP WITH TIME ZONE, not TIMESTAMP');
    expect(kernel.stderr).toContain('or --engine sql');
  });
});

describe('a read-only store whose cache folder cannot be written', () => {
  it('backtests with the kernel reading DuckDB directly, writing nothing, with the same figures', async () => {
    const dir = await tinyWorkspace();
    const cache = join(dir, '.rulegen', 'cache');
    rmSync(cache, { recursive: true, force: true });
    // a file where the cache folder would go: nothing can be created under it (root ignores file modes)
    writeFileSync(cache, '');
    const w = openWorkspace(dir);
    const { targets } = resolveTargets(w, [IDS.A, IDS.D, IDS.E], dir);
    const store = await Store.open(w.paths.db, { readOnly: true });
    try {
      const opts = { window: 'test' as const, configFile: w.paths.config };
      const k = await backtestTargets(store, w.config, w.catalog, targets, { ...opts, evaluator: 'kernel' });
      expect(k.engine).toBe('kernel');
      expect(k.timings['kernel.cache_build']).toBeUndefined();
      const s = await backtestTargets(store, w.config, w.catalog, targets, { ...opts, evaluator: 'sql' });
      expect(figures(k as unknown as Record<string, unknown>)).toEqual(figures(s as unknown as Record<string, unknown>));
      expect(k.rules.map((r) => r.counts)).toEqual(s.rules.map((r) => r.counts));
    } finally {
      store.close();
    }
    expect(readFileSync(cache, 'utf8')).toBe('');
  });
});

describe('every command that backtests says which engine made its figures', () => {
  it('propose --engine kernel | sql: the same candidates with the same counts, and the engine in --json', async () => {
    const base = ['-C', ws, '--json', 'propose', '--provider', 'offline', '--count', '3', '--dry-run'];
    const k = await runCli([...base, '--engine', 'kernel'], ws);
    const s = await runCli([...base, '--engine', 'sql'], ws);
    expect([k.code, s.code], k.stderr + s.stderr).toEqual([0, 0]);
    const [kj, sj] = [json(k.stdout), json(s.stdout)];
    expect([kj.engine, sj.engine]).toEqual(['kernel', 'sql']);
    type Cand = { condition: string; test: { tp: number; fp: number } };
    const cands = (j: Record<string, unknown>) => (j['candidates'] as Cand[]).map((c) => ({ condition: c.condition, tp: c.test.tp, fp: c.test.fp }));
    expect(cands(kj).length).toBeGreaterThan(0);
    expect(cands(kj)).toEqual(cands(sj));
    const bad = await runCli(['-C', ws, 'propose', '--provider', 'offline', '--engine', 'gpu', '--dry-run'], ws);
    expect(bad.code).toBe(2);
  }, 40_000);

  it('fp, review and approve --json carry the engine', async () => {
    // fp measures its modifications by backtest (the example data has some for this rule)
    const fp = await runCli(['-C', ws, '-q', '--json', 'fp', 'login_post_count >= 3'], ws);
    expect(fp.code, fp.stderr).toBe(0);
    expect(json(fp.stdout).engine).toBe('kernel');
    const dir = await tinyWorkspace();
    const rv = await runCli(['-C', dir, '--json', 'review'], dir);
    expect(rv.code, rv.stderr).toBe(0);
    expect(json(rv.stdout).engine).toBe('kernel');
    const ap = await runCli(['-C', dir, '--json', 'approve', IDS.E, '--reviewer', 'ana', '--override', 'test', '--no-docs'], dir);
    expect(ap.code, ap.stderr).toBe(0);
    expect(json(ap.stdout).engine).toBe('kernel');
  }, 20_000);
});
