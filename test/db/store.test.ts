import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseValue, parseBytes, quoteIdent, Store } from '../../src/db/store.js';

describe('store', () => {
  it('never auto-installs extensions', async () => {
    const s = await Store.open();
    const r = await s.one(`select current_setting('autoinstall_known_extensions') as v`);
    expect(r?.['v']).toBe(false);
    s.close();
  });

  it('binds hostile strings as data', async () => {
    const s = await Store.open();
    await s.run('create table t(x varchar)');
    const hostile = "'); drop table t; --";
    await s.run('insert into t values (?)', [hostile]);
    expect(await s.all('select x from t where x = ?', [hostile])).toEqual([{ x: hostile }]);
    expect(await s.tableExists('t')).toBe(true);
    s.close();
  });

  it('returns counts as numbers and huge values as bigint', async () => {
    const s = await Store.open();
    expect(await s.one('select count(*) as n, 9007199254740993::hugeint as big from range(3)')).toEqual({ n: 3, big: 9007199254740993n });
    expect(normaliseValue({ a: [1n, 2n] })).toEqual({ a: [1, 2] });
    s.close();
  });

  it('streams a large result in chunks without materialising it', async () => {
    const s = await Store.open();
    let rows = 0;
    let chunks = 0;
    for await (const chunk of s.stream('select range as i from range(100000)')) {
      rows += chunk.length;
      chunks++;
    }
    expect(rows).toBe(100000);
    expect(chunks).toBeGreaterThan(10);
    s.close();
  });

  it('refuses a statement while a streamed result is being read (DuckDB would invalidate the stream); fine after it ends or is left', async () => {
    const s = await Store.open();
    for (const read of [(sql: string) => s.stream(sql), (sql: string) => s.columnChunks(sql)]) {
      const it = read('select range as i from range(100000)')[Symbol.asyncIterator]();
      await it.next();
      await expect(s.all('select 1 as x')).rejects.toThrow(/streamed result is still being read/);
      await expect(s.run('select 1')).rejects.toThrow(/streamed result/);
      let more = 1;
      while (!(await it.next()).done) more++;
      expect(more).toBeGreaterThan(10);
      expect(await s.one('select 1 as x')).toEqual({ x: 1 });
      // leaving a loop early ends the stream too
      for await (const chunk of read('select range as i from range(100000)')) if (chunk) break;
      expect(await s.one('select 2 as x')).toEqual({ x: 2 });
    }
    s.close();
  });

  it('rolls back a failed transaction, DDL included', async () => {
    const s = await Store.open();
    await s.run('create table keep as select 1 as a');
    await expect(
      s.transaction(async (tx) => {
        await tx.run('drop table keep');
        await tx.run('create table other(a int)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.tableExists('keep')).toBe(true);
    expect(await s.tableExists('other')).toBe(false);
    s.close();
  });

  it('quotes identifiers', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});

describe('Store.withMemoryLimit', () => {
  const limitOf = async (s: Store) => (await s.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))!.v;

  it("lowers DuckDB's memory limit while fn runs and puts it back, also when fn throws", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-store-'));
    const s = await Store.open(join(dir, 'x.duckdb'), { memoryLimit: '1GB' });
    try {
      const before = await limitOf(s);
      const inside = await s.withMemoryLimit('64MB', () => limitOf(s));
      expect(inside).not.toBe(before);
      expect(inside).toMatch(/^6[0-9](\.\d+)? MiB$/);
      expect(await limitOf(s)).toBe(before);
      await expect(
        s.withMemoryLimit('64MB', async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await limitOf(s)).toBe(before);
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps what cannot be dropped: a read-only store with a 40 MB temporary table still reads it under a 16MB limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-store-'));
    const file = join(dir, 'x.duckdb');
    const w = await Store.open(file);
    await w.run('CREATE TABLE s AS SELECT range AS a FROM range(10)');
    w.close();
    const s = await Store.open(file, { readOnly: true });
    try {
      await s.run('CREATE TEMP TABLE t AS SELECT range AS a, random() AS b FROM range(2500000)');
      const n = await s.withMemoryLimit('16MB', async () => (await s.one<{ n: number }>('SELECT count(*) AS n, sum(b) AS x FROM t'))!.n);
      expect(Number(n)).toBe(2_500_000);
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('afterwards the buffer pool is as large as before (not RESET, which leaves it at the lowered size)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-store-'));
    const s = await Store.open(join(dir, 'x.duckdb'));
    try {
      await s.withMemoryLimit('16MB', async () => undefined);
      await s.run('CREATE TEMP TABLE t AS SELECT range AS a, random() AS b FROM range(5000000)');
      const held = await s.one<{ b: bigint }>(`SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'`);
      // 80 MB of doubles and integers, all in memory (capped at 16 MB it would spill to disk)
      expect(Number(held!.b)).toBeGreaterThan(60e6);
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parseBytes reads DuckDB sizes', () => {
    expect(parseBytes('64MB')).toBe(64e6);
    expect(parseBytes('1GiB')).toBe(1024 ** 3);
    expect(parseBytes('512 KiB')).toBe(512 * 1024);
    expect(parseBytes('100B')).toBe(100);
    expect(parseBytes('7')).toBe(7);
    expect(() => parseBytes('lots')).toThrow('not a memory size');
  });

  it('leaves an in-memory database alone: its tables live in the buffer pool', async () => {
    const s = await Store.open(':memory:');
    try {
      const before = await limitOf(s);
      expect(await s.withMemoryLimit('64MB', () => limitOf(s))).toBe(before);
    } finally {
      s.close();
    }
  });
});
