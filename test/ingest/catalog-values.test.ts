/** Issues 10.3 and 11.4 (ingest half): a category's closed list and a number's range are enforced. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeatureSchema, makeCatalog, type Catalog } from '../../src/catalog/schema.js';
import { parseConfig } from '../../src/config/load.js';
import { Store } from '../../src/db/store.js';
import { InputError } from '../../src/errors.js';
import { ingest } from '../../src/ingest/ingest.js';
import { describeRange, quoteValue } from '../../src/ingest/value-check.js';
import { tmpDir } from '../helpers/tmp.js';

const FIX = join(import.meta.dirname, '../../fixtures/ingest');
const config = parseConfig(readFileSync(join(FIX, 'rulegen.yaml'), 'utf8'), 'rulegen.yaml');
const HEADER = 'session_id,ts,label,ua_family,static_ratio,plugins';

function catalogWith(values: unknown): Catalog {
  return makeCatalog(
    [
      { name: 'ua_family', type: 'category', description: 'Browser family.', ...(values === undefined ? {} : { values }) },
      { name: 'static_ratio', type: 'number', description: 'Share of static requests.', range: [0, 1] },
      { name: 'plugins', type: 'number', description: 'Plugins.', range: [null, 10] },
    ].map((f) => FeatureSchema.parse(f)),
  );
}
const closed = catalogWith(['chrome', 'firefox', 'safari']);

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = tmpDir();
  store = await Store.open(join(dir, 'db.duckdb'));
});
afterEach(() => store.close());

function file(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, [HEADER, ...lines].join('\n') + '\n');
  return p;
}
const row = (id: string, ua: string, ratio: string | number = 0.5, plugins: string | number = 3) => `${id},2026-01-01 00:00:00,0,${ua},${ratio},${plugins}`;
const GOOD = () => file('good.csv', [row('g1', 'chrome'), row('g2', 'firefox', 0), row('g3', '', 1, '')]);

async function fingerprint(): Promise<string> {
  if (!(await store.tableExists('sessions'))) return 'absent';
  const r = await store.one(`select count(*) as n, sum(hash(*COLUMNS(*))) as h from sessions`);
  return JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}
async function rejects(catalog: Catalog, files: string[], replace = false): Promise<InputError> {
  const before = await fingerprint();
  const err = await ingest(store, config, catalog, { files, replace }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'ingest should fail').toBeInstanceOf(InputError);
  expect((err as InputError).exitCode).toBe(2);
  expect(await fingerprint(), 'the table is unchanged').toBe(before);
  return err as InputError;
}

describe('category values against the catalog', () => {
  beforeEach(async () => {
    await ingest(store, config, closed, { files: [GOOD()], replace: false });
  });

  it('values outside a closed list: exit 2 naming file, column, offending values with counts, the list', async () => {
    const long = 'x'.repeat(300);
    const bad = file('bad.csv', [row('b1', 'Chrome'), row('b2', 'Chrome'), row('b3', 'chrome'), row('b4', '"evil\x1b[31m"""'), row('b5', long)]);
    const e = await rejects(closed, [bad]);
    expect(e.problems).toHaveLength(1);
    const p = e.problems[0]!;
    expect(p.where).toEqual({ file: bad, field: 'ua_family' });
    expect(p.message).toMatch(/^4 rows of "ua_family" with a value not in the catalog's list/);
    expect(p.expected).toBe('one of "chrome", "firefox", "safari" (features.yaml values)');
    expect(p.found).toContain('"Chrome" x2');
    // quoted safely: the escape character is shown escaped, long values are cut
    expect(p.found).toContain('"evil\\x1b[31m\\"" x1');
    expect(p.found).not.toContain('\x1b');
    expect(p.found).toContain(`"${'x'.repeat(40)}"... (300 characters) x1`);
  });

  it('reports every failing column of the file at once, and names the second file when it is the bad one', async () => {
    const ok = file('ok.csv', [row('o1', 'safari')]);
    const bad = file('bad2.csv', [row('c1', 'opera', 1.7, 12), row('c2', 'opera', -0.25)]);
    const e = await rejects(closed, [ok, bad], true);
    expect(e.problems.map((p) => [p.where?.file, p.where?.field])).toEqual([
      [bad, 'ua_family'],
      [bad, 'static_ratio'],
      [bad, 'plugins'],
    ]);
    expect(e.problems[0]!.found).toBe('"opera" x2');
  });

  it('more offending values than shown are counted', async () => {
    const bad = file(
      'many.csv',
      Array.from({ length: 8 }, (_, i) => row(`m${i}`, `v${i}`)),
    );
    const e = await rejects(closed, [bad]);
    expect(e.problems[0]!.found).toMatch(/x1, and 3 other values$/);
  });

  it("values: 'open' and no values keep every value", async () => {
    const any = file('any.csv', [row('a1', 'Opera\tMini'), row('a2', 'whatever')]);
    expect((await ingest(store, config, catalogWith('open'), { files: [any], replace: false })).rows).toBe(2);
    expect((await ingest(store, config, catalogWith(undefined), { files: [any], replace: true })).rows).toBe(2);
  });

  it('an integer column checked against a list of strings', async () => {
    const nums = catalogWith(['1', '2']);
    const p = join(dir, 'ints.csv');
    writeFileSync(p, `${HEADER}\ni1,2026-01-01 00:00:00,0,1,0.5,1\ni2,2026-01-01 00:00:00,0,3,0.5,1\n`);
    const e = await rejects(nums, [p]);
    expect(e.problems[0]!.found).toBe('"3" x1');
  });
});

describe('number range against the catalog', () => {
  beforeEach(async () => {
    await ingest(store, config, closed, { files: [GOOD()], replace: false });
  });

  it('a 1.7 for a ratio in [0, 1]: exit 2 naming file, column, range, highest value and row count', async () => {
    const bad = file('r.csv', [row('r1', 'chrome', 1.7), row('r2', 'chrome', 1.2), row('r3', 'chrome', 0.9)]);
    const e = await rejects(closed, [bad]);
    expect(e.problems).toEqual([
      {
        severity: 'error',
        message: '2 values of "static_ratio" outside the catalog range',
        where: { file: bad, field: 'static_ratio' },
        expected: 'values in [0, 1] (features.yaml range)',
        found: '2 rows above 1 (highest 1.7)',
      },
    ]);
    expect(e.describe()).toContain('r.csv');
  });

  it('below the lower bound, and an upper bound alone', async () => {
    const bad = file('r2.csv', [row('r1', 'chrome', -0.5), row('r2', 'chrome', 0.5, 11)]);
    const e = await rejects(closed, [bad], true);
    expect(e.problems.map((p) => p.found)).toEqual(['1 row below 0 (lowest -0.5)', '1 row above 10 (highest 11)']);
    expect(e.problems[1]!.expected).toBe('values at most 10 (features.yaml range)');
  });

  it('appending a bad file leaves the table unchanged too', async () => {
    await rejects(closed, [file('r3.csv', [row('z1', 'chrome', 2)])], false);
  });

  it('Arrow IPC files are checked too', async () => {
    const arrow = join(dir, 'bad.arrow');
    const t = tableFromArrays({
      session_id: ['w1', 'w2'],
      ts: [new Date('2026-02-01T00:00:00Z'), new Date('2026-02-01T01:00:00Z')],
      label: Int32Array.from([1, 0]),
      ua_family: ['chrome', 'lynx'],
      static_ratio: Float64Array.from([0.5, 3]),
      plugins: Float64Array.from([1, 2]),
    });
    writeFileSync(arrow, tableToIPC(t, 'file'));
    const e = await rejects(closed, [arrow]);
    expect(e.problems.map((p) => [p.where?.field, p.found])).toEqual([
      ['ua_family', '"lynx" x1'],
      ['static_ratio', '1 row above 1 (highest 3)'],
    ]);
  });

  it('describeRange', () => {
    expect(describeRange([0, 1])).toBe('in [0, 1]');
    expect(describeRange([1, null])).toBe('at least 1');
    expect(describeRange([null, 10])).toBe('at most 10');
  });
});

describe('quoteValue', () => {
  it('escapes control, bidi and zero-width characters, quotes and backslashes; caps the length', () => {
    expect(quoteValue('a"b\\c\nd\u0000')).toBe('"a\\"b\\\\c\\nd\\x00"');
    expect(quoteValue('x\u202Ey\u200Bz\u0085')).toBe('"x\\u{202e}y\\u{200b}z\\x85"');
    expect(quoteValue('héllo wörld')).toBe('"héllo wörld"');
    expect(quoteValue('abcdef', 3)).toBe('"abc"... (6 characters)');
    expect(quoteValue('😀😀😀😀', 2)).toBe('"😀😀"... (4 characters)');
  });
});
