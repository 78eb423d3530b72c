/** A Converse stub on loopback: the real SDK client talks HTTP/1.1 to it; nothing leaves the machine. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BedrockProvider } from '../../src/llm/bedrock.js';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

export interface StubRequest {
  model: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: {
    messages: { role: string; content: Record<string, unknown>[] }[];
    system: unknown[];
    toolConfig: unknown;
    guardrailConfig?: unknown;
    inferenceConfig: unknown;
  };
}

export interface StubReply {
  status?: number;
  /** e.g. ThrottlingException: sent as x-amzn-errortype like Bedrock does. */
  error?: string;
  body?: unknown;
  delayMs?: number;
  /** Send the first `bytes` bytes of the body one at a time, `everyMs` apart, then the rest. */
  trickle?: { bytes: number; everyMs: number };
}

export interface Stub {
  url: string;
  requests: StubRequest[];
  maxInFlight: number;
  close(): Promise<void>;
}

export async function startStub(handler: (req: StubRequest, n: number) => StubReply | Promise<StubReply>): Promise<Stub> {
  let inFlight = 0;
  const stub: Stub = { url: '', requests: [], maxInFlight: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    inFlight++;
    stub.maxInFlight = Math.max(stub.maxInFlight, inFlight);
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', async () => {
      const path = req.url ?? '';
      const model = decodeURIComponent(/^\/model\/([^/]+)\/converse$/.exec(path)?.[1] ?? '');
      const r: StubRequest = { model, path, headers: req.headers, raw, body: JSON.parse(raw || '{}') };
      stub.requests.push(r);
      const reply = await handler(r, stub.requests.length);
      if (reply.delayMs) await new Promise((ok) => setTimeout(ok, reply.delayMs));
      inFlight--;
      if (res.destroyed) return;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (reply.error) headers['x-amzn-errortype'] = `${reply.error}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
      const text = JSON.stringify(reply.body ?? (reply.error ? { message: `stub: ${reply.error}` } : {}));
      res.writeHead(reply.status ?? 200, headers);
      if (reply.trickle) {
        const n = Math.min(reply.trickle.bytes, text.length);
        for (let i = 0; i < n && !res.destroyed; i++) {
          res.write(text[i]);
          await new Promise((ok) => setTimeout(ok, reply.trickle!.everyMs));
        }
        if (res.destroyed) return;
        res.end(text.slice(n));
        return;
      }
      res.end(text);
    });
    req.on('close', () => undefined);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return stub;
}

/** The real SDK client against the stub: static fake credentials, a short retry backoff. */
export function stubProvider(url: string, opts: { maxAttempts?: number; timeoutMs?: number } = {}): BedrockProvider {
  const maxAttempts = opts.maxAttempts ?? 3;
  return new BedrockProvider({
    region: 'us-east-1',
    endpoint: url,
    maxAttempts,
    retryMode: 'standard',
    timeoutMs: opts.timeoutMs ?? 5000,
    credentials: { accessKeyId: 'AKIDSTUBEXAMPLE', secretAccessKey: 'stub-secret-key-not-real' },
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 2),
  });
}

/** A successful Converse body with a submit_rules call. */
export function toolAnswer(rules: unknown[], opts: { stopReason?: string; id?: string } = {}): unknown {
  return {
    output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: opts.id ?? 'tooluse_stub_1', name: 'submit_rules', input: { rules } } }] } },
    stopReason: opts.stopReason ?? 'tool_use',
    usage: { inputTokens: 100, outputTokens: 50, totalTokens: 1150, cacheReadInputTokens: 1000, cacheWriteInputTokens: 0 },
    metrics: { latencyMs: 42 },
  };
}

export function rule(condition: string, title = `Stub rule ${condition}`): Record<string, unknown> {
  return {
    title: title.slice(0, 110),
    condition,
    action: 'challenge',
    level: 'medium',
    description: 'Sessions that match the stub condition.',
    rationale: 'The stub says so.',
    falsepositives: ['Unknown'],
    tags: ['stub'],
  };
}
