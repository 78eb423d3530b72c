/**
 * `propose --refine N`: candidates that fail the gate go back with their evidence and are
 * revised, every round recorded in the candidate's provenance. Offline: the measured
 * modifications of `rulegen fp` (refineOffline); with a model: the loopback Converse stub.
 * The failing rule is the planted one of test/fp (no pointer movement at a steady pace: it hits
 * screen-reader users, so its false-positive rate is far above the gate).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { backtestTargets, evidenceBlock } from '../../src/backtest/run.js';
import { applyGate } from '../../src/backtest/gate.js';
import { refineOffline } from '../../src/propose/propose.js';
import { proposeWithProvider } from '../../src/propose/model.js';
import type { Ranking } from '../../src/rank/types.js';
import { parseCondition } from '../../src/rule/parser.js';
import { loadRuleFile } from '../../src/rules/load.js';
import type { Workspace } from '../../src/workspace.js';
import type { Config } from '../../src/config/schema.js';
import { rankedExampleWorkspace } from '../helpers/workspace.js';
import { rule, startStub, stubProvider, toolAnswer, type Stub } from '../llm/stub.js';

const A = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const FAILING = 'pointer_events <= 2 and interarrival_cv < 0.8';

let base: Workspace;
let store: Store;
let ranking: Ranking;
let stub: Stub | undefined;

beforeAll(async () => {
  ({ base, store, ranking } = await rankedExampleWorkspace({ rules: false }));
}, 60_000);
afterAll(() => store?.close());
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

function ws(llm: Partial<Config['llm']> = {}): Workspace {
  return { ...base, config: { ...base.config, llm: { ...base.config.llm, models: [A], fallback: [], ...llm } } };
}

describe('propose --refine, offline', () => {
  it('replaces a failing candidate by the best measured modification, recording each round and its evidence', async () => {
    const p = parseCondition(FAILING);
    if (!p.ok) throw new Error('parse');
    const run = await backtestTargets(store, base.config, base.catalog, [{ id: 'x', title: 't', status: 'candidate', condition: FAILING, ast: p.ast }], {
      window: 'test',
      variations: true,
    });
    expect(applyGate(run.rules[0]!, base.config.gate).pass).toBe(false);
    const doc: Record<string, unknown> = {
      id: 'x',
      title: 't',
      condition: FAILING,
      tags: ['offline'],
      provenance: { generator: 'offline:greedy-conjunction' },
      backtest: evidenceBlock(run, run.rules[0]!),
    };
    const d = { doc, ast: p.ast, result: run.rules[0]! };
    const rounds = await refineOffline(base, store, d, 2, new Set([FAILING]));
    expect(rounds!.length).toBeGreaterThanOrEqual(1);
    const r1 = rounds![0]!;
    expect(r1).toMatchObject({ round: 1, generator: 'offline:fp-refine', from: FAILING });
    expect(r1.to).not.toBe(FAILING);
    expect(r1.change).toMatch(/keyboard_nav_ratio|tightened/);
    // the evidence that triggered it: gate reasons, FPR and bound, recall by day, the FP scenarios
    expect(r1.evidence.gate_reasons.join(' ')).toMatch(/FPR upper 95% bound/);
    expect(r1.evidence.fpr_upper95).toBeGreaterThan(base.config.gate.max_fpr);
    expect(r1.evidence.recall_by_day.length).toBeGreaterThan(0);
    expect(r1.evidence.scenarios[0]!.description).toMatch(/^\d+% of false positives: .*keyboard navigation/);
    expect(r1.result.fpr_upper95!).toBeLessThan(r1.evidence.fpr_upper95!);
    // the candidate is the last version, and its provenance holds every round
    expect(doc['condition']).toBe(rounds!.at(-1)!.to);
    expect((doc['provenance'] as { refine: unknown[] }).refine).toHaveLength(rounds!.length);
    expect(doc['tags']).toContain('refined');
    expect((doc['backtest'] as { data: { window: string } }).data.window).toBe('test');
    if (rounds!.length === 2) expect(rounds![1]!.from).toBe(rounds![0]!.to);
  }, 30_000);
});

describe('propose --refine, with a model (loopback stub)', () => {
  it('sends failing candidates back with their evidence and records each round in provenance', async () => {
    let refineRequests = 0;
    stub = await startStub((r) => {
      const tool = JSON.stringify(r.body.toolConfig);
      if (tool.includes('submit_rules')) return { body: toolAnswer([rule(FAILING, 'No pointer at a steady pace')]) };
      refineRequests++;
      const cond = refineRequests === 1 ? `${FAILING} and keyboard_nav_ratio < 0.3` : `${FAILING} and keyboard_nav_ratio < 0.2 and js_executed`;
      return {
        body: {
          output: {
            message: {
              role: 'assistant',
              content: [
                {
                  toolUse: {
                    toolUseId: `tooluse_refine_${refineRequests}`,
                    name: 'submit_revisions',
                    input: {
                      revisions: [{ ...rule(cond, 'Steady sessions without pointer, not keyboard users'), rule: 1, change: 'excluded keyboard navigation' }],
                    },
                  },
                },
              ],
            },
          },
          stopReason: 'tool_use',
          usage: { inputTokens: 300, outputTokens: 80 },
          metrics: { latencyMs: 9 },
        },
      };
    });
    const llm = stubProvider(stub.url, { maxAttempts: 1 });
    const r = await proposeWithProvider(ws(), store, { provider: 'bedrock', count: 1, ranking, llm, refine: 2 });
    expect(r.candidates).toHaveLength(1);
    const c = r.candidates[0]!;
    expect(c.refine!.length).toBeGreaterThanOrEqual(1);
    expect(c.refine![0]).toMatchObject({
      round: 1,
      from: FAILING,
      to: `${FAILING} and keyboard_nav_ratio < 0.3`,
      change: 'excluded keyboard navigation',
      generator: `bedrock:${A}`,
    });
    expect(c.condition).toBe(c.refine!.at(-1)!.to);
    expect(r.refine_calls![0]).toMatchObject({ round: 1, rules: 1, revised: 1, repair_rounds: 0 });

    // the refine request: the evidence, aggregates only, quoted
    const req = stub.requests.find((q) => JSON.stringify(q.body.toolConfig).includes('submit_revisions'))!;
    const user = (req.body.messages[0]!.content[0] as { text: string }).text;
    expect(user).toMatch(/^Refine round 1 of 2/);
    expect(user).toContain(`condition ${JSON.stringify(FAILING)}`);
    expect(user).toMatch(/gate failed: "FPR upper 95% bound/);
    expect(user).toMatch(/recall by day: \d{4}-\d{2}-\d{2} [0-9.]+/);
    expect(user).toMatch(/- "\d+% of false positives: [^"]*keyboard navigation[^"]*"; condition "[^"]*keyboard_nav_ratio/);
    expect(req.raw).not.toContain('ip_reputation_score');

    // the file: the revised rule, every round in provenance, valid
    const doc = parseYaml(readFileSync(c.file, 'utf8')) as Record<string, any>;
    expect(doc['condition']).toBe(c.condition);
    expect(doc['provenance']['refine']).toHaveLength(c.refine!.length);
    expect(doc['provenance']['refine'][0]['evidence']['gate_reasons'].length).toBeGreaterThan(0);
    expect(doc['provenance']['refine'][0]['evidence']['scenarios'].length).toBeGreaterThan(0);
    expect(doc['provenance']['refine'][0]['usage']['input_tokens']).toBe(300);
    expect(doc['provenance']['generator']).toBe(`bedrock:${A}`);
    expect(loadRuleFile(c.file, base.catalog).problems.filter((p) => p.severity === 'error')).toEqual([]);
  }, 30_000);
});
