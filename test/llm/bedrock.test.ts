import { afterEach, describe, expect, it } from 'vitest';
import { LlmCallError, type ConverseRequest } from '../../src/llm/types.js';
import { startStub, stubProvider, toolAnswer, rule, type Stub } from './stub.js';
import { BedrockProvider } from '../../src/llm/bedrock.js';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const request = (model = MODEL): ConverseRequest => ({
  modelId: model,
  system: [{ text: 'You are a detection engineer.' }, { cachePoint: { type: 'default' } }],
  messages: [{ role: 'user', content: [{ text: 'Propose 1 rule.' }] }],
  toolConfig: {
    tools: [{ toolSpec: { name: 'submit_rules', description: 'd', inputSchema: { json: { type: 'object' } } } }],
    toolChoice: { tool: { name: 'submit_rules' } },
  },
  inferenceConfig: { temperature: 0.2, maxTokens: 1000 },
});

let stub: Stub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe('bedrock provider (real SDK client, loopback Converse stub)', () => {
  it('sends the system prompt, the cache point and the tool config, signed with SigV4, to the configured endpoint', async () => {
    stub = await startStub(() => ({ body: toolAnswer([rule('requests_per_minute > 50')]) }));
    // the config endpoint wins over the SDK's environment variable
    const before = process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'];
    process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'] = 'http://127.0.0.1:9';
    try {
      const out = await stubProvider(stub.url).converse(request());
      expect(out.response.stopReason).toBe('tool_use');
      expect(out.generator).toBe(`bedrock:${MODEL}`);
      expect(out.attempts).toBe(1);
    } finally {
      if (before === undefined) delete process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'];
      else process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'] = before;
    }
    expect(stub.requests).toHaveLength(1);
    const r = stub.requests[0]!;
    expect(r.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect(r.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDSTUBEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/,
    );
    expect(r.body.system).toEqual([{ text: 'You are a detection engineer.' }, { cachePoint: { type: 'default' } }]);
    expect(r.body.toolConfig).toEqual(request().toolConfig);
    expect(r.body.inferenceConfig).toEqual({ temperature: 0.2, maxTokens: 1000 });
  });

  it('retries 429 twice, then succeeds', async () => {
    stub = await startStub((_r, n) => (n <= 2 ? { status: 429, error: 'ThrottlingException' } : { body: toolAnswer([rule('requests_per_minute > 50')]) }));
    const out = await stubProvider(stub.url, { maxAttempts: 3 }).converse(request());
    expect(out.attempts).toBe(3);
    expect(stub.requests).toHaveLength(3);
  });

  it('persistent throttling ends in a fallback-able LlmCallError after max_attempts', async () => {
    stub = await startStub(() => ({ status: 429, error: 'ThrottlingException' }));
    const e = await stubProvider(stub.url, { maxAttempts: 2 })
      .converse(request())
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LlmCallError);
    expect(e).toMatchObject({ model: MODEL, code: 'ThrottlingException', fallback: true, status: 429 });
    expect(stub.requests).toHaveLength(2);
  });

  it('a 500 is retried, then reported as fallback-able; a bad credential is not', async () => {
    stub = await startStub((r) =>
      r.model.includes('bad-creds') ? { status: 403, error: 'UnrecognizedClientException' } : { status: 500, error: 'InternalServerException' },
    );
    const e = (await stubProvider(stub.url, { maxAttempts: 2 })
      .converse(request())
      .catch((x: unknown) => x)) as LlmCallError;
    expect(e).toMatchObject({ code: 'InternalServerException', fallback: true, status: 500 });
    expect(stub.requests).toHaveLength(2);
    const c = (await stubProvider(stub.url, { maxAttempts: 2 })
      .converse(request('bad-creds'))
      .catch((x: unknown) => x)) as LlmCallError;
    expect(c).toMatchObject({ code: 'UnrecognizedClientException', fallback: false });
    expect(c.message).toMatch(/credentials/);
  });

  it('timeout_ms bounds the whole call: a slow answer ends at the deadline as a fallback-able TimeoutError', async () => {
    stub = await startStub(() => ({ delayMs: 1500, body: toolAnswer([]) }));
    const t0 = Date.now();
    const e = (await stubProvider(stub.url, { maxAttempts: 2, timeoutMs: 200 })
      .converse(request())
      .catch((x: unknown) => x)) as LlmCallError;
    expect(e).toBeInstanceOf(LlmCallError);
    expect(e.code).toBe('TimeoutError');
    expect(e.fallback).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a response trickling a byte at a time cannot outlast timeout_ms (the socket timeout is only an idle timeout)', async () => {
    // 1 byte every 100 ms for 2 s: never idle for 300 ms, so only a bound on the whole call stops it
    stub = await startStub(() => ({ body: toolAnswer([rule('requests_per_minute > 50')]), trickle: { bytes: 20, everyMs: 100 } }));
    const t0 = Date.now();
    const e = (await stubProvider(stub.url, { maxAttempts: 1, timeoutMs: 300 })
      .converse(request())
      .catch((x: unknown) => x)) as LlmCallError;
    const took = Date.now() - t0;
    expect(e).toBeInstanceOf(LlmCallError);
    expect(e).toMatchObject({ code: 'TimeoutError', fallback: true });
    expect(e.message).toMatch(/timeout_ms \(300 ms\)/);
    expect(took).toBeLessThan(1500);
  });

  it('a caller signal (the run deadline) stops a call in flight; no fallback', async () => {
    stub = await startStub(() => ({ delayMs: 1500, body: toolAnswer([]) }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('propose stopped at llm.run_timeout_ms (200 ms)')), 200);
    const t0 = Date.now();
    const e = (await stubProvider(stub.url, { maxAttempts: 1, timeoutMs: 5000 })
      .converse(request(), { signal: ac.signal })
      .catch((x: unknown) => x)) as LlmCallError;
    expect(e).toMatchObject({ code: 'Stopped', fallback: false });
    expect(e.message).toMatch(/run_timeout_ms/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('loading the SDK through bedrock.ts turns off its Node-version warning', () => {
    expect(process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']).toBe('true');
  });

  it('without llm.endpoint the SDK honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME', async () => {
    stub = await startStub(() => ({ body: toolAnswer([]) }));
    const before = process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'];
    process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'] = stub.url;
    try {
      const p = new BedrockProvider({
        region: 'us-east-1',
        maxAttempts: 1,
        retryMode: 'standard',
        timeoutMs: 2000,
        credentials: { accessKeyId: 'AKIDSTUBEXAMPLE', secretAccessKey: 'x' },
        retryStrategy: new ConfiguredRetryStrategy(1, () => 1),
      });
      await p.converse(request());
    } finally {
      if (before === undefined) delete process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'];
      else process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'] = before;
    }
    expect(stub.requests).toHaveLength(1);
  });
});
