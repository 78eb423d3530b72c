/**
 * Issue 16, item 6: a rule's "who could be matched by mistake" shows the measured FP scenarios
 * (shares, conditions; from `rulegen fp` in its provenance, or a `propose --refine` round) beside
 * the authored ones, and the report has a per-rule FP section. Golden Markdown in
 * fixtures/golden/docs/fp-*.md (UPDATE_GOLDEN=1 regenerates; review the diff).
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/config/load.js';
import { parseRuleFile } from '../../src/rule/file.js';
import { renderRuleMarkdown } from '../../src/report/docs.js';
import { loadTemplates } from '../../src/report/templating.js';
import { reportView, type DocsInput } from '../../src/report/view.js';
import { goldenIn } from '../helpers/golden.js';

const GOLDEN = 'fixtures/golden/docs';
const catalog = loadCatalog('fixtures/workspace/features.yaml');
const config = loadConfig('fixtures/workspace');

const BASE = `id: 5b0c4d2e-8f1a-4c3b-9d2e-1f0a9b8c7d6e
title: No pointer at a steady pace, keyboard users excluded
status: approved
action: challenge
level: high
condition: pointer_events <= 2 and interarrival_cv < 0.8 and not (keyboard_nav_ratio >= 0.14)
description: Sessions without pointer movement at a steady pace, except keyboard users.
rationale: Headless browsers neither move a pointer nor navigate by keyboard.
falsepositives:
  - People on kiosks that reload a page on a timer
tags: [headless, fp-derived]
related: [{id: 9a9a9a9a-0000-4000-8000-000000000001, type: derived}]
review: {decision: approved, reviewer: Ann Example, at: 2026-01-20T10:00:00.000Z, note: null, override: null}
`;

const OFFLINE =
  `${BASE}provenance:
  generator: offline:fp-exclusion
  created: 2026-01-19T09:00:00.000Z
  derived_from: {id: 9a9a9a9a-0000-4000-8000-000000000001, condition: pointer_events <= 2 and interarrival_cv < 0.8}
  fp_analysis:
    window: {name: train, from: 2026-01-01T00:00:00.000Z, to: 2026-01-10T00:00:00.000Z}
    false_positives: 412
    true_positives: 2960
    scenarios:
      - {description: "84% of false positives: at least 0.14 keyboard navigation | ratio", condition: keyboard_nav_ratio >= 0.14, fp: 346, ` +
  `share: 0.839806, tp: 31}
    remaining:
      - {description: "9% of false positives: from a hosting network", condition: "asn_type in ('hosting')", fp: 37, share: 0.0898058, tp: 120}
    change: and not (keyboard_nav_ratio >= 0.14)
`;

const MODEL = `${BASE.replace('5b0c4d2e-8f1a-4c3b-9d2e-1f0a9b8c7d6e', '6c1d5e3f-9a2b-4d4c-8e3f-2a1b0c9d8e7f')}provenance:
  generator: replay:abc.json
  prompt: fp-analysis@1 sha256:0000
  created: 2026-01-19T09:00:00.000Z
  derived_from: {id: 9a9a9a9a-0000-4000-8000-000000000001, condition: pointer_events <= 2 and interarrival_cv < 0.8}
  fp_analysis:
    window: {name: train, from: 2026-01-01T00:00:00.000Z, to: 2026-01-10T00:00:00.000Z}
    false_positives: 412
    true_positives: 2960
    scenarios:
      - {description: "84% of false positives: at least 0.14 keyboard navigation", condition: keyboard_nav_ratio >= 0.14, fp: 346, share: 0.839806, tp: 31}
    populations:
      - {name: Screen-reader users, description: "People who navigate by keyboard with a <b>screen reader</b>.", scenarios: [1], automation: false}
      - {name: Admin-login scripts, description: Hundreds of POSTs to the login page, scenarios: [], automation: true}
    change: excluded keyboard navigation
    reasoning: Keyboard navigation separates them.
`;

function load(text: string) {
  const l = parseRuleFile(text, '/ws/rules/x.yaml', catalog);
  expect(l.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return { rule: l.rule!, file: l.file };
}

const input = (rules: ReturnType<typeof load>[]): DocsInput => ({
  workspace: 'fixtures/review',
  config,
  catalog,
  rules,
  run: null,
  now: new Date('2026-02-01T00:00:00Z'),
});

const golden = goldenIn(GOLDEN);

describe('measured false-positive scenarios in the docs', () => {
  it('an fp-derived rule: scenarios with shares and conditions beside the authored ones (golden)', () => {
    const d = load(OFFLINE);
    const md = renderRuleMarkdown(d, input([d]));
    golden('fp-offline.md', md);
    expect(md).toContain('| 84% | at least 0.14 keyboard navigation \\| ratio | `keyboard_nav_ratio >= 0.14` | excluded |');
    expect(md).toContain("| 9% | from a hosting network | `asn_type in ('hosting')` | still matched |");
    expect(md).toContain(
      'Measured by rulegen fp on the train window (2026-01-01 to 2026-01-10) for rule 9a9a9a9a-0000-4000-8000-000000000001: 412 false ' +
        'positives, 2960 true positives.',
    );
    expect(md).toMatch(/\*\*Written with the rule\*\*[\s\S]*- People on kiosks that reload a page on a timer/);
  });

  it('a model-derived rule: the populations the model named, automation flagged, text escaped (golden)', () => {
    const d = load(MODEL);
    const md = renderRuleMarkdown(d, input([d]));
    golden('fp-model.md', md);
    expect(md).toContain('- **Screen-reader users**: People who navigate by keyboard with a \\<b>screen reader\\</b>.');
    expect(md).toContain('Admin-login scripts** (looks like mislabelled automation: a relabelling candidate)');
  });

  it('a refined candidate shows the scenarios of the round that triggered its change', () => {
    const text =
      `${BASE.replace('status: approved', 'status: approved')}provenance:
  generator: offline:greedy-conjunction
  refine:
    - round: 1
      generator: offline:fp-refine
      from: pointer_events <= 2 and interarrival_cv < 0.8
      to: pointer_events <= 2 and interarrival_cv < 0.8 and not (keyboard_nav_ratio >= 0.14)
      change: and not (keyboard_nav_ratio >= 0.14)
      evidence:
        gate_reasons: [FPR upper 95% bound 1.2% exceeds max_fpr 0.1%]
        scenarios: [{description: "84% of false positives: at least 0.14 keyboard navigation", condition: keyboard_nav_ratio >= 0.14, fp: ` +
      `346, share: 0.84, tp: 31}]
`;
    const d = load(text);
    const md = renderRuleMarkdown(d, input([d]));
    expect(md).toContain(
      'for the version before refine round 1 ("pointer_events <= 2 and interarrival_cv < 0.8"), which failed the gate (FPR upper 95% bound 1.2% ' +
        'exceeds max_fpr 0.1%)',
    );
    expect(md).toContain('| 84% | at least 0.14 keyboard navigation | `keyboard_nav_ratio >= 0.14` | measured before the change |');
  });

  it('the report has a per-rule FP section, escaped', () => {
    const d = load(MODEL);
    const html = loadTemplates(undefined)['report.html'].render(
      reportView({
        ...input([d]),
        rules: [
          {
            ...d,
            result: {
              id: d.rule.id,
              counts: { tp: 10, fp: 2, tn: 100, fn: 3, unlabeled_hits: 0 },
              precision: 0.8,
              recall: 0.7,
              fpr: 0.02,
              fpr_upper95: 0.05,
              hit_rate: 0.1,
              segments: { 'country=US': { rows: 50, humans: 40, hits: 5, fp: 2, fpr: 0.05, fpr_upper95: 0.1 } },
            } as never,
          },
        ],
      }),
      'the report',
    );
    expect(html).toContain('<summary>False positives: 2 people matched on the test window</summary>');
    expect(html).toContain('<td class="num">84%</td><td>at least 0.14 keyboard navigation</td><td><code>keyboard_nav_ratio &gt;&#x3D; 0.14</code></td>');
    expect(html).toContain('<strong>Screen-reader users</strong>: People who navigate by keyboard with a &lt;b&gt;screen reader&lt;/b&gt;.');
    expect(html).toContain('<td>country&#x3D;US</td><td class="num">2</td>');
  });
});
