import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('rank and propose before anything is ingested: exit 2 saying what to load, not an internal error', async () => {
    const dir = tmpDir();
    await runCli(['init', '.'], dir);
    for (const cmd of [['rank'], ['propose', '--dry-run']]) {
      const r = await runCli(cmd, dir);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/no sessions table in the workspace database[\s\S]*rulegen ingest FILE/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });

  it('unknown commands and flags are exit 2', async () => {
    const dir = tmpDir();
    expect((await runCli(['frobnicate'], dir)).code).toBe(2);
    expect((await runCli(['init', '--bogus'], dir)).code).toBe(2);
  });
});

describe('rulegen demo', () => {
  // The default demo (100,000 sessions, and Claude's recorded answer for that data) takes
  // 10-15 s on a loaded machine; the same pipeline on 25,000 sessions takes 2-3 s. On data the
  // cassette was not recorded for, the replay step is skipped and says so.
  const SMALL = ['--sessions', '25000'];

  it('runs on a fresh folder with no credentials, re-runs over itself, refuses other folders', async () => {
    const dir = tmpDir();
    const r = await runCli(['demo', '--dir', 'd', ...SMALL], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/loaded 25,000 sessions/);
    expect(r.stdout).toMatch(/bots: +[5-8],\d{3} \(2\d\.\d%\)/);
    expect(r.stdout).toContain("replay: skipped: Claude's recorded answer is for the default demo data (100,000 sessions");
    expect(r.stdout).toMatch(/^7\. check \(what CI runs\): passed, /m);
    expect(existsSync(join(dir, 'd', '.rulegen', 'rulegen.duckdb'))).toBe(true);
    const again = await runCli(['demo', '--dir', 'd', ...SMALL], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^7\. check \(what CI runs\): passed, /m);
    writeFileSync(join(dir, 'precious.txt'), 'keep');
    const refused = await runCli(['demo', '--dir', '.', ...SMALL], dir);
    expect(refused.code).toBe(2);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep');
    // the marker lists what the demo wrote; a file it did not write blocks the re-run and survives
    const marker = JSON.parse(readFileSync(join(dir, 'd', '.rulegen-demo'), 'utf8')) as { files: string[] };
    expect(marker.files).toEqual(expect.arrayContaining(['rulegen.yaml', 'data/sessions.parquet', 'docs/report.html', '.rulegen-demo']));
    writeFileSync(join(dir, 'd', 'candidates', 'mine.yaml'), 'my notes');
    const extra = await runCli(['demo', '--dir', 'd', ...SMALL], dir);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('1 file the demo did not write; nothing was deleted');
    expect(extra.stderr).toContain('candidates/mine.yaml');
    expect(readFileSync(join(dir, 'd', 'candidates', 'mine.yaml'), 'utf8')).toBe('my notes');
    expect(existsSync(join(dir, 'd', 'rulegen.yaml'))).toBe(true);
  });

  it('a folder that merely holds a .rulegen-demo file is not deleted; a file given as --dir is exit 2', async () => {
    const dir = tmpDir();
    mkdirSync(join(dir, 'mine', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'mine', '.rulegen-demo'), 'made by rulegen demo; safe to delete\n');
    writeFileSync(join(dir, 'mine', 'sub', 'thesis.tex'), 'years of work');
    const old = await runCli(['demo', '--dir', 'mine'], dir);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('does not list the files the demo wrote');
    expect(readFileSync(join(dir, 'mine', 'sub', 'thesis.tex'), 'utf8')).toBe('years of work');
    writeFileSync(join(dir, 'mine', '.rulegen-demo'), JSON.stringify({ files: ['.rulegen-demo', 'rulegen.yaml'] }));
    const listed = await runCli(['demo', '--dir', 'mine'], dir);
    expect(listed.code).toBe(2);
    expect(listed.stderr).toContain('sub/thesis.tex');
    expect(readFileSync(join(dir, 'mine', 'sub', 'thesis.tex'), 'utf8')).toBe('years of work');
    writeFileSync(join(dir, 'a-file'), 'x');
    const file = await runCli(['demo', '--dir', 'a-file'], dir);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain(`${join(dir, 'a-file')} is not a directory`);
    expect(file.stderr).toContain('expected: a directory');
    expect(file.stderr).not.toContain('internal error');
    // --sessions: a whole number of at least 1,000, else exit 2 naming the flag, before anything is written
    for (const bad of ['25k', '999', '-5']) {
      const n = await runCli(['demo', '--dir', 'fresh', '--sessions', bad], dir);
      expect(n.code, bad).toBe(2);
      expect(n.stderr).toMatch(/invalid value for --sessions[\s\S]*expected: +a whole number from 1,000/);
    }
    expect(existsSync(join(dir, 'fresh'))).toBe(false);
  });
});
