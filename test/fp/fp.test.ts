/**
 * `rulegen fp` on synthetic data (the example workspace: 60,000 sessions, seed 11). A planted
 * candidate, "no pointer movement and a steady pace", catches headless browsers and also hits
 * the assistive_tech human archetype (screen readers: no pointer, steady pace, keyboard
 * navigation). Synth knows each session's archetype (a column that is not a feature), so the
 * test can check that the top scenario is that archetype and names its distinguishing feature,
 * and that the best modification cuts >= 80% of the false positives keeping >= 90% of the bots.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { Store } from '../../src/db/store.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { compilePredicate } from '../../src/compile/compile.js';
import { parseCondition } from '../../src/rule/parser.js';
import { loadRuleFile } from '../../src/rules/load.js';
import { and } from '../../src/rule/ast.js';
import { tighten } from '../../src/fp/fp.js';
import { sqlTimestamp } from '../../src/db/window.js';

const PLANTED = '9a9a9a9a-0000-4000-8000-000000000001';
const CONDITION = 'pointer_events <= 2 and interarrival_cv < 0.8';

let dir: string;

beforeAll(async () => {
  dir = await exampleWorkspace({ rules: false });
  writeFileSync(
    join(dir, 'candidates', `${PLANTED}.yaml`),
    `id: ${PLANTED}
title: No pointer movement at a steady pace
status: candidate
action: challenge
level: high
condition: "${CONDITION}"
description: Sessions without pointer movement whose requests come at regular intervals.
rationale: Headless browsers do not move a mouse and pace their requests evenly.
falsepositives: [Unknown]
tags: [headless]
`,
  );
}, 60_000);

/** Ground truth: the labelled humans the planted rule hits before `cutoff` (the train window) where `condition` holds, per archetype. */
async function archetypesOf(condition: string, cutoff: string): Promise<Record<string, number>> {
  const catalog = loadCatalog(join(dir, 'features.yaml'));
  const rule = parseCondition(CONDITION);
  const extra = parseCondition(condition);
  if (!rule.ok || !extra.ok) throw new Error(condition);
  const pred = compilePredicate(and(rule.ast, extra.ast), catalog);
  const store = await Store.open();
  try {
    const rows = await store.all<{ archetype: string; n: number }>(
      `SELECT archetype, count(*) AS n FROM read_parquet(?) WHERE label = 0 AND ts < ?::TIMESTAMP AND ${pred.sql} GROUP BY archetype`,
      [join(dir, 'data', 'sessions.parquet'), sqlTimestamp(new Date(cutoff)), ...pred.parameters],
    );
    return Object.fromEntries(rows.map((r) => [r.archetype, Number(r.n)]));
  } finally {
    store.close();
  }
}

describe('rulegen fp on the planted candidate', () => {
  it('names the human archetype the rule hits, and the best fix cuts >= 80% of FPs keeping >= 90% of TPs', async () => {
    const r = await runCli(['-C', dir, '--json', 'fp', PLANTED], dir);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.window.name).toBe('train');
    expect(j.fp).toBeGreaterThan(200);
    // ground truth: the false positives are mostly assistive_tech
    const all = await archetypesOf('pointer_events is not null or pointer_events is null', j.window.to);
    const fps = Object.values(all).reduce((a, b) => a + b, 0);
    expect(fps).toBe(j.fp);
    expect(all['assistive_tech']! / fps).toBeGreaterThan(0.7);
    // the top scenario is that archetype, named by its distinguishing feature (keyboard navigation: 0.9 vs 0.02 for bots)
    const top = j.scenarios[0];
    expect(top.condition).toMatch(/keyboard_nav_ratio/);
    expect(top.description).toMatch(/^\d+% of false positives: .*keyboard navigation/);
    const covered = await archetypesOf(top.condition, j.window.to);
    const n = Object.values(covered).reduce((a, b) => a + b, 0);
    expect(covered['assistive_tech']! / n).toBeGreaterThan(0.85);
    expect(top.share).toBeGreaterThan(0.6);
    // the best modification, on the analysis window and on the test window
    const best = j.modifications[j.best];
    expect(best.keeps_tp).toBe(true);
    for (const e of [best.window, best.test]) {
      expect(e.fp_cut).toBeGreaterThanOrEqual(0.8);
      expect(e.tp_kept).toBeGreaterThanOrEqual(0.9);
    }
    expect(best.test.window).toBe('test');
    // the profile: per feature, segment and day
    expect(j.profile.features[0].auc).toBeGreaterThan(0.8);
    expect(j.profile.segments.some((s: { column: string }) => s.column === 'country')).toBe(true);
    expect(j.profile.days.length).toBeGreaterThan(5);
    // text output says the same in words
    const t = await runCli(['-C', dir, 'fp', PLANTED], dir);
    expect(t.stdout).toMatch(/1\. \d+% of false positives: .*keyboard navigation/);
    expect(t.stdout).toContain('[best]');
    expect(t.stdout).toContain('not written: `rulegen fp --write`');
  }, 20_000);

  it('--write writes derived candidates with before/after evidence', async () => {
    const r = await runCli(['-C', dir, '--json', 'fp', PLANTED, '--write'], dir);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.written.length).toBeGreaterThan(0);
    const catalog = loadCatalog(join(dir, 'features.yaml'));
    for (const w of j.written) {
      const load = loadRuleFile(w.file, catalog);
      expect(load.problems.filter((p) => p.severity === 'error')).toEqual([]);
      const doc = parse(readFileSync(w.file, 'utf8'));
      expect(doc.related).toEqual([{ id: PLANTED, type: 'derived' }]);
      expect(doc.status).toBe('candidate');
      expect(doc.provenance.fp_analysis.effect.before.fp).toBe(j.fp);
      expect(doc.backtest.data.window).toBe('test');
      expect(doc.backtest.counts.tp).toBe(j.modifications[w.modification].test.after.tp);
    }
  }, 20_000);

  it('a rule with no false positives says so (exit 0)', async () => {
    // synth labels carry some noise, so every real rule hits a few humans; this one hits nobody
    const r = await runCli(['-C', dir, 'fp', 'requests_per_minute > 100000'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no false positives on this window');
  });

  it('bad input: exit 2', async () => {
    expect((await runCli(['-C', dir, 'fp', '9a9a9a9a-ffff'], dir)).code).toBe(2);
    expect((await runCli(['-C', dir, 'fp', PLANTED, '--window', 'later'], dir)).code).toBe(2);
  });
});

describe('tighten', () => {
  const p = (s: string) => {
    const r = parseCondition(s);
    if (!r.ok) throw new Error(s);
    return r.ast;
  };
  it("moves the rule's own threshold when the scenario bounds the same feature the other way", () => {
    const t = tighten(p('a < 0.8 and b > 1'), p('a >= 0.6'));
    expect(t).toEqual(p('a < 0.6 and b > 1'));
    expect(tighten(p('b > 1'), p('b <= 5'))).toEqual(p('b > 5'));
    expect(tighten(p('a < 0.8'), p('c >= 0.6'))).toBeUndefined();
    expect(tighten(p('a < 0.8'), p('a <= 0.6'))).toBeUndefined();
  });
});

describe('refineRule (the offline half of propose --refine)', () => {
  it('returns the measured modifications of a failing rule, best first', async () => {
    const { refineRule } = await import('../../src/fp/refine.js');
    const { openWorkspace, openWorkspaceStore } = await import('../../src/workspace.js');
    const ws = openWorkspace(dir);
    const store = await openWorkspaceStore(ws, { mode: 'read' });
    try {
      const p = parseCondition(CONDITION);
      if (!p.ok) throw new Error('parse');
      const out = await refineRule(store, ws.config, ws.catalog, p.ast);
      expect(out.length).toBeGreaterThan(0);
      expect(out[0]!.window.fp_cut).toBeGreaterThanOrEqual(0.8);
      expect(out[0]!.evidence[0]!.condition).toMatch(/keyboard_nav_ratio/);
      for (const r of out) expect(r.window.tp_kept).toBeGreaterThanOrEqual(0.95);
    } finally {
      store.close();
    }
  }, 20_000);
});
