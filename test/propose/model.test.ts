/**
 * `propose` with the bedrock provider end to end: the real SDK client against a loopback
 * Converse stub, on the example workspace (60,000 synthetic sessions in DuckDB).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelContext } from '../../src/propose/model/families.js';
import { submitRulesTool } from '../../src/propose/schema.js';
import { shippedPrompts } from '../../src/llm/prompts.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Store } from '../../src/db/store.js';
import { comparisonTable, proposeWithProvider, ProposeRunError, type ModelProposeOptions } from '../../src/propose/model.js';
import type { Ranking } from '../../src/rank/types.js';
import type { Workspace } from '../../src/workspace.js';
import { rule, startStub, stubProvider, toolAnswer, type Stub, type StubReply, type StubRequest } from '../llm/stub.js';
import { rankedExampleWorkspace } from '../helpers/workspace.js';
import { significantNumbers } from '../helpers/numbers.js';
import type { Config } from '../../src/config/schema.js';

const A = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const B = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

let base: Workspace;
let store: Store;
let ranking: Ranking;
let stub: Stub | undefined;
let threshold = 40;

beforeAll(async () => {
  ({ base, store, ranking } = await rankedExampleWorkspace({ rules: true }));
});
afterAll(() => store?.close());
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

/**
 * The stub's fresh rules differ by one unit of a threshold, so they behave almost alike: these
 * tests are about the model path's calls, so only identical hit sets count as duplicates here
 * (max_jaccard 1); the duplicate test below uses the default.
 */
function ws(llm: Partial<Config['llm']>, gate: Partial<Config['gate']> = { max_jaccard: 1 }): Workspace {
  return { ...base, config: { ...base.config, gate: { ...base.config.gate, ...gate }, llm: { ...base.config.llm, models: [A], fallback: [], ...llm } } };
}

/** A fresh, valid, not yet used rule for every answer. */
const freshRule = () => rule(`requests_per_minute > ${threshold++} and static_asset_ratio < 0.1`);

async function run(
  w: Workspace,
  handler: (r: StubRequest, n: number) => StubReply | Promise<StubReply>,
  opts: Partial<ModelProposeOptions> & { maxAttempts?: number; timeoutMs?: number } = {},
) {
  stub = await startStub(handler);
  const llm = stubProvider(stub.url, { maxAttempts: opts.maxAttempts ?? 2, timeoutMs: opts.timeoutMs ?? 5000 });
  const notes: string[] = [];
  const result = proposeWithProvider(w, store, { provider: 'bedrock', count: 1, ranking, llm, onNote: (m) => notes.push(m), ...opts });
  return { result, notes, stub };
}

describe('propose with bedrock (loopback stub)', () => {
  it('does not write a rule that behaves like an existing one (an approved rule with its terms reordered)', async () => {
    const w = ws({ rules_per_call: 2 }, {});
    // rules/9c4e1b28 (approved): webdriver_flag and interarrival_cv < 0.1 and pointer_events = 0, reordered
    const { result, notes } = await run(
      w,
      () => ({ body: toolAnswer([rule('pointer_events = 0 and interarrival_cv < 0.1 and webdriver_flag'), freshRule()]) }),
      { count: 2 },
    );
    const r = await result;
    expect(r.candidates.map((c) => c.condition)).not.toContain('pointer_events = 0 and interarrival_cv < 0.1 and webdriver_flag');
    expect(r.calls[0]!.duplicates).toBe(1);
    expect(notes.join('\n')).toMatch(/not written: pointer_events = 0 and interarrival_cv < 0\.1 and webdriver_flag — duplicate of 9c4e1b28/);
  });

  it('writes validated, backtested candidates with provenance; no request carries raw data or a sensitive feature', async () => {
    const w = ws({ rules_per_call: 2 });
    const answers: string[] = [];
    const { result, stub: s } = await run(
      w,
      (r) => {
        // the second call first gets one invalid rule, repaired in the same conversation
        const repairing = r.body.messages.length > 1;
        const second = JSON.stringify(r.body.messages[0]).includes('request 2 of 2');
        const body = second && !repairing ? toolAnswer([freshRule(), rule('mouse_moves > 3')]) : toolAnswer([freshRule(), ...(repairing ? [] : [freshRule()])]);
        answers.push(JSON.stringify(body));
        return { body };
      },
      { count: 4 },
    );
    const r = await result;
    expect(r.candidates).toHaveLength(4);
    expect(r.calls.map((c) => c.repair_rounds)).toEqual([0, 1]);
    const doc = parseYaml(readFileSync(r.candidates[0]!.file, 'utf8')) as Record<string, any>;
    expect(doc['status']).toBe('candidate');
    expect(doc['provenance']).toMatchObject({
      generator: `bedrock:${A}`,
      prompt: expect.stringMatching(/^propose-rules@3 sha256:[0-9a-f]{64}$/),
      input: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      usage: { input_tokens: 100, output_tokens: 50, cost_usd: expect.any(Number) },
    });
    expect(doc['backtest']['data']['window']).toBe('test');

    // every byte sent, against a sample of the fixture's raw values
    const sent = s.requests.map((q) => q.raw).join('\n');
    expect(s.requests.length).toBe(3);
    expect(sent).toContain('pointer_events');
    expect(sent).not.toContain('ip_reputation_score');
    const rows = await store.all<{ session_id: string; client_ip: string; user_agent: string }>(
      'SELECT session_id, client_ip, user_agent FROM sessions USING SAMPLE 300 ROWS (reservoir, 7)',
    );
    expect(rows.length).toBe(300);
    for (const row of rows) {
      expect(sent).not.toContain(row.session_id);
      expect(sent).not.toContain(row.client_ip);
      expect(sent).not.toContain(JSON.stringify(row.user_agent).slice(1, -1));
    }
    // Numbers: every number of 3+ significant digits sent is an aggregate of the context, or
    // comes from the prompt templates, the tool schema or the model's own answers.
    const tokens = significantNumbers;
    const allowed = new Set(
      tokens(
        [
          JSON.stringify(await modelContext(w, store, ranking)),
          JSON.stringify(submitRulesTool()),
          JSON.stringify(w.config.llm),
          ...answers,
          ...['propose-rules', 'propose-request', 'propose-repair'].map((n) => readFileSync(join(shippedPrompts(), `${n}.hbs`), 'utf8')),
        ].join('\n'),
      ),
    );
    const unexplained = [...new Set(tokens(sent))].filter((x) => !allowed.has(x));
    expect(unexplained).toEqual([]);
    // and a sample of row-level values that are not among those aggregates is absent
    const nums = await store.all<{ v: number }>(
      `SELECT v FROM (SELECT unnest([mean_interarrival_ms, requests_per_minute, session_duration_s, interarrival_cv, night_activity_ratio, ` +
        `static_asset_ratio]) AS v FROM sessions USING SAMPLE 400 ROWS (reservoir, 11)) WHERE v IS NOT NULL`,
    );
    const raw = nums.map((x) => String(x.v)).filter((t) => tokens(t).length === 1 && !allowed.has(t));
    expect(raw.length).toBeGreaterThan(300);
    for (const t of raw) expect(sent, t).not.toMatch(new RegExp(`(^|[^0-9.])${t.replaceAll('.', '\\.')}([^0-9]|$)`));
    expect(sent).toContain('"cachePoint":{"type":"default"}');
  });

  it('the prompt carries, per bot family of the covering search, the features that separate what is left: aggregates only', async () => {
    const w = ws({});
    const { result, stub: s } = await run(w, () => ({ body: toolAnswer([freshRule()]) }));
    await result;
    const system = (s.requests[0]!.body.system[0] as { text: string }).text;
    const from = system.indexOf('# Bot families left to catch');
    expect(from).toBeGreaterThan(0);
    const section = system.slice(from, system.indexOf('# Approved rules'));
    // every step of the covering loop, the rule it kept (or none), and per feature its condition and shares
    expect(section).toMatch(/^## Step 1: \d+ bots left; the inducer's rule "[^"\n]+"$/m);
    expect(section).toMatch(/^## Step \d+: \d+ bots left; no rule passed the gate$/m);
    const lines = section.split('\n').filter((l) => l.startsWith('- "'));
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toMatch(/^- "[a-z0-9_]+ [^"\n]+": [\d.e-]+ of the bots left \(\d+\), [\d.e-]+ of humans$/);
    // what it was built from: the context's families, through the privacy filter
    const ctx = await modelContext(w, store, ranking);
    expect(ctx.families.length).toBeGreaterThanOrEqual(2);
    for (const f of ctx.families) for (const x of f.features) expect(section).toContain(`- ${x.condition}: ${x.bot_share} of the bots left (${x.bots})`);
    // no sensitive or leaking feature, no row: ids, IPs, user agents
    for (const f of w.catalog.features.filter((f) => f.sensitive || f.leak)) expect(section).not.toContain(f.name);
    expect(section).not.toContain('ip_reputation_score');
    const rows = await store.all<{ session_id: string; client_ip: string; user_agent: string }>(
      'SELECT session_id, client_ip, user_agent FROM sessions USING SAMPLE 200 ROWS (reservoir, 3)',
    );
    for (const row of rows) {
      expect(section).not.toContain(row.session_id);
      expect(section).not.toContain(row.client_ip);
      expect(section).not.toContain(row.user_agent);
    }
    // thresholds are at most 3 significant digits: a cut, not a value copied from a row
    for (const m of section.matchAll(/(?:<=|>=|<|>|=) (-?[\d.]+(?:e-?\d+)?)/g))
      expect(
        m[1]!
          .replace(/[^0-9]/g, '')
          .replace(/^0+/, '')
          .replace(/0+$/, '').length,
      ).toBeLessThanOrEqual(3);
  });

  it('a malformed answer and invalid rules are sent back with the exact errors, then repaired', async () => {
    const { result, stub: s } = await run(
      ws({}),
      (r) => {
        const turn = r.body.messages.length;
        if (turn === 1)
          return {
            body: { ...(toolAnswer([]) as object), stopReason: 'malformed_tool_use', output: { message: { role: 'assistant', content: [{ text: 'oops' }] } } },
          };
        if (turn === 3) return { body: toolAnswer([{ ...freshRule(), condition: "ua_family = 'netscape'", action: 'ban' }]) };
        return { body: toolAnswer([freshRule()]) };
      },
      { count: 1 },
    );
    const r = await result;
    expect(r.candidates).toHaveLength(1);
    expect(r.calls[0]!.repair_rounds).toBe(2);
    const repair = s.requests[2]!.body.messages.at(-1)!.content[0] as { toolResult: { status: string; content: { text: string }[] } };
    expect(repair.toolResult.status).toBe('error');
    expect(repair.toolResult.content[0]!.text).toMatch(/action/);
    expect(JSON.stringify(s.requests[1]!.body.messages)).toMatch(/malformed_tool_use/);
  });

  it('rules that stay invalid after llm.repair_rounds are reported with their reasons, not dropped silently', async () => {
    const { result, notes, stub: s } = await run(ws({ repair_rounds: 1 }), () => ({ body: toolAnswer([rule('ip_reputation_score > 80')]) }));
    // no call produced a usable answer: exit 3, with the reasons kept in the result
    const e = (await result.catch((x: unknown) => x)) as ProposeRunError;
    expect(e).toBeInstanceOf(ProposeRunError);
    expect(e.exitCode).toBe(3);
    const r = e.result;
    expect(s.requests).toHaveLength(2);
    expect(r.candidates).toHaveLength(0);
    expect(r.calls[0]!.invalid[0]!.problems[0]!.message).toMatch(/ip_reputation_score|unknown/);
    expect(notes.join('\n')).toMatch(/stayed invalid/);
  });

  it('max_tokens ends the call with advice; a guardrail intervention ends it without a retry', async () => {
    const cut = await run(ws({}), () => ({
      body: {
        ...(toolAnswer([]) as object),
        stopReason: 'max_tokens',
        output: { message: { role: 'assistant', content: [{ text: '{"rules": [{"title": "Fa' }] } },
      },
    }));
    const e1 = (await cut.result.catch((x: unknown) => x)) as ProposeRunError;
    expect(e1.exitCode).toBe(3);
    expect(e1.message).toMatch(/no model call produced a usable answer/);
    const r1 = e1.result;
    expect(r1.candidates).toHaveLength(0);
    expect(r1.calls[0]!.problem).toMatch(/max_tokens \(8192\).*raise llm.max_tokens/);
    await cut.stub.close();

    const g = await run(ws({ guardrail: { id: 'gr-123', version: '2' } }), () => ({
      body: { ...(toolAnswer([]) as object), stopReason: 'guardrail_intervened', output: { message: { role: 'assistant', content: [{ text: 'Sorry.' }] } } },
    }));
    const e2 = (await g.result.catch((x: unknown) => x)) as ProposeRunError;
    expect(e2.exitCode).toBe(3);
    const r2 = e2.result;
    expect(g.stub.requests).toHaveLength(1);
    expect(g.stub.requests[0]!.body.guardrailConfig).toEqual({ guardrailIdentifier: 'gr-123', guardrailVersion: '2' });
    expect(r2.calls[0]!.problem).toMatch(/guardrail gr-123 version 2/);
  });

  it('persistent throttling falls back to the next model', async () => {
    const { result, stub: s } = await run(ws({ fallback: [B] }), (r) =>
      r.model === A ? { status: 429, error: 'ThrottlingException' } : { body: toolAnswer([freshRule()]) },
    );
    const r = await result;
    expect(s.requests.map((q) => q.model)).toEqual([A, A, B]);
    expect(r.candidates[0]!.generator).toBe(`bedrock:${B}`);
    expect(r.models[0]!.fallbacks).toEqual([B]);
  });

  it('a persistent 500 and a timeout end in ExternalError (exit 3) naming the model and the error', async () => {
    const five = await run(ws({ fallback: [B] }), () => ({ status: 500, error: 'InternalServerException' }));
    const e = (await five.result.catch((x: unknown) => x)) as ProposeRunError;
    expect(e).toBeInstanceOf(ProposeRunError);
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain(`${A}: InternalServerException (HTTP 500)`);
    expect(e.message).toContain(`${B}: InternalServerException (HTTP 500)`);
    await five.stub.close();

    const slow = await run(ws({}), () => ({ delayMs: 1000, body: toolAnswer([freshRule()]) }), { timeoutMs: 150, maxAttempts: 1 });
    const t = (await slow.result.catch((x: unknown) => x)) as ProposeRunError;
    expect(t.exitCode).toBe(3);
    expect(t.message).toMatch(new RegExp(`${A.replaceAll('.', '\\.')}: TimeoutError`));
  });

  it('never has more than llm.max_concurrency calls in flight', async () => {
    const { result, stub: s } = await run(ws({ max_concurrency: 2, rules_per_call: 1 }), () => ({ delayMs: 60, body: toolAnswer([freshRule()]) }), {
      count: 6,
    });
    const r = await result;
    expect(r.candidates).toHaveLength(6);
    expect(s.requests).toHaveLength(6);
    expect(s.maxInFlight).toBe(2);
  });

  it('a run that fails halfway keeps the candidates of the calls that succeeded', async () => {
    const { result, stub: s } = await run(
      ws({ max_concurrency: 1, rules_per_call: 1 }),
      (_r, n) => (n <= 2 ? { body: toolAnswer([freshRule()]) } : { status: 500, error: 'InternalServerException' }),
      { count: 4 },
    );
    const e = (await result.catch((x: unknown) => x)) as ProposeRunError;
    expect(e).toBeInstanceOf(ProposeRunError);
    expect(e.result.candidates).toHaveLength(2);
    for (const c of e.result.candidates) expect(existsSync(c.file)).toBe(true);
    expect(e.message).toMatch(/kept 2 candidate/);
    // the fourth call did not start after the third failed
    expect(s.requests).toHaveLength(4);
    expect(e.result.calls.at(-1)!.problem).toMatch(/not run/);
  });

  it('--max-cost stops further calls; two models are compared side by side', async () => {
    const capped = await run(ws({ max_concurrency: 1, rules_per_call: 1 }), () => ({ body: toolAnswer([freshRule()]) }), { count: 3, maxCostUsd: 0.0001 });
    const r = await capped.result;
    expect(capped.stub.requests).toHaveLength(1);
    expect(r.stopped).toMatch(/--max-cost/);
    await capped.stub.close();

    const cmp = await run(ws({}), (q) => ({ delayMs: q.model === B ? 5 : 20, body: toolAnswer([freshRule()]) }), { models: [A, B], count: 1 });
    const c = await cmp.result;
    expect(c.models.map((m) => m.model)).toEqual([A, B]);
    expect(c.models.every((m) => m.valid_rules === 1 && m.cost_usd! > 0)).toBe(true);
    const table = comparisonTable(c);
    expect(table).toMatch(/^model\s+valid\s+invalid\s+repairs\s+pass gate\s+best recall@gate\s+tokens in\/out\s+cache r\/w\s+cost\s+latency/);
    expect(table.split('\n')).toHaveLength(4);
  });
});
