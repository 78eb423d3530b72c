/**
 * `rulegen explain` on a tiny hand-made workspace: golden text for a hit, a miss by one term,
 * a null value, a category and a boolean (fixtures/golden/explain/*; regenerate with
 * UPDATE_GOLDEN=1 and review the diff), plus JSON, sensitive values, samples and bad input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tmpDir } from '../helpers/cli.js';
import { goldenIn } from '../helpers/golden.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { parseCondition } from '../../src/rule/parser.js';
import { explainRow, marginOf } from '../../src/explain/explain.js';
import { comparison, between } from '../../src/rule/ast.js';

const GOLDEN = 'fixtures/golden/explain';
const RULE = '5e5e5e5e-0000-4000-8000-000000000001';
const RISKY = '6f6f6f6f-0000-4000-8000-000000000002';

const FEATURES = `- name: requests_per_minute
  type: number
  unit: requests/min
  description: Requests per minute.
  range: [0, null]
- name: static_asset_ratio
  type: number
  unit: ratio
  label: static assets
  description: Share of requests for static assets.
  range: [0, 1]
- name: ua_family
  type: category
  label: claimed browser
  description: Browser family claimed by the user agent.
  values: open
- name: webdriver_flag
  type: boolean
  label: webdriver flag set
  description: navigator.webdriver was true.
- name: ip_reputation_score
  type: number
  unit: score
  label: IP risk score
  description: Risk score of the client address.
  range: [0, 100]
  sensitive: true
`;

// Sessions: hit (tp), miss by one term (fn), null value, category miss, boolean hit (fp).
const CSV = `session_id,ts,label,requests_per_minute,static_asset_ratio,ua_family,webdriver_flag,ip_reputation_score
hit-1,2026-01-03 01:00:00,1,180,0.02,python_requests,false,80
miss-1,2026-01-03 02:00:00,1,95,0.01,curl,false,75
null-1,2026-01-03 03:00:00,1,150,,curl,false,60
cat-1,2026-01-03 04:00:00,0,200,0.01,chrome,false,10
bool-1,2026-01-03 05:00:00,0,130,0.03,chrome,true,20
old-1,2026-01-01 01:00:00,0,3,0.6,chrome,false,5
old-2,2026-01-01 02:00:00,1,300,0.0,curl,false,90
`;

function rule(id: string, condition: string): string {
  return `id: ${id}
title: Fast clients without assets
status: candidate
action: challenge
level: high
condition: "${condition}"
description: A test rule.
rationale: A test rule.
falsepositives: [Unknown]
`;
}

let dir: string;

beforeAll(async () => {
  dir = tmpDir('rulegen-explain-');
  writeFileSync(join(dir, 'rulegen.yaml'), 'data:\n  segments: []\nsplit:\n  test_fraction: 0.5\n');
  writeFileSync(join(dir, 'features.yaml'), FEATURES);
  writeFileSync(join(dir, 'sessions.csv'), CSV);
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'candidates'));
  writeFileSync(
    join(dir, 'candidates', `${RULE}.yaml`),
    rule(RULE, "requests_per_minute > 100 and static_asset_ratio < 0.05 and (ua_family in ('python_requests', 'curl') or webdriver_flag)"),
  );
  writeFileSync(join(dir, 'candidates', `${RISKY}.yaml`), rule(RISKY, 'ip_reputation_score > 50 and requests_per_minute > 100'));
  const r = await runCli(['-C', dir, '--quiet', 'ingest', 'sessions.csv'], dir);
  if (r.code !== 0) throw new Error(r.stderr);
}, 20_000);

const golden = goldenIn(GOLDEN);

describe('explain: golden text', () => {
  for (const [name, id] of [
    ['hit', 'hit-1'],
    ['miss-one-term', 'miss-1'],
    ['null-value', 'null-1'],
    ['category', 'cat-1'],
    ['boolean', 'bool-1'],
  ] as const) {
    it(name, async () => {
      const r = await runCli(['-C', dir, 'explain', RULE.slice(0, 8), '--session', id], dir);
      expect(r.code, r.stderr).toBe(0);
      golden(`${name}.txt`, r.stdout);
    });
  }

  it('sensitive values are hidden unless --show-sensitive', async () => {
    let r = await runCli(['-C', dir, 'explain', RISKY, '--session', 'hit-1', 'cat-1'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/80 IP risk|30 IP risk/);
    expect(r.stdout).toContain('IP risk score hidden (sensitive; --show-sensitive shows it)');
    golden('sensitive.txt', r.stdout);
    r = await runCli(['-C', dir, 'explain', RISKY, '--session', 'hit-1', '--show-sensitive'], dir);
    expect(r.stdout).toContain('80 IP risk score, 30 IP risk score past the threshold');
  });
});

describe('explain: JSON, samples, bad input', () => {
  it('--json carries every term with value, threshold, margin and held', async () => {
    const r = await runCli(['-C', dir, '--json', 'explain', RULE, '--session', 'miss-1', 'hit-1'], dir);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sessions.map((s: { id: string }) => s.id)).toEqual(['miss-1', 'hit-1']);
    const miss = j.sessions[0];
    expect(miss).toMatchObject({ outcome: 'fn', hit: false, label: 1, window: 'test', stopped_by: [0] });
    expect(miss.terms[0]).toEqual({
      index: 0,
      condition: 'requests_per_minute > 100',
      feature: 'requests_per_minute',
      type: 'number',
      value: 95,
      hidden: false,
      threshold: '100',
      margin: -5,
      held: false,
      wanted: true,
    });
    expect(miss.terms.map((t: { held: boolean }) => t.held)).toEqual([false, true, true, false]);
    expect(j.sessions[1]).toMatchObject({ outcome: 'tp', hit: true, stopped_by: [] });
    expect(j.disagreements).toEqual([]);
  });

  it('--sample draws the same sessions every time, from the window asked', async () => {
    const a = await runCli(['-C', dir, '--json', 'explain', RULE, '--sample', 'fp', '3'], dir);
    expect(a.code, a.stderr).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j.sessions.map((s: { id: string }) => s.id)).toEqual(['bool-1']);
    const b = await runCli(['-C', dir, '--json', 'explain', 'requests_per_minute > 100', '--sample', 'tp', '--window', 'all'], dir);
    const ids = JSON.parse(b.stdout).sessions.map((s: { id: string }) => s.id);
    expect([...ids].sort()).toEqual(['hit-1', 'null-1', 'old-2']);
    const c = await runCli(['-C', dir, '--json', 'explain', 'requests_per_minute > 100', '--sample', 'tp', '--window', 'all'], dir);
    expect(JSON.parse(c.stdout).sessions.map((s: { id: string }) => s.id)).toEqual(ids);
    const fn = await runCli(['-C', dir, '--json', 'explain', RULE, '--sample', 'fn'], dir);
    expect(
      JSON.parse(fn.stdout)
        .sessions.map((s: { id: string }) => s.id)
        .sort(),
    ).toEqual(['miss-1', 'null-1']);
  });

  it('unknown session ids are listed, exit 2', async () => {
    const r = await runCli(['-C', dir, 'explain', RULE, '--session', 'hit-1', 'nope-1', 'nope-2'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 unknown session ids');
    expect(r.stderr).toContain('unknown session id "nope-1"');
    expect(r.stderr).toContain('unknown session id "nope-2"');
  });

  it('bad flags: exit 2', async () => {
    expect((await runCli(['-C', dir, 'explain', RULE], dir)).code).toBe(2);
    expect((await runCli(['-C', dir, 'explain', RULE, '--sample', 'xx'], dir)).code).toBe(2);
    expect((await runCli(['-C', dir, 'explain', RULE, '--sample', 'fp', '0'], dir)).code).toBe(2);
    expect((await runCli(['-C', dir, 'explain', 'no_such_feature > 1', '--session', 'hit-1'], dir)).code).toBe(2);
  });
});

describe('explain: margins and blockers (pure)', () => {
  it('margins are signed towards the holding side', () => {
    expect(marginOf(comparison('x', '>', 10), 12)).toBe(2);
    expect(marginOf(comparison('x', '<=', 10), 12)).toBe(-2);
    expect(marginOf(between('x', 1, 5), 0)).toBe(-1);
    expect(marginOf(between('x', 1, 5), 4)).toBe(1);
    expect(marginOf(comparison('x', '>', 10), null)).toBeNull();
  });
  it('a term under not that held is what stopped the rule', async () => {
    const cat = loadCatalog(join(dir, 'features.yaml'));
    const p = parseCondition('requests_per_minute > 100 and not webdriver_flag');
    if (!p.ok) throw new Error('parse');
    const e = explainRow(p.ast, cat, { requests_per_minute: 150, webdriver_flag: true });
    expect(e.hit).toBe(false);
    expect(e.stopped_by).toEqual([1]);
    expect(e.terms[1]).toMatchObject({ held: true, wanted: false });
  });
});
