import { describe, expect, it } from 'vitest';
import { normaliseValue, quoteIdent, Store } from '../../src/db/store.js';

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
