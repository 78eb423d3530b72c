/**
 * A tiny workspace with hand-computable figures: the 14 sessions of the engine test (a..d
 * train, e..n test; cutoff 2026-01-02 13:30) and a handful of rule files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tmpDir } from '../helpers/cli.js';

export const IDS = {
  A: 'aaaaaaaa-0000-4000-8000-000000000001', // approved block: rpm > 100 and country != 'XX'  (test: e g j)
  L: 'aaaaaaaa-0000-4000-8000-000000000002', // approved log:   rpm < 4.5                    (test: h i m n)
  D: 'dddddddd-0000-4000-8000-000000000003', // candidate challenge: rpm between 2.5 and 3.5 (test: h)
  E: 'eeeeeeee-0000-4000-8000-000000000004', // candidate block: rpm > 80                    (test: e g j k l)
  F: 'ffffffff-0000-4000-8000-000000000005', // candidate block: A's terms reordered         (test: e g j)
  G: 'cccccccc-0000-4000-8000-000000000006', // candidate block: rpm between 100 and 200     (train a d; test e g)
  R: 'bbbbbbbb-0000-4000-8000-000000000007', // rejected: rpm > 119                          (test: e g j, like A)
} as const;

const CSV = `session_id,ts,label,country,rpm
a,2026-01-01 00:00:00,1,US,100
b,2026-01-01 06:00:00,0,US,5
c,2026-01-01 07:00:00,0,DE,50
d,2026-01-02 01:00:00,1,US,200
e,2026-01-03 01:00:00,1,US,150
f,2026-01-03 02:00:00,1,DE,20
g,2026-01-03 03:00:00,0,DE,120
h,2026-01-03 04:00:00,0,US,3
i,2026-01-03 05:00:00,0,US,4
j,2026-01-03 06:00:00,,US,300
k,2026-01-04 00:00:00,1,US,90
l,2026-01-04 01:00:00,0,US,95
m,2026-01-04 02:00:00,0,DE,1
n,2026-01-04 03:00:00,,DE,2
`;

const FEATURES = `- name: rpm
  type: number
  unit: requests/min
  description: Requests per minute.
  range: [0, null]
- name: country
  type: category
  description: Country of the client address.
  values: open
`;

export const CONFIG = `data:
  segments: [country]
split:
  test_fraction: 0.5
segments:
  - column: country
  - name: slow
    where: "rpm < 10"
    protected: true
`;

function rule(id: string, status: string, action: string, condition: string, extra = ''): string {
  return `id: ${id}
title: Rule ${id.slice(0, 8)}
status: ${status}
action: ${action}
level: high
condition: "${condition}"
description: A test rule.
rationale: A test rule.
falsepositives: [Unknown]
provenance:
  generator: human:test
  created: 2026-01-0${id.at(-1)}T00:00:00Z
${extra}`;
}

export async function tinyWorkspace(config = CONFIG): Promise<string> {
  const dir = tmpDir('rulegen-impact-');
  writeFileSync(join(dir, 'rulegen.yaml'), config);
  writeFileSync(join(dir, 'features.yaml'), FEATURES);
  writeFileSync(join(dir, 'sessions.csv'), CSV);
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'candidates'));
  const approved = 'review:\n  decision: approved\n  reviewer: test\n  at: 2026-01-05T00:00:00Z\n';
  writeFileSync(join(dir, 'rules', `${IDS.A}.yaml`), rule(IDS.A, 'approved', 'block', "rpm > 100 and country != 'XX'", approved));
  writeFileSync(join(dir, 'rules', `${IDS.L}.yaml`), rule(IDS.L, 'approved', 'log', 'rpm < 4.5', approved));
  writeFileSync(join(dir, 'candidates', `${IDS.D}.yaml`), rule(IDS.D, 'candidate', 'challenge', 'rpm between 2.5 and 3.5'));
  writeFileSync(join(dir, 'candidates', `${IDS.E}.yaml`), rule(IDS.E, 'candidate', 'block', 'rpm > 80'));
  writeFileSync(join(dir, 'candidates', `${IDS.F}.yaml`), rule(IDS.F, 'candidate', 'block', "country != 'XX' and rpm > 100"));
  writeFileSync(join(dir, 'candidates', `${IDS.G}.yaml`), rule(IDS.G, 'candidate', 'block', 'rpm between 100 and 200'));
  writeFileSync(
    join(dir, 'candidates', `${IDS.R}.yaml`),
    rule(
      IDS.R,
      'rejected',
      'block',
      'rpm > 119',
      'review:\n  decision: rejected\n  reviewer: test\n  at: 2026-01-05T00:00:00Z\n  note: hits customers on fast links\n',
    ),
  );
  const r = await runCli(['-C', dir, '--quiet', 'ingest', 'sessions.csv'], dir);
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
}
