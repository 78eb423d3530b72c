/**
 * Claude (or any Converse-capable model) on Amazon Bedrock. The only module that imports the
 * AWS SDK. Credentials and region come from the SDK's default chain (environment, profile,
 * SSO, container or instance roles); the config may override the region and the endpoint
 * (a VPC interface endpoint). Without `llm.endpoint` the SDK still honours
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME. Retries are the SDK's (mode and attempts from the config).
 * `timeout_ms` bounds a whole call, from connecting to the last byte and retries included: the
 * socket's own timeout is an idle timeout, which a response trickling a byte a second never
 * trips, so an AbortController with a timer is passed to the SDK as well.
 */
import './sdk-env.js';
import { BedrockRuntimeClient, ConverseCommand, type BedrockRuntimeClientConfig, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../config/schema.js';
import { LlmCallError, type ConverseOptions, type ConverseOutcome, type ConverseRequest, type ConverseResponse, type LlmProvider } from './types.js';

export interface BedrockOptions {
  region: string;
  endpoint?: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  /** Bound on one call, connection to last byte, retries included. */
  timeoutMs: number;
  /** Static credentials (tests); default: the SDK's default provider chain. */
  credentials?: BedrockRuntimeClientConfig['credentials'];
  /** A retry strategy object (tests shorten the SDK's backoff with it); overrides retryMode. */
  retryStrategy?: BedrockRuntimeClientConfig['retryStrategy'];
}

export function bedrockOptions(config: Config['llm']): BedrockOptions {
  return {
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    maxAttempts: config.retry.max_attempts,
    retryMode: config.retry.mode,
    timeoutMs: config.timeout_ms,
  };
}

// Failures another model may not share: capacity, availability, access to this model.
const FALLBACK_CODES = new Set([
  'ThrottlingException',
  'ServiceQuotaExceededException',
  'ServiceUnavailableException',
  'ModelNotReadyException',
  'ModelTimeoutException',
  'ModelErrorException',
  'InternalServerException',
  'ResourceNotFoundException',
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
]);
// Failures every model would share: the caller's identity or signature.
const CREDENTIAL_CODES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
]);

function classify(model: string, e: unknown): LlmCallError {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const code = err.name && err.name !== 'Error' ? err.name : (err.code ?? 'Error');
  const status = err.$metadata?.httpStatusCode;
  const message = err.message || code;
  if (CREDENTIAL_CODES.has(code)) {
    return new LlmCallError(model, code, `${message} (check the AWS credentials: environment, AWS_PROFILE or SSO login)`, false, status);
  }
  // AccessDenied is usually "model access not granted" for this model; a ValidationException
  // names an unknown or retired model id. Both may not apply to the next model.
  const modelScoped =
    code === 'AccessDeniedException' || (code === 'ValidationException' && /model|end of (its )?life|inference profile|on-demand/i.test(message));
  const fallback =
    FALLBACK_CODES.has(code) ||
    modelScoped ||
    (status !== undefined && status >= 500) ||
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(err.code ?? '');
  return new LlmCallError(model, code, message, fallback, status);
}

/** The caller stopped the call (the run's deadline): no other model should be tried. */
function stopped(model: string, signal: AbortSignal): LlmCallError {
  const why = signal.reason instanceof Error ? signal.reason.message : typeof signal.reason === 'string' ? signal.reason : 'the call was stopped';
  return new LlmCallError(model, 'Stopped', why, false);
}

/** Strip the SDK's metadata: what remains is the wire body of the response. */
function toWire(out: Record<string, unknown>): ConverseResponse {
  const { $metadata: _meta, ...body } = out;
  return JSON.parse(JSON.stringify(body)) as ConverseResponse;
}

export class BedrockProvider implements LlmProvider {
  readonly name = 'bedrock' as const;
  private readonly client: BedrockRuntimeClient;

  constructor(readonly options: BedrockOptions) {
    this.client = new BedrockRuntimeClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: options.maxAttempts,
      ...(options.retryStrategy ? { retryStrategy: options.retryStrategy } : { retryMode: options.retryMode }),
      // HTTP/1.1; the socket timeout catches a silent peer early, the call's timer bounds the rest
      requestHandler: new NodeHttpHandler({
        connectionTimeout: Math.min(options.timeoutMs, 10_000),
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
      }),
    });
  }

  async converse(request: ConverseRequest, opts: ConverseOptions = {}): Promise<ConverseOutcome> {
    const t0 = performance.now();
    if (opts.signal?.aborted) throw stopped(request.modelId, opts.signal);
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), this.options.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timer.signal, opts.signal]) : timer.signal;
    try {
      const out = await this.client.send(new ConverseCommand(request as unknown as ConverseCommandInput), { abortSignal: signal as never });
      return {
        response: toWire(out as unknown as Record<string, unknown>),
        generator: `bedrock:${request.modelId}`,
        latencyMs: performance.now() - t0,
        attempts: out.$metadata.attempts ?? 1,
      };
    } catch (e) {
      if (opts.signal?.aborted) throw stopped(request.modelId, opts.signal);
      if (timer.signal.aborted)
        throw new LlmCallError(request.modelId, 'TimeoutError', `no complete answer within llm.timeout_ms (${this.options.timeoutMs} ms)`, true);
      throw classify(request.modelId, e);
    } finally {
      clearTimeout(timeout);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
