/** Issue 10.1: a named file is read alone, globs only when asked (or when no such file exists). */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/db/store.js';
import { escapeGlob, hasGlob } from '../../src/ingest/readers.js';
import { isPattern } from '../../src/ingest/inputs.js';
import { runCli, tmpDir } from '../helpers/cli.js';

const FIX = join(import.meta.dirname, '../../fixtures/ingest');
const HEADER = 'session_id,ts,label,country,requests_per_minute,webdriver_flag,ua_family';

function rows(prefix: string, n: number): string {
  return HEADER + '\n' + Array.from({ length: n }, (_, i) => `${prefix}${i},2026-01-01 00:00:00,0,US,1,false,chrome`).join('\n') + '\n';
}

let ws: string;
beforeEach(() => {
  ws = tmpDir();
  copyFileSync(join(FIX, 'rulegen.yaml'), join(ws, 'rulegen.yaml'));
  copyFileSync(join(FIX, 'features.yaml'), join(ws, 'features.yaml'));
  mkdirSync(join(ws, 'data'));
  // Names that DuckDB's readers would expand as globs, next to the files they would match.
  writeFileSync(join(ws, 'data', 's1.csv'), rows('a', 5));
  writeFileSync(join(ws, 'data', 's[1].csv'), rows('b', 10));
  writeFileSync(join(ws, 'data', 'star*.csv'), rows('c', 3));
  writeFileSync(join(ws, 'data', 'starA.csv'), rows('d', 7));
  writeFileSync(join(ws, 'data', 'q?.csv'), rows('e', 2));
  writeFileSync(join(ws, 'data', 'qA.csv'), rows('f', 4));
});

async function ingestJson(...args: string[]): Promise<{
  code: number;
  summary: { rows: number; files: { file: string; rows: number }[]; globs: { pattern: string; files: string[] }[] };
  stderr: string;
  stdout: string;
}> {
  const r = await runCli(['-C', ws, '--json', 'ingest', '--replace', ...args], ws);
  return { code: r.code, summary: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr, stdout: r.stdout };
}

describe('escapeGlob', () => {
  it('turns each glob character into a one-character class', () => {
    expect(escapeGlob('/d[1]/s*?.csv')).toBe('/d[[]1[]]/s[*][?].csv');
    expect(escapeGlob('/plain/path.csv')).toBe('/plain/path.csv');
    expect(hasGlob('a[1].csv')).toBe(true);
    expect(hasGlob('a.csv')).toBe(false);
  });

  it('DuckDB 1.5 reads an escaped path as exactly that file (csv, json, parquet, nested directory)', async () => {
    const store = await Store.open();
    try {
      const dir = join(ws, 'd[1]');
      mkdirSync(dir);
      mkdirSync(join(ws, 'd1'));
      for (const d of [dir, join(ws, 'd1')]) {
        await store.run(`copy (select '${d.endsWith(']') ? 'literal' : 'glob'}' as who) to '${join(d, 'x.parquet')}' (format parquet)`);
        await store.run(`copy (select '${d.endsWith(']') ? 'literal' : 'glob'}' as who) to '${join(d, 'x.json')}' (format json)`);
      }
      for (const f of ['x.parquet', 'x.json']) {
        const reader = f.endsWith('parquet') ? 'read_parquet' : 'read_json';
        const r = await store.all(`select who from ${reader}('${escapeGlob(join(dir, f))}')`);
        expect(r).toEqual([{ who: 'literal' }]);
      }
      expect(await store.all(`select count(*)::int as n from read_csv('${escapeGlob(join(ws, 'data', 'q?.csv'))}')`)).toEqual([{ n: 2 }]);
    } finally {
      store.close();
    }
  });
});

describe('ingest: literal paths and globs', () => {
  it('reads a file literally named s[1].csv alone, not s1.csv', async () => {
    const r = await ingestJson('data/s[1].csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.rows).toBe(10);
    expect(r.summary.files).toEqual([{ file: join(ws, 'data', 's[1].csv'), rows: 10 }]);
    expect(r.summary.globs).toEqual([]);
  });

  it('reads star*.csv and q?.csv alone when those files exist', async () => {
    expect((await ingestJson('data/star*.csv')).summary.rows).toBe(3);
    expect((await ingestJson('data/q?.csv')).summary.rows).toBe(2);
  });

  it('--glob expands even a name that exists, and lists the files matched (json and text)', async () => {
    const r = await ingestJson('--glob', 'data/star*.csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.rows).toBe(10);
    const matched = [join(ws, 'data', 'star*.csv'), join(ws, 'data', 'starA.csv')];
    expect(r.summary.globs).toEqual([{ pattern: join(ws, 'data', 'star*.csv'), files: matched }]);
    expect(r.summary.files.map((f) => f.rows)).toEqual([3, 7]);

    const t = await runCli(['-C', ws, 'ingest', '--replace', '--glob', 'data/s[1].csv'], ws);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('data/s[1].csv matched 1 file');
    expect(t.stdout).toMatch(/data\/s1\.csv: 5\n/);
  });

  it('a pattern that is not an existing file is a glob, and its matches are listed', async () => {
    const r = await ingestJson('data/qA*.csv', 'data/s1.csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.globs).toEqual([{ pattern: join(ws, 'data', 'qA*.csv'), files: [join(ws, 'data', 'qA.csv')] }]);
    expect(r.summary.rows).toBe(9);
  });

  it('a glob that matches nothing is exit 2 naming the pattern, table unchanged', async () => {
    expect((await ingestJson('data/s1.csv')).code).toBe(0);
    const r = await runCli(['-C', ws, 'ingest', '--replace', 'data/nothing*.csv'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing*.csv');
    expect(r.stderr).toMatch(/no file matches the pattern/);
    const g = await runCli(['-C', ws, 'ingest', '--replace', '--glob', 'data/missing.csv'], ws);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('missing.csv');
    const store = await Store.open(join(ws, '.rulegen', 'rulegen.duckdb'));
    try {
      expect(await store.one(`select count(*)::int as n from sessions`)).toEqual({ n: 5 });
    } finally {
      store.close();
    }
  });

  it('isPattern: only with --glob, or glob characters and no such file', () => {
    expect(isPattern(join(ws, 'data', 's[1].csv'), false)).toBe(false);
    expect(isPattern(join(ws, 'data', 's[2].csv'), false)).toBe(true);
    expect(isPattern(join(ws, 'data', 'nope.csv'), false)).toBe(false);
    expect(isPattern(join(ws, 'data', 's1.csv'), true)).toBe(true);
  });
});
