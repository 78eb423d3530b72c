import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tmpDir } from '../helpers/cli.js';

let ws: string;
beforeAll(() => {
  ws = tmpDir();
  writeFileSync(join(ws, 'rulegen.yaml'), 'data:\n  table: traffic\n');
  cpSync('fixtures/rules/features.yaml', join(ws, 'features.yaml'));
  mkdirSync(join(ws, 'rules'));
  mkdirSync(join(ws, 'candidates'));
  cpSync('fixtures/rules/good/f1b372a0-23db-48be-bd10-5782e88648bc.yaml', join(ws, 'rules', 'f1b372a0-23db-48be-bd10-5782e88648bc.yaml'));
  cpSync('fixtures/rules/good/4903280f-0467-43c7-8d4a-ff81ba700839.yaml', join(ws, 'candidates', 'headless.yaml'));
});

describe('rulegen sql', () => {
  it('compiles an expression for duckdb, with its parameters', async () => {
    const r = await runCli(['sql', 'requests_per_minute > 120 and static_asset_ratio < 0.05'], ws);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('coalesce((("requests_per_minute" > ?::DOUBLE) and ("static_asset_ratio" < ?::DOUBLE)), false)\n-- parameters: [120,0.05]\n');
  });

  it('joins the words of an unquoted expression', async () => {
    const r = await runCli(['sql', '--dialect', 'trino', 'js_executed', 'or', 'headless_ua'], ws);
    expect(r.stdout).toBe('coalesce((("js_executed") or ("headless_ua")), false)\n');
  });

  it('compiles a rule by id (in rules/ or, under another file name, in candidates/)', async () => {
    const r = await runCli(['sql', 'f1b372a0-23db-48be-bd10-5782e88648bc', '--dialect', 'spark'], ws);
    expect(r.stdout).toBe('coalesce(((`requests_per_minute` > 120) and (`static_asset_ratio` < 0.05)), false)\n');
    const c = await runCli(['--json', 'sql', '4903280f-0467-43c7-8d4a-ff81ba700839'], ws);
    expect(JSON.parse(c.stdout)).toEqual({
      dialect: 'duckdb',
      rule: '4903280f-0467-43c7-8d4a-ff81ba700839',
      condition: "headless_ua and not js_executed and device_class in ('desktop', 'bot')",
      sql: 'coalesce((("headless_ua") and (not coalesce(("js_executed"), false)) and ("device_class" in (?::VARCHAR, ?::VARCHAR))), false)',
      parameters: ['desktop', 'bot'],
    });
  });

  it('compiles a rule file, as a whole statement over the configured table', async () => {
    const r = await runCli(['sql', 'rules/f1b372a0-23db-48be-bd10-5782e88648bc.yaml', '--dialect', 'postgres', '--statement'], ws);
    expect(r.stdout).toBe('select count(*) as n from "traffic" where coalesce((("requests_per_minute" > 120) and ("static_asset_ratio" < 0.05)), false)\n');
  });

  it('prints each of several rules (files or ids), headed by id and title; --json gives an array', async () => {
    const r = await runCli(['sql', 'rules/f1b372a0-23db-48be-bd10-5782e88648bc.yaml', 'candidates/headless.yaml', '--dialect', 'trino'], ws);
    expect(r.code).toBe(0);
    const blocks = r.stdout.split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(/^-- f1b372a0-23db-48be-bd10-5782e88648bc: .+\ncoalesce\(\(\("requests_per_minute" > 120\)/);
    expect(blocks[1]).toMatch(/^-- 4903280f-0467-43c7-8d4a-ff81ba700839: .+\ncoalesce\(\(\("headless_ua"\)/);
    const j = await runCli(['--json', 'sql', 'f1b372a0', '4903280f-0467-43c7-8d4a-ff81ba700839'], ws);
    expect(j.code).toBe(0);
    const docs = JSON.parse(j.stdout);
    expect(docs.map((d: { rule: string }) => d.rule)).toEqual(['f1b372a0-23db-48be-bd10-5782e88648bc', '4903280f-0467-43c7-8d4a-ff81ba700839']);
    expect(docs[1].parameters).toEqual(['desktop', 'bot']);
    expect(typeof docs[0].title).toBe('string');
    // one bad argument fails the call with every problem, printing nothing
    const bad = await runCli(['sql', 'f1b372a0', 'rules/nope.yaml', '00000000-0000-4000-8000-000000000000'], ws);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/cannot read the rule file[\s\S]*unknown rule id/);
  });

  it('prints warnings on stderr and still compiles', async () => {
    const r = await runCli(['sql', "asn_org = 'x'"], ws);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: "asn_org" is marked sensitive/);
  });

  it('exits 2 with a located message on bad input', async () => {
    const bad = await runCli(['sql', 'x; drop table sessions'], ws);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^rulegen: <expression>:1:2: error: invalid condition: unexpected character ';'/);
    const unknown = await runCli(['sql', 'request_per_minute > 1'], ws);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown feature "request_per_minute" \(did you mean "requests_per_minute"\?\)/);
    const id = await runCli(['sql', '00000000-0000-4000-8000-000000000000'], ws);
    expect(id.code).toBe(2);
    expect(id.stderr).toMatch(/unknown rule id/);
    const dialect = await runCli(['sql', 'js_executed', '--dialect', 'mysql'], ws);
    expect(dialect.code).toBe(2);
    const file = await runCli(['sql', 'rules/nope.yaml'], ws);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/cannot read the rule file/);
  });
});
