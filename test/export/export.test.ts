/**
 * Export targets, round-tripped: the sql-view statement is created and queried on DuckDB over
 * the fixture sessions, the JsonLogic document is evaluated by json-logic-js (the reference
 * implementation from jsonlogic.com); both must tag every session exactly as the runtime
 * evaluator decides it — rule ids, shadow rules and the strongest action.
 */
import jsonLogic from 'json-logic-js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCatalog, type Catalog } from '../../src/catalog/schema.js';
import { quoteIdent, Store } from '../../src/db/store.js';
import { jsonLogicExport, jsonLogicOf } from '../../src/export/json-logic.js';
import type { ExportRule } from '../../src/export/rules.js';
import { sqlView } from '../../src/export/sql-view.js';
import { buildBundle, stageOf } from '../../src/release/build.js';
import { loadRuleDir } from '../../src/rules/load.js';
import { loadRuleset, type Ruleset } from '../../src/runtime/index.js';
import { openWorkspace, type Workspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { ruleOf, testId } from '../runtime/helpers.js';

const EXTRA: { condition: string; action: 'log' | 'challenge' | 'block'; stage?: 'shadow' | 'challenge' }[] = [
  { condition: "ua_family in ('python_requests', 'go_http', 'curl') and not js_executed", action: 'block', stage: 'shadow' },
  { condition: "tls_fingerprint_class not in ('chromium', 'firefox', 'safari') or asn_type = 'hosting'", action: 'log' },
  { condition: 'pointer_events is null and requests_per_minute > 20', action: 'block', stage: 'challenge' },
  { condition: 'not (pointer_events > 3) and cookies_enabled = false and referrer_present != true', action: 'challenge' },
  // hostile text stays data: quotes, a backslash, a question mark (the DuckDB placeholder)
  { condition: "ua_family in ('it''s', 'a\\b', '?', '?::VARCHAR') or (keyboard_nav_ratio between 0 and 0.001 and asn_type != 'residential')", action: 'block' },
];

let dir: string;
let ws: Workspace;
let catalog: Catalog;
let rules: ExportRule[];
let rs: Ruleset;
let store: Store;
let sessions: Record<string, unknown>[];

beforeAll(async () => {
  dir = await exampleWorkspace();
  ws = openWorkspace(dir);
  // ua_family's values opened, so that hostile strings can be rule literals
  catalog = makeCatalog(ws.catalog.features.map((f) => (f.name === 'ua_family' ? { ...f, values: 'open' as const } : f)));
  const loaded = [...loadRuleDir(ws.paths.rules, ws.catalog).map((l) => l.rule!), ...EXTRA.map((e, i) => ruleOf({ ...e, id: testId(700 + i) }, catalog, i))];
  // in id order, as the bundle (and so the runtime) and workspaceExportRules list them
  loaded.sort((a, b) => (a.id < b.id ? -1 : 1));
  rules = loaded.map((r) => ({ id: r.id, title: r.title, action: r.action, stage: stageOf(r), ast: r.ast }));
  rs = loadRuleset(
    buildBundle({
      version: '1',
      created: new Date(0),
      generator: 'test',
      gate: ws.config.gate,
      catalog,
      rules: loaded.map((rule) => ({ rule, evidence: null })),
      previous: null,
    }),
  );
  store = await Store.open();
  await store.run(`CREATE TABLE sessions AS SELECT * FROM read_parquet('${join(dir, 'data', 'sessions.parquet').replaceAll("'", "''")}')`);
  sessions = await store.all(`SELECT session_id, ${ws.catalog.features.map((f) => quoteIdent(f.name)).join(', ')} FROM sessions ORDER BY session_id`);
}, 120_000);

afterAll(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the runtime decides for a session, as the view's three columns. */
function expected(s: Record<string, unknown>): [string | null, string | null, string | null] {
  const d = rs.evaluate(s);
  expect(d.errors).toEqual([]);
  const acting = d.matches.filter((m) => m.effective !== null).map((m) => m.id);
  const shadow = d.matches.filter((m) => m.effective === null).map((m) => m.id);
  return [acting.join(',') || null, shadow.join(',') || null, d.action];
}

describe('export --target sql-view', () => {
  it('DuckDB: the view tags every session as the runtime decides', async () => {
    const text = sqlView(rules, catalog, { dialect: 'duckdb', table: 'sessions' });
    expect(text).toMatch(/^-- rulegen export --target sql-view --dialect duckdb: 8 rules\n/);
    expect(text).toContain("'?::VARCHAR'::VARCHAR");
    expect(text).toContain("'it''s'::VARCHAR");
    await store.run(text);
    const rows = await store.all<{ session_id: number; rulegen_rule_ids: string | null; rulegen_shadow_ids: string | null; rulegen_action: string | null }>(
      'SELECT session_id, rulegen_rule_ids, rulegen_shadow_ids, rulegen_action FROM rulegen_decisions ORDER BY session_id',
    );
    expect(rows.length).toBe(sessions.length);
    let wrong = 0;
    const seen = new Set<string | null>();
    rows.forEach((r, k) => {
      const [ids, shadow, action] = expected(sessions[k]!);
      if (r.rulegen_rule_ids !== ids || r.rulegen_shadow_ids !== shadow || r.rulegen_action !== action) wrong++;
      seen.add(r.rulegen_action);
    });
    expect(wrong).toBe(0);
    expect(seen).toEqual(new Set([null, 'log', 'challenge', 'block']));
  });

  it('writes the same view for postgres, trino and spark with their own quoting', async () => {
    for (const dialect of ['postgres', 'trino', 'spark'] as const) {
      const text = sqlView(rules, catalog, { dialect, table: 'sessions', view: 'tags' });
      expect(text).toContain(dialect === 'spark' ? 'create or replace view `tags` as' : 'create or replace view "tags" as');
      expect(text).toContain(dialect === 'spark' ? "'it\\'s'" : "'it''s'");
      expect(text).toContain(dialect === 'postgres' ? "E'a\\\\b'" : dialect === 'spark' ? "'a\\\\b'" : "'a\\b'");
    }
    const cli = await runCli(['-C', dir, 'export', '--target', 'sql-view', '--dialect', 'trino'], dir);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('from "sessions" as t;');
    const bad = await runCli(['-C', dir, 'export', '--target', 'sql-view', '--dialect', 'oracle'], dir);
    expect(bad.code).toBe(2);
  });
});

describe('export --target json-logic', () => {
  it('json-logic-js evaluates every rule on every session as the runtime does, NULLs included', () => {
    const doc = JSON.parse(JSON.stringify(jsonLogicExport(rules))) as ReturnType<typeof jsonLogicExport>;
    expect(doc.format).toBe('json-logic');
    const rank = { log: 1, challenge: 2, block: 3 } as const;
    let wrong = 0;
    // every 3rd session keeps the test well under its time budget; NULLs are frequent enough
    for (let k = 0; k < sessions.length; k += 3) {
      const s = sessions[k]!;
      const hits = doc.rules.filter((r) => jsonLogic.truthy(jsonLogic.apply(r.logic, s)));
      const acting = hits.filter((r) => r.effective !== null);
      const best = acting.reduce((a, r) => Math.max(a, rank[r.effective as keyof typeof rank]), 0);
      const got: [string | null, string | null, string | null] = [
        acting.map((r) => r.id).join(',') || null,
        hits
          .filter((r) => r.effective === null)
          .map((r) => r.id)
          .join(',') || null,
        [null, 'log', 'challenge', 'block'][best]!,
      ];
      const want = expected(s);
      if (got.join('|') !== want.join('|')) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('guards every comparison against null (JsonLogic would read null < 5 as true)', () => {
    const r = ruleOf({ condition: 'requests_per_minute < 5' }, ws.catalog);
    const logic = jsonLogicOf(r.ast);
    expect(logic).toEqual({ and: [{ '!==': [{ var: 'requests_per_minute' }, null] }, { '<': [{ var: 'requests_per_minute' }, 5] }] });
    expect(jsonLogic.apply({ '<': [{ var: 'requests_per_minute' }, 5] }, { requests_per_minute: null })).toBe(true);
    expect(jsonLogic.truthy(jsonLogic.apply(logic, { requests_per_minute: null }))).toBe(false);
    expect(jsonLogic.truthy(jsonLogic.apply(logic, {}))).toBe(false);
    const negated = jsonLogicOf(ruleOf({ condition: 'not requests_per_minute < 5' }, ws.catalog).ast);
    expect(jsonLogic.truthy(jsonLogic.apply(negated, { requests_per_minute: null }))).toBe(true);
  });

  it('the CLI writes the document', async () => {
    const r = await runCli(['-C', dir, 'export', '--target', 'json-logic'], dir);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    // approved rules only: the example's 3b0d6c2e is deprecated
    expect(doc.rules.map((x: { id: string }) => x.id)).toEqual(['5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32', '9c4e1b28-6a7d-4f03-8e52-1b9a3c7d5e43']);
    const bad = await runCli(['-C', dir, 'export', '--target', 'yaml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected: sql-view or json-logic');
  });
});
