import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { InputError } from '../../src/errors.js';
import { loadImport, parseImport } from '../../src/rank/import.js';

const DIR = join(import.meta.dirname, '../../fixtures/rank');
const catalog = loadCatalog(join(DIR, 'features.yaml'));

describe('rank --import files', () => {
  it('reads a CSV with feature, importance and std', () => {
    const r = loadImport(join(DIR, 'import-good.csv'), catalog);
    expect(r.problems).toEqual([]);
    expect(r.entries).toEqual([
      { feature: 'x', importance: 0.31, std: 0.02 },
      { feature: 'y', importance: 0.12 },
      { feature: 'kind', importance: 0.05, std: 0.01 },
    ]);
  });

  it('leaves out bad rows, each with its line, and keeps the rest', () => {
    const file = join(DIR, 'import-bad.csv');
    const r = loadImport(file, catalog);
    expect(r.entries).toEqual([
      { feature: 'x', importance: 0.31, std: 0.02 },
      { feature: 'kind', importance: 0.05, std: 0.01 },
    ]);
    const byLine = Object.fromEntries(r.problems.map((p) => [p.where?.line, p]));
    expect(byLine[4]).toMatchObject({
      severity: 'warning',
      message: 'row left out: unknown feature "nosuch"',
      where: { file, line: 4, field: 'feature' },
      found: 'nosuch',
    });
    expect(byLine[5]).toMatchObject({ message: 'row left out: the importance of "y" is not a number', where: { line: 5, field: 'importance' }, found: 'abc' });
    expect(byLine[6]).toMatchObject({ message: 'row left out: the std of "flag" is not a non-negative number', found: '-1' });
    expect(byLine[8]).toMatchObject({ message: 'row left out: "x" appears again (the first row counts)' });
    expect(byLine[9]).toMatchObject({ message: 'row left out: the importance of "secret" is not a number', found: 'nothing' });
    expect(r.problems).toHaveLength(5);
  });

  it('reads JSON arrays and objects, naming the field of a bad entry', () => {
    const file = join(DIR, 'import.json');
    const r = loadImport(file, catalog);
    expect(r.entries).toEqual([
      { feature: 'x', importance: 0.31, std: 0.02 },
      { feature: 'flag', importance: 0.1 },
      { feature: 'kind', importance: 0.05 },
    ]);
    expect(r.problems.map((p) => p.where?.field)).toEqual(['[2].feature', '[3].importance']);
    const o = parseImport('{"x": 0.5, "y": {"importance": 0.2, "std": 0.1}, "z": 1, "flag": "1e-3"}', 'imp.json', catalog);
    expect(o.entries).toEqual([
      { feature: 'x', importance: 0.5 },
      { feature: 'y', importance: 0.2, std: 0.1 },
      { feature: 'flag', importance: 0.001 },
    ]);
    expect(o.problems[0]).toMatchObject({ message: 'row left out: unknown feature "z"', where: { file: 'imp.json', field: 'z' } });
  });

  it('reads tab-separated files with extra columns in any order', () => {
    const r = parseImport('rank\tstd\tFeature\tImportance\n1\t0.1\tx\t3.5\n2\t\tkind\t1\n', 'shap.tsv', catalog);
    expect(r.entries).toEqual([
      { feature: 'x', importance: 3.5, std: 0.1 },
      { feature: 'kind', importance: 1 },
    ]);
  });

  it('rejects numbers that are not plain decimals', () => {
    const r = parseImport('feature,importance\nx,0x1f\ny,Infinity\nflag,"1,5"\nkind,-2.5e-3\n', 'i.csv', catalog);
    expect(r.entries).toEqual([{ feature: 'kind', importance: -0.0025 }]);
    expect(r.problems.map((p) => p.found)).toEqual(['0x1f', 'Infinity', '1,5']);
  });

  it('a file that cannot be read at all is bad input (exit 2)', () => {
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).message;
      }
      throw new Error('expected an InputError');
    };
    expect(fail(() => parseImport('name,score\nx,1\n', 'i.csv', catalog))).toMatch(
      /i\.csv:1: error: the importance file has no header naming its columns[\s\S]*found: {4}name,score/,
    );
    expect(fail(() => parseImport('[{"feature": "x",', 'i.json', catalog))).toMatch(/not valid JSON/);
    expect(fail(() => parseImport('42', 'i.json', catalog))).toMatch(/holds no list of features/);
    expect(fail(() => loadImport(join(DIR, 'no-such-file.csv'), catalog))).toMatch(/cannot read the importance file: ENOENT/);
  });

  it('an empty selection still ranks, with a warning', () => {
    const r = parseImport('feature,importance\nnosuch,1\n', 'i.csv', catalog);
    expect(r.entries).toEqual([]);
    expect(r.problems.at(-1)!.message).toMatch(/no usable row/);
  });
});
