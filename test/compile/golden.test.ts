/**
 * Golden SQL: the exact text and parameters per dialect for a set of rules, pinned in
 * fixtures/golden/compile/<dialect>.txt (regenerate with UPDATE_GOLDEN=1 and review the diff),
 * then the duckdb form is run against the fixture and checked against the reference evaluator.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, countStatement, DIALECTS, type CompiledQuery } from '../../src/compile/compile.js';
import { ansiString, postgresString, sparkString } from '../../src/compile/dialects.js';
import { Store } from '../../src/db/store.js';
import { InputError } from '../../src/errors.js';
import { comparison, featureRef } from '../../src/rule/ast.js';
import { evaluate } from '../../src/rule/evaluate.js';
import { parse } from '../../src/rule/parser.js';
import { catalog, createDuckTable, GOLDEN_CONDITIONS, SESSIONS, sessionRows } from './sessions.js';

function render(dialect: (typeof DIALECTS)[number]): string {
  const blocks = GOLDEN_CONDITIONS.map((c) => {
    const q = compile(parse(c), catalog, dialect);
    return `# ${c}\n${q.sql}\n-- parameters: ${JSON.stringify(q.parameters)}\n`;
  });
  return blocks.join('\n');
}

describe('golden SQL per dialect', () => {
  it.each(DIALECTS)('%s', (dialect) => {
    const file = `fixtures/golden/compile/${dialect}.txt`;
    const text = render(dialect);
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
    expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });

  it('pins the design example exactly, inline', () => {
    const e = parse('requests_per_minute > 120 and static_asset_ratio < 0.05');
    expect(compile(e, catalog, 'duckdb')).toEqual({
      sql: 'coalesce((("requests_per_minute" > ?::DOUBLE) and ("static_asset_ratio" < ?::DOUBLE)), false)',
      parameters: [120, 0.05],
    });
    expect(compile(e, catalog, 'postgres')).toEqual({
      sql: 'coalesce((("requests_per_minute" > 120) and ("static_asset_ratio" < 0.05)), false)',
      parameters: [],
    });
    expect(compile(e, catalog, 'trino').sql).toBe('coalesce((("requests_per_minute" > 120) and ("static_asset_ratio" < 0.05)), false)');
    expect(compile(e, catalog, 'spark').sql).toBe('coalesce(((`requests_per_minute` > 120) and (`static_asset_ratio` < 0.05)), false)');
    expect(countStatement(compile(e, catalog, 'spark'), 'sessions', 'spark').sql).toBe(
      'select count(*) as n from `sessions` where coalesce(((`requests_per_minute` > 120) and (`static_asset_ratio` < 0.05)), false)',
    );
  });

  it('returns frozen queries', () => {
    const q = compile(parse('requests_per_minute > 1'), catalog);
    expect(Object.isFrozen(q)).toBe(true);
    expect(Object.isFrozen(q.parameters)).toBe(true);
  });

  it('escapes string literals per dialect', () => {
    expect(ansiString("it's")).toBe("'it''s'");
    expect(ansiString('a\\b')).toBe("'a\\b'");
    expect(postgresString("it's")).toBe("'it''s'");
    expect(postgresString("a\\b'")).toBe("E'a\\\\b'''");
    expect(sparkString("it's \\ ok")).toBe("'it\\'s \\\\ ok'");
  });

  it('refuses an AST that fails the structural checks, whatever built it', () => {
    const cases = [
      comparison('x; drop table sessions', '>', 1),
      comparison('country', '<', 'US'),
      comparison('requests_per_minute', '>', '1; drop table sessions'),
      featureRef('requests_per_minute'),
      featureRef('"requests_per_minute"'),
    ];
    for (const e of cases) {
      for (const d of DIALECTS) expect(() => compile(e, catalog, d), JSON.stringify(e)).toThrow(InputError);
    }
  });
});

describe('the golden duckdb SQL runs and agrees with the evaluator', () => {
  let store: Store;
  const rows = sessionRows();
  beforeAll(async () => {
    store = await Store.open();
    await createDuckTable(store, 'sessions', SESSIONS, rows);
  });
  afterAll(() => store?.close());

  it.each(GOLDEN_CONDITIONS)('%s', async (c) => {
    const e = parse(c);
    const q: CompiledQuery = countStatement(compile(e, catalog, 'duckdb'), 'sessions');
    const got = await store.one(q.sql, q.parameters);
    const want = rows.filter((r) => evaluate(e, r)).length;
    expect(got?.['n']).toBe(want);
  });

  it('the fixture makes the rules hit something and miss something', async () => {
    const hits = GOLDEN_CONDITIONS.map((c) => rows.filter((r) => evaluate(parse(c), r)).length);
    for (const h of hits) {
      expect(h).toBeGreaterThan(0);
      expect(h).toBeLessThan(rows.length);
    }
  });
});
