import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
import { loadCatalog } from '../../src/catalog/load.js';
import { parseConfig } from '../../src/config/load.js';
import { readFileSync } from 'node:fs';
import { Store } from '../../src/db/store.js';
import { InputError } from '../../src/errors.js';
import { ingest } from '../../src/ingest/ingest.js';
import { tmpDir } from '../helpers/tmp.js';

const FIX = join(import.meta.dirname, '../../fixtures/ingest');
const catalog = loadCatalog(join(FIX, 'features.yaml'));
const config = parseConfig(readFileSync(join(FIX, 'rulegen.yaml'), 'utf8'), 'rulegen.yaml');
const HEADER = 'session_id,ts,label,country,requests_per_minute,webdriver_flag,ua_family';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = tmpDir();
  store = await Store.open(join(dir, 'db.duckdb'));
});
afterEach(() => store.close());

const load = (files: string[], replace = false) => ingest(store, config, catalog, { files, replace });
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
/** A fingerprint of the table: row count and an order-independent hash of every row. */
async function fingerprint(): Promise<string> {
  if (!(await store.tableExists('sessions'))) return 'absent';
  const r = await store.one(`select count(*) as n, sum(hash(*COLUMNS(*))) as h from sessions`);
  return JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}
async function rejects(files: string[], pattern: RegExp, replace = false): Promise<InputError> {
  const before = await fingerprint();
  let err: unknown;
  try {
    await load(files, replace);
  } catch (e) {
    err = e;
  }
  expect(err, 'ingest should fail').toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.exitCode).toBe(2);
  expect(e.describe()).toMatch(pattern);
  expect(await fingerprint(), 'the table is unchanged').toBe(before);
  return e;
}

describe('ingest', () => {
  it('loads a CSV, casts to catalog types, keeps and lists extra columns', async () => {
    const s = await load([join(FIX, 'good.csv')]);
    expect(s).toMatchObject({ rows: 4, bots: 1, humans: 2, unlabelled: 1, totalRows: 4, extras: ['country', 'client_ip'] });
    expect(s.from).toBe('2026-01-01 00:00:00');
    expect(s.to).toBe('2026-01-03 03:00:00');
    const types = Object.fromEntries((await store.describe('select * from sessions')).map((c) => [c.name, c.type]));
    expect(types).toMatchObject({ ts: 'TIMESTAMP', label: 'INTEGER', requests_per_minute: 'DOUBLE', webdriver_flag: 'BOOLEAN', ua_family: 'VARCHAR' });
  });

  it('appends other formats and refuses ids that already exist', async () => {
    await load([join(FIX, 'good.csv')]);
    const s = await load([join(FIX, 'more.ndjson')]);
    expect(s).toMatchObject({ rows: 2, totalRows: 6, bots: 1, unlabelled: 1 });
    const e = await rejects([join(FIX, 'more.ndjson')], /already loaded/);
    expect(e.problems[0]!.found).toContain('"s5"');
    const r = await load([join(FIX, 'good.csv')], true);
    expect(r).toMatchObject({ totalRows: 4, replaced: true });
  });

  it('reads TSV, JSON arrays, Parquet and Arrow IPC', async () => {
    const tsv = file('a.tsv', readFileSync(join(FIX, 'good.csv'), 'utf8').replaceAll(',', '\t'));
    expect((await load([tsv])).rows).toBe(4);
    const pq = join(dir, 'a.parquet');
    await store.run(`copy (select * replace ('p' || session_id as session_id) from sessions) to '${pq}' (format parquet)`);
    const json = join(dir, 'a.json');
    await store.run(`copy (select * replace ('j' || session_id as session_id) from sessions) to '${json}' (format json, array true)`);
    const s = await load([pq, json]);
    expect(s).toMatchObject({ rows: 8, totalRows: 12 });
    const arrow = join(dir, 'a.arrow');
    const t = tableFromArrays({
      session_id: ['a1', 'a2', 'a3'],
      ts: [new Date('2026-02-01T00:00:00Z'), new Date('2026-02-01T01:00:00Z'), new Date('2026-02-02T00:00:00Z')],
      label: Int32Array.from([1, 0, 0]),
      requests_per_minute: Float64Array.from([100, 2, 3.5]),
      webdriver_flag: [true, false, false],
      ua_family: ['headless', 'chrome', 'firefox'],
      country: ['US', 'DE', 'US'],
    });
    writeFileSync(arrow, tableToIPC(t, 'file'));
    const a = await load([arrow]);
    expect(a).toMatchObject({ rows: 3, bots: 1, humans: 2, totalRows: 15, from: '2026-02-01 00:00:00' });
    const row = await store.one(`select * from sessions where session_id = 'a1'`);
    expect(row).toMatchObject({ requests_per_minute: 100, webdriver_flag: true, ua_family: 'headless', label: 1 });
  });

  it('accepts 0/1 integers for a boolean feature and rejects other values', async () => {
    const ok = file('b.csv', `${HEADER}\nx1,2026-01-01 00:00:00,1,US,1,1,chrome\nx2,2026-01-01 00:00:00,0,US,1,0,chrome\n`);
    expect((await load([ok])).rows).toBe(2);
    const bad = file('c.csv', `${HEADER}\ny1,2026-01-01 00:00:00,1,US,1,2,chrome\n`);
    const e = await rejects([bad], /webdriver_flag/);
    expect(e.problems[0]!.found).toContain('"2"');
    expect(e.problems[0]!.found).toContain('y1');
  });

  describe('bad input: exit 2, clear message, table unchanged', () => {
    beforeEach(async () => {
      await load([join(FIX, 'good.csv')]);
    });

    it('a missing file', async () => {
      const e = await rejects([join(dir, 'nope.csv')], /no such file/);
      expect(e.problems[0]!.where?.file).toContain('nope.csv');
    });
    it('an empty file and a header-only file', async () => {
      await rejects([file('e.csv', '')], /empty/);
      await rejects([file('h.csv', HEADER + '\n')], /no rows/);
    });
    it('an unknown file type', async () => {
      await rejects([file('x.xlsx', 'junk')], /unknown file type[\s\S]*expected: .*\.csv/);
    });
    it('a malformed CSV names the line (small file)', async () => {
      const e = await rejects(
        [file('m.csv', `${HEADER}\nz1,2026-01-01 00:00:00,1,US,1,true,chrome\nz2,2026-01-01 00:00:00,1,US,1,true,chrome,extra\n`)],
        /wrong number of fields/,
      );
      expect(e.problems[0]!.where?.line).toBe(3);
    });
    it('a malformed CSV names the line (large file)', async () => {
      const rows = Array.from({ length: 30_000 }, (_, i) =>
        i === 25_000 ? `q${i},2026-01-01 00:00:00,1,US,1,true,chrome,oops` : `q${i},2026-01-01 00:00:00,1,US,1,true,chrome`,
      );
      const e = await rejects([file('big.csv', `${HEADER}\n${rows.join('\n')}\n`)], /25002/);
      expect(e.problems[0]!.where?.line).toBe(25002);
    });
    it('a wrong column type names the column, expected and found', async () => {
      const e = await rejects([file('t.csv', `${HEADER}\nw1,2026-01-01 00:00:00,1,US,fast,true,chrome\n`)], /requests_per_minute/);
      expect(e.problems[0]).toMatchObject({ expected: expect.stringContaining('number'), found: 'VARCHAR' });
    });
    it('missing label, time and id columns are all reported', async () => {
      const e = await rejects([file('n.csv', 'country,requests_per_minute,webdriver_flag,ua_family\nUS,1,true,chrome\n')], /missing the id column/);
      expect(e.problems.map((p) => p.where?.field)).toEqual(expect.arrayContaining(['session_id', 'ts', 'label']));
    });
    it('a time column that is not a timestamp', async () => {
      const e = await rejects([file('ts.csv', `${HEADER}\nv1,yesterday,1,US,1,true,chrome\n`)], /not a timestamp/);
      expect(e.problems[0]!.found).toBe('VARCHAR');
    });
    it('labels outside {0, 1, empty}', async () => {
      const e = await rejects([file('l.csv', `${HEADER}\nl1,2026-01-01 00:00:00,1,US,1,true,chrome\nl2,2026-01-01 00:00:00,2,US,1,true,chrome\n`)], /label/);
      expect(e.problems[0]!.found).toMatch(/"2".*l2/);
      await rejects([file('l2.csv', `${HEADER}\nl1,2026-01-01 00:00:00,bot,US,1,true,chrome\n`)], /"bot"/);
    });
    it('duplicate ids within the input', async () => {
      const e = await rejects(
        [file('d.csv', `${HEADER}\nd1,2026-01-01 00:00:00,1,US,1,true,chrome\nd1,2026-01-01 00:00:00,0,US,1,true,chrome\n`)],
        /duplicate ids/,
      );
      expect(e.problems[0]!.found).toContain('"d1" x2');
    });
    it('a good file next to a bad one loads nothing', async () => {
      const good = file('g.csv', `${HEADER}\ng1,2026-01-01 00:00:00,1,US,1,true,chrome\n`);
      await rejects([good, file('bad.csv', `${HEADER}\ng2,2026-01-01 00:00:00,7,US,1,true,chrome\n`)], /label/);
      await rejects([good, file('bad2.csv', `${HEADER}\ng2,2026-01-01 00:00:00,7,US,1,true,chrome\n`)], /label/, true);
    });
  });
});
