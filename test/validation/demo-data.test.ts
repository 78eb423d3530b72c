/**
 * The issue-12 gate on the demo's data (100,000 sessions over 21 days, seed 1, the demo's
 * rulegen.yaml with the protected keyboard_only population; fast scrapers change behaviour
 * two thirds into the span): planted rules fail where they should.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { segmentsBlock } from '../../src/config/template.js';
import { Store } from '../../src/db/store.js';
import { initWorkspace } from '../../src/init.js';
import { synthesize } from '../../src/synth/generate.js';
import { runCli, tmpDir } from '../helpers/cli.js';

let ws: string;

const ID = {
  harm: 'a0000000-0000-4000-8000-000000000001',
  drift: 'a0000000-0000-4000-8000-000000000002',
  first: 'a0000000-0000-4000-8000-000000000003',
  second: 'a0000000-0000-4000-8000-000000000004',
  reordered: 'a0000000-0000-4000-8000-000000000005',
};

const candidate = (id: string, action: string, condition: string) => `id: ${id}
title: Planted ${id.slice(-1)}
status: candidate
action: ${action}
level: medium
condition: "${condition}"
description: A planted candidate.
rationale: Testing the gate on the demo data.
falsepositives: [Unknown]
provenance:
  generator: human:test
  created: 2026-02-0${id.slice(-1)}T00:00:00Z
`;
const put = (id: string, action: string, condition: string) => writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, action, condition));

beforeAll(async () => {
  ws = tmpDir('rulegen-demo-data-');
  initWorkspace(ws, { cwd: ws });
  const cfg = join(ws, 'rulegen.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(segmentsBlock(false), segmentsBlock(true)));
  mkdirSync(join(ws, 'data'), { recursive: true });
  const mem = await Store.open();
  try {
    await synthesize(mem, { sessions: 100_000, days: 21, seed: 1, out: join(ws, 'data', 'sessions.parquet') });
  } finally {
    mem.close();
  }
  const r = await runCli(['-C', ws, '--quiet', 'ingest', 'data/sessions.parquet'], ws);
  if (r.code !== 0) throw new Error(r.stderr);
  put(ID.harm, 'challenge', 'night_activity_ratio > 0.5 and pointer_events = 0');
  put(ID.drift, 'challenge', 'error_4xx_ratio > 0.1 and static_asset_ratio < 0.05');
}, 60_000);

describe('on the demo data', () => {
  it('a rule that harms the protected population fails on it; one whose bots changed mid-window fails stability', async () => {
    const r = await runCli(['-C', ws, '--json', 'review'], ws);
    expect(r.code, r.stderr).toBe(0);
    const byId = new Map(JSON.parse(r.stdout).candidates.map((c: { id: string }) => [c.id, c]));
    const harm = byId.get(ID.harm) as { pass: boolean; fpr_upper95: number; findings: { segment: string[] } };
    expect(harm.pass).toBe(false);
    expect(harm.fpr_upper95).toBeLessThanOrEqual(0.001); // within max_fpr overall: only the population shows it
    expect(harm.findings.segment[0]).toMatch(
      /^FPR on protected population keyboard_only is [\d.]+% \(\d+ of \d+ humans\): its lower 95% bound [\d.]+% exceeds segment_max_fpr 0\.300%$/,
    );
    const drift = byId.get(ID.drift) as { pass: boolean; findings: { stability: string[] } };
    expect(drift.pass).toBe(false);
    expect(drift.findings.stability[0]).toMatch(/^recall collapsed on 2026-01-15: /);
  });

  it('approving a candidate that breaks the set gate is refused; a reordered duplicate of an approved rule is caught', async () => {
    put(ID.first, 'block', "ua_family in ('headless_chrome', 'curl', 'python_requests', 'go_http') and not accept_language_present");
    put(ID.second, 'challenge', "pointer_events = 0 and interarrival_cv < 0.2 and asn_type = 'hosting'");
    const a = await runCli(['-C', ws, 'approve', ID.first, '--reviewer', 'ann', '--no-docs'], ws);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/incremental FPR [\d.]+% \(\d+ humans only this rule would hit\), incremental recall [\d.]+%/);
    const b = await runCli(['-C', ws, 'approve', ID.second, '--reviewer', 'ann', '--no-docs'], ws);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(
      /with this rule the deployed set hits \d+ of \d+ humans \(\d+ only by this rule\): FPR upper 95% bound [\d.]+% exceeds set_max_fpr 0\.100%/,
    );
    put(ID.reordered, 'block', "not accept_language_present and ua_family in ('headless_chrome', 'curl', 'python_requests', 'go_http')");
    const c = await runCli(['-C', ws, 'check', '--candidates'], ws);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(new RegExp(`FAIL a0000000 Planted 5.*\\n(.*\\n)*?\\s+- duplicate of ${ID.first} \\(hit-set Jaccard 1\\.000\\)`));
    // the approved set itself still passes
    expect(c.stdout).toMatch(/deployed set \(1 approved block\/challenge rule\): .*: passes the set gate/);
  });
});
