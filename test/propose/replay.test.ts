/** `propose --provider replay` on the demo's data, from the committed cassette; prompts; prices. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { costOf, PRICES, priceOf } from '../../src/llm/cost.js';
import { loadPrompt } from '../../src/llm/prompts.js';
import { RecordingProvider, ReplayProvider, requestKey, shippedCassettes } from '../../src/llm/replay.js';
import type { ConverseRequest, LlmProvider } from '../../src/llm/types.js';
import { runCli, tmpDir } from '../helpers/cli.js';
import { demoWorkspace } from '../helpers/demo.js';

let demo: string;
beforeAll(async () => {
  // the demo's data, built as src/demo.ts builds it: init, 100,000 sessions over 21 days, seed 1
  demo = await demoWorkspace('rulegen-demo-replay-');
});

describe('propose --provider replay', () => {
  it('--dry-run prints the system prompt, the messages, the tool schema and the estimated tokens', async () => {
    const r = await runCli(['-C', demo, 'propose', '--provider', 'replay', '--dry-run'], demo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--- system ---\nYou are a detection engineer/);
    expect(r.stdout).toContain('[cachePoint: everything above is cached between calls]');
    expect(r.stdout).toMatch(/--- user ---\nPropose 5 new detection rules/);
    expect(r.stdout).toContain('"name": "submit_rules"');
    expect(r.stdout).toMatch(/estimated input tokens: [\d,]+ over 1 request/);
    expect(r.stdout).not.toContain('ip_reputation_score');
    expect(readdirSync(join(demo, 'candidates')).filter((f) => f.endsWith('.yaml'))).toEqual([]);
  });

  it('works on the demo data from the committed cassette, with no credentials; the candidates lint clean', async () => {
    const r = await runCli(['-C', demo, '--json', 'propose', '--provider', 'replay'], demo);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.candidates).toHaveLength(5);
    expect(out.candidates.filter((c: { gate: { pass: boolean } }) => c.gate.pass).length).toBeGreaterThanOrEqual(3);
    expect(out.candidates[0].generator).toMatch(/^replay:[0-9a-f]{64}\.json$/);
    expect(out.models[0].cost_usd).toBeGreaterThan(0);
    const text = readFileSync(out.candidates[0].file, 'utf8');
    expect(text).toMatch(/prompt: propose-rules@3 sha256:[0-9a-f]{64}/);
    const lint = await runCli(['-C', demo, 'lint'], demo);
    expect(lint.code, lint.stdout).toBe(0);
    // the cassette is the Converse wire shape
    const cassette = JSON.parse(readFileSync(join(shippedCassettes(), out.candidates[0].generator.slice('replay:'.length)), 'utf8'));
    expect(Object.keys(cassette.response).sort()).toEqual(['metrics', 'output', 'stopReason', 'usage']);
    expect(cassette.response.output.message.content[0].toolUse.name).toBe('submit_rules');
    expect(requestKey(cassette.request)).toBe(cassette.key);
  });

  it('--dry-run estimates the cost from the price table: input from the request size, output at llm.max_tokens', async () => {
    const r = await runCli(['-C', demo, 'propose', '--provider', 'replay', '--dry-run'], demo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/estimated output tokens: at most 8,192 \(llm.max_tokens per request\)/);
    expect(r.stdout).toMatch(/estimated cost: about \$\d+\.\d{4} at most, before repair rounds/);
    const j = JSON.parse((await runCli(['-C', demo, '--json', 'propose', '--provider', 'replay', '--dry-run'], demo)).stdout);
    expect(j.estimated_cost_usd).toBeCloseTo(costOf(j.requests[0].modelId, { inputTokens: j.estimated_input_tokens, outputTokens: 8192 })!, 6);
    // the second run reads the first's bot families from the workspace's cache
    expect(readdirSync(join(demo, '.rulegen', 'cache', 'families')).length).toBeGreaterThan(0);
  });

  it('--provider bedrock without credentials exits 3 naming the credentials, with no empty comparison table', async () => {
    const keys = [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_EC2_METADATA_DISABLED',
      'AWS_CONFIG_FILE',
      'AWS_SHARED_CREDENTIALS_FILE',
      'AWS_ENDPOINT_URL_BEDROCK_RUNTIME',
    ];
    const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    for (const k of keys) delete process.env[k];
    // no instance metadata, no profile files, and nothing could leave the machine anyway
    Object.assign(process.env, {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(demo, 'no-such-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(demo, 'no-such-credentials'),
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:9',
    });
    try {
      const r = await runCli(['-C', demo, 'propose', '--provider', 'bedrock', '--count', '1'], demo);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/credentials/i);
      expect(r.stdout).not.toMatch(/tokens in\/out/);
      expect(r.stdout.trim()).toBe('');
    } finally {
      for (const k of keys) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('a cache miss names the hash and exits 2', async () => {
    const r = await runCli(['-C', demo, 'propose', '--provider', 'replay', '--count', '2'], demo);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no recorded response for request sha256:[0-9a-f]{64} \(model us\.anthropic\.claude-sonnet-4-5-20250929-v1:0\)/);
  });
});

describe('record and replay', () => {
  it('--record writes a cassette that replay answers from', async () => {
    const dir = tmpDir('rulegen-cassettes-');
    const response = {
      output: { message: { role: 'assistant' as const, content: [{ text: 'hi' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 1, outputTokens: 1 },
      metrics: { latencyMs: 5 },
    };
    const live: LlmProvider = { name: 'bedrock', converse: async () => ({ response, generator: 'bedrock:m', latencyMs: 1, attempts: 1 }) };
    const req: ConverseRequest = {
      modelId: 'm',
      system: [{ text: 's' }],
      messages: [{ role: 'user', content: [{ text: 'u' }] }],
      toolConfig: { tools: [] },
      inferenceConfig: { temperature: 0, maxTokens: 256 },
    };
    const rec = new RecordingProvider(live, dir);
    await rec.converse(req);
    expect(rec.written).toEqual([join(dir, `${requestKey(req)}.json`)]);
    // key order does not matter: the key is over canonical JSON
    const reordered = JSON.parse(
      JSON.stringify({ inferenceConfig: req.inferenceConfig, toolConfig: req.toolConfig, messages: req.messages, system: req.system, modelId: 'm' }),
    ) as ConverseRequest;
    const out = await new ReplayProvider([dir]).converse(reordered);
    expect(out.response).toEqual(response);
    await expect(new ReplayProvider([dir]).converse({ ...req, modelId: 'other' })).rejects.toThrow(/sha256:[0-9a-f]{64}/);
  });
});

describe('prompts and prices', () => {
  it('templates are strict and versioned; a workspace prompts/ folder overrides the shipped one', () => {
    const t = loadPrompt('propose-request');
    expect(t.ref).toBe('propose-request@1');
    expect(() => t.render({ one: false, focus: [] })).toThrow(/not supplied: "count" not defined/);
    const ws = tmpDir('rulegen-prompts-');
    mkdirSync(join(ws, 'prompts'));
    writeFileSync(join(ws, 'prompts', 'propose-request.hbs'), '---\nversion: 7\n---\nGive me {{count}}.\n');
    const o = loadPrompt('propose-request', join(ws, 'prompts'));
    expect(o.ref).toBe('propose-request@7');
    expect(o.render({ count: 3 })).toBe('Give me 3.\n');
  });

  it('prices are data for current models, and the defaults are priced', () => {
    for (const m of [...DEFAULT_CONFIG.llm.models, ...DEFAULT_CONFIG.llm.fallback]) expect(priceOf(m), m).toBeDefined();
    const ids = Object.keys(PRICES.models);
    expect(ids.some((i) => i.includes('claude-opus-4'))).toBe(true);
    expect(ids.some((i) => i.startsWith('amazon.nova'))).toBe(true);
    expect(ids.some((i) => i.startsWith('meta.llama'))).toBe(true);
    expect(ids.some((i) => /claude-3/.test(i))).toBe(false);
    // 1M input + 1M output + 1M cache read + 1M cache write of Sonnet 4.5
    expect(
      costOf('us.anthropic.claude-sonnet-4-5-20250929-v1:0', { inputTokens: 1e6, outputTokens: 1e6, cacheReadInputTokens: 1e6, cacheWriteInputTokens: 1e6 }),
    ).toBeCloseTo(3 + 15 + 0.3 + 3.75, 6);
    expect(costOf('eu.anthropic.claude-haiku-4-5-20251001-v1:0', { inputTokens: 1e6, outputTokens: 0 }, { batch: true })).toBeCloseTo(0.5, 6);
    expect(costOf('unknown.model', { inputTokens: 1, outputTokens: 1 })).toBeNull();
  });
});
