/** The `segments:` config and dropDuplicates for propose. */
import { describe, expect, it } from 'vitest';
import { dropDuplicates, type BacktestRun, type Target } from '../../src/backtest/run.js';
import { compilePopulations, presentSegments } from '../../src/backtest/populations.js';
import { parseConfig } from '../../src/config/load.js';
import { populationSpecs, segmentColumns } from '../../src/config/schema.js';
import { makeCatalog } from '../../src/catalog/schema.js';
import { parse } from '../../src/rule/parser.js';

const catalog = makeCatalog([
  { name: 'pointer_events', type: 'number', description: 'Pointer events.', sensitive: false },
  { name: 'keyboard_events', type: 'number', description: 'Key presses.', sensitive: false },
]);

describe('segments: columns and populations', () => {
  const config = parseConfig(
    `data:
  segments: [country, device_class]
segments:
  - column: country
    protected: true
  - column: asn
  - name: keyboard_only
    where: "pointer_events = 0 and keyboard_events > 20"
    protected: true
`,
    'rulegen.yaml',
  );
  it('keeps data.segments as column shorthand and merges protection', () => {
    expect(segmentColumns(config)).toEqual([
      { column: 'country', protected: true },
      { column: 'device_class', protected: false },
      { column: 'asn', protected: false },
    ]);
    expect(populationSpecs(config)).toEqual([{ name: 'keyboard_only', where: 'pointer_events = 0 and keyboard_events > 20', protected: true, index: 2 }]);
  });
  it('compiles a population to a bound-parameter predicate', () => {
    const { populations } = compilePopulations(config, catalog);
    expect(populations[0]!.predicate).toEqual({ sql: '(("pointer_events" = ?::DOUBLE) and ("keyboard_events" > ?::DOUBLE))', parameters: [0, 20] });
  });
  it('skips unprotected columns missing from the table; refuses protected ones', () => {
    expect(presentSegments(config, new Set(['country', 'asn']))).toEqual({ columns: ['country', 'asn'], protectedColumns: new Set(['country']) });
    expect(() => presentSegments(config, new Set(['asn']))).toThrow(/no column "country" in the sessions table, but segments: marks it protected/);
  });
  it('rejects an entry that is neither a column nor a population', () => {
    expect(() => parseConfig('segments:\n  - name: x\n', 'rulegen.yaml')).toThrow(/rulegen\.yaml:2:5/);
  });
});

describe('dropDuplicates (for propose)', () => {
  it('drops the targets marked duplicate, keeps the others in order', () => {
    const t = (id: string): Target => ({ id, title: id, status: 'candidate', condition: 'x', ast: parse('pointer_events > 1') });
    const run = {
      targets: [t('a'), t('b'), t('c')],
      findings: { a: { duplicate: [] }, b: { duplicate: ['duplicate of z (hit-set Jaccard 0.950)'] }, c: { duplicate: [] } },
    } as unknown as BacktestRun;
    const { keep, dropped } = dropDuplicates(run);
    expect(keep.map((k) => k.id)).toEqual(['a', 'c']);
    expect(dropped).toEqual([{ target: run.targets[1], reasons: ['duplicate of z (hit-set Jaccard 0.950)'] }]);
  });
});
