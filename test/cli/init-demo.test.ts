import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog/load.js';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

describe('rulegen init', () => {
  it('writes a complete workspace that loads, and refuses to overwrite it', async () => {
    const dir = tmpDir();
    const r = await runCli(['init', 'ws'], dir);
    expect(r.code).toBe(0);
    const ws = join(dir, 'ws');
    for (const f of ['rulegen.yaml', 'features.yaml', '.gitignore', 'candidates', 'rules', 'docs']) expect(existsSync(join(ws, f)), f).toBe(true);
    expect(parseConfig(readFileSync(join(ws, 'rulegen.yaml'), 'utf8'), 'rulegen.yaml')).toEqual(DEFAULT_CONFIG);
    expect(parseCatalog(readFileSync(join(ws, 'features.yaml'), 'utf8'), 'features.yaml').features.length).toBeGreaterThanOrEqual(20);
    expect(readFileSync(join(ws, '.gitignore'), 'utf8')).toContain('.rulegen/');
    writeFileSync(join(ws, 'rulegen.yaml'), '# mine\n');
    const again = await runCli(['init', 'ws'], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/will not overwrite/);
    expect(readFileSync(join(ws, 'rulegen.yaml'), 'utf8')).toBe('# mine\n');
  });

  it('an invalid rulegen.yaml or features.yaml is exit 2 naming file and line', async () => {
    const dir = tmpDir();
    await runCli(['init', '.'], dir);
    writeFileSync(join(dir, 'features.yaml'), '- name: Bad Name\n  type: number\n  description: x\n');
    let r = await runCli(['ingest', 'x.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/features\.yaml:1:\d+/);
    writeFileSync(join(dir, 'rulegen.yaml'), 'gate:\n  max_fpr: lots\n');
    r = await runCli(['ingest', 'x.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rulegen\.yaml:2:\d+/);
  });

  it('unknown commands and flags are exit 2', async () => {
    const dir = tmpDir();
    expect((await runCli(['frobnicate'], dir)).code).toBe(2);
    expect((await runCli(['init', '--bogus'], dir)).code).toBe(2);
  });
});

describe('rulegen demo', () => {
  it('runs on a fresh folder with no credentials, re-runs over itself, refuses other folders', async () => {
    const dir = tmpDir();
    const r = await runCli(['demo', '--dir', 'd'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/loaded 100,000 sessions/);
    expect(r.stdout).toMatch(/bots: +2\d,\d{3}/);
    expect(existsSync(join(dir, 'd', '.rulegen', 'rulegen.duckdb'))).toBe(true);
    expect((await runCli(['demo', '--dir', 'd'], dir)).code).toBe(0);
    writeFileSync(join(dir, 'precious.txt'), 'keep');
    const refused = await runCli(['demo', '--dir', '.'], dir);
    expect(refused.code).toBe(2);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep');
  });
});
