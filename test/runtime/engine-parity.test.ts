/**
 * The runtime evaluator against the backtest engine (DuckDB) on the fixture workspace's 60,000
 * synthetic sessions: for the repository's rules and for rules over categories, booleans and
 * NULLs, every session's set of matching rules is the one DuckDB computes with the engine's
 * compiled predicates, and the confusion counts that `runBacktest` reports are the runtime's.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/engine.js';
import { resolveWindow } from '../../src/db/window.js';
import { compilePredicate } from '../../src/compile/compile.js';
import { quoteIdent, type Store } from '../../src/db/store.js';
import { buildBundle } from '../../src/release/build.js';
import type { Rule } from '../../src/rule/file.js';
import { loadRuleDir } from '../../src/rules/load.js';
import { decide, loadRuleset, type Ruleset } from '../../src/runtime/index.js';
import { openWorkspace, openWorkspaceStore, type Workspace } from '../../src/workspace.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { ruleOf, testId } from './helpers.js';

const EXTRA = [
  "ua_family in ('python_requests', 'go_http', 'curl') and not js_executed",
  "tls_fingerprint_class not in ('chromium', 'firefox', 'safari') or asn_type = 'hosting'",
  "asn_type != 'residential' and webdriver_flag = true",
  'pointer_events is null and requests_per_minute > 20',
  'not (pointer_events > 3) and cookies_enabled = false',
  'keyboard_nav_ratio is not null and keyboard_nav_ratio between 0 and 0.01 and referrer_present != true',
  "not (ua_family in ('chrome', 'firefox', 'safari', 'edge') or accept_language_present)",
  'robots_txt_fetched or sessions_per_ip >= 50 or ip_reputation_score < 10',
  'static_asset_ratio <= 0.2 and mean_interarrival_ms < 2000 and head_request_ratio != 0',
  "not (asn_type in ('residential', 'mobile')) and not (error_4xx_ratio < 0.05)",
];

let dir: string;
let ws: Workspace;
let store: Store;
let rules: Rule[];
let rs: Ruleset;
let sessions: Record<string, unknown>[];

beforeAll(async () => {
  dir = await exampleWorkspace();
  ws = openWorkspace(dir);
  store = await openWorkspaceStore(ws, { mode: 'read' });
  const repo = loadRuleDir(ws.paths.rules, ws.catalog).map((l) => l.rule!);
  expect(repo).toHaveLength(3);
  rules = [
    ...repo,
    ...EXTRA.map((condition, i) =>
      ruleOf({ id: testId(500 + i), condition, action: i % 2 ? 'challenge' : 'block', stage: i === 0 ? 'shadow' : undefined }, ws.catalog, i),
    ),
  ];
  const bundle = buildBundle({
    version: '1.0.0',
    created: new Date(0),
    generator: 'test',
    gate: ws.config.gate,
    catalog: ws.catalog,
    rules: rules.map((rule) => ({ rule, evidence: null })),
    previous: null,
  });
  rs = loadRuleset(JSON.stringify(bundle));
  // session objects as a service would hold them: every catalog feature, NULL as null
  const cols = ws.catalog.features.map((f) => quoteIdent(f.name)).join(', ');
  sessions = await store.all(`SELECT session_id, label, ${cols} FROM sessions ORDER BY session_id`);
}, 120_000);

afterAll(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('runtime vs the backtest engine', () => {
  it('the fixture sessions hold NULLs, categories and booleans in the features the rules use', () => {
    expect(sessions.length).toBe(60_000);
    const nulls = (f: string) => sessions.filter((s) => s[f] === null).length;
    expect(nulls('pointer_events')).toBeGreaterThan(100);
    expect(sessions.some((s) => typeof s['ua_family'] === 'string')).toBe(true);
    expect(sessions.some((s) => s['webdriver_flag'] === true)).toBe(true);
  });

  it('every session matches exactly the rules DuckDB says it matches', async () => {
    // the engine's predicates (compilePredicate, as backtestTargets builds them), one column per rule
    const preds = rules.map((r) => compilePredicate(r.ast, ws.catalog));
    const duck = await store.all<Record<string, number | string>>(
      `SELECT session_id, ${preds.map((p, i) => `(CASE WHEN ${p.sql} THEN 1 ELSE 0 END) AS h${i}`).join(', ')} FROM sessions ORDER BY session_id`,
      preds.flatMap((p) => p.parameters),
    );
    expect(duck.length).toBe(sessions.length);
    const index = new Map(rules.map((r, i) => [r.id, i]));
    let mismatches = 0;
    const hits = new Array(rules.length).fill(0);
    for (let k = 0; k < sessions.length; k++) {
      const d = rs.evaluate(sessions[k]!);
      expect(d.errors).toEqual([]);
      const got = new Uint8Array(rules.length);
      for (const m of d.matches) got[index.get(m.id)!] = 1;
      for (let i = 0; i < rules.length; i++) {
        if (got[i] !== Number(duck[k]![`h${i}`])) mismatches++;
        hits[i] += got[i]!;
      }
      // the strongest action is that of the acting matches
      const ranks = { log: 1, challenge: 2, block: 3 } as const;
      const best = d.matches.reduce((a, m) => Math.max(a, m.effective ? ranks[m.effective] : 0), 0);
      expect(d.action).toBe([null, 'log', 'challenge', 'block'][best]);
      // the allocation-free entry decides the same
      if (decide(rs, sessions[k]!) !== d.action) mismatches++;
    }
    expect(mismatches).toBe(0);
    // every rule both matches and misses somewhere: no rule passes vacuously
    for (const h of hits) expect(h > 0 && h < sessions.length).toBe(true);
  });

  it('the confusion counts of runBacktest are the runtime decisions counted by label', async () => {
    const window = await resolveWindow(store, ws.config, 'all');
    const engine = await runBacktest(
      store,
      ws.config,
      window,
      rules.map((r) => ({ id: r.id, predicate: compilePredicate(r.ast, ws.catalog) })),
    );
    const counts = rules.map(() => ({ tp: 0, fp: 0, tn: 0, fn: 0, unlabeled_hits: 0 }));
    const index = new Map(rules.map((r, i) => [r.id, i]));
    for (const s of sessions) {
      const hit = new Uint8Array(rules.length);
      for (const m of rs.evaluate(s).matches) hit[index.get(m.id)!] = 1;
      hit.forEach((h, i) => {
        const c = counts[i]!;
        if (s['label'] === 1) h ? c.tp++ : c.fn++;
        else if (s['label'] === 0) h ? c.fp++ : c.tn++;
        else if (h) c.unlabeled_hits++;
      });
    }
    expect(engine.rules.map((r) => r.counts)).toEqual(counts);
  });
});
