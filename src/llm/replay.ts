/**
 * Replay: recorded Converse responses ("cassettes"), keyed by the sha256 of the canonical
 * request, so a propose run can be repeated with no credentials and no network. A cassette is
 * `<key>.json` holding the request (for review) and the response body exactly as Bedrock
 * returned it. `RecordingProvider` wraps a live provider and writes cassettes (`--record`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { packageRoot } from '../package.js';
import type { ConverseOptions, ConverseOutcome, ConverseRequest, ConverseResponse, LlmProvider } from './types.js';

/** JSON with object keys sorted at every level: equal requests give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, (v as Record<string, unknown>)[k]]),
      );
    }
    return v;
  });
}

/** The cassette key of a request: sha256 of its canonical JSON, hex. */
export function requestKey(request: ConverseRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** The shipped cassettes: fixtures/llm/ in the package. */
export function shippedCassettes(): string {
  return join(packageRoot(), 'fixtures', 'llm');
}

export interface Cassette {
  key: string;
  model: string;
  recorded: string;
  request: ConverseRequest;
  response: ConverseResponse;
}

function isCassette(x: unknown): x is Cassette {
  const c = x as Partial<Cassette> | null;
  return Boolean(
    c && typeof c.key === 'string' && c.response && typeof c.response === 'object' && typeof (c.response as ConverseResponse).stopReason === 'string',
  );
}

export class ReplayProvider implements LlmProvider {
  readonly name = 'replay' as const;
  /** Folders searched in order; the first holds new recordings. */
  constructor(readonly dirs: readonly string[]) {}

  async converse(request: ConverseRequest): Promise<ConverseOutcome> {
    const t0 = performance.now();
    const key = requestKey(request);
    for (const dir of this.dirs) {
      const file = join(dir, `${key}.json`);
      if (!existsSync(file)) continue;
      let cassette: unknown;
      try {
        cassette = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw InputError.single({ message: `cassette is not valid JSON: ${(e as Error).message}`, where: { file } });
      }
      if (!isCassette(cassette))
        throw InputError.single({
          message: 'not a cassette',
          where: { file },
          expected: '{key, model, recorded, request, response: {output, stopReason, usage}}',
          found: Object.keys(cassette as object).join(', '),
        });
      // the recorded latency, so a model comparison from cassettes compares the models, not the disk
      return {
        response: cassette.response,
        generator: `replay:${basename(file)}`,
        latencyMs: cassette.response.metrics?.latencyMs ?? performance.now() - t0,
        attempts: 1,
      };
    }
    throw InputError.single({
      message: `no recorded response for request sha256:${key} (model ${request.modelId})`,
      where: { file: join(this.dirs[0] ?? '.', `${key}.json`) },
      expected: `a cassette ${key}.json in ${this.dirs.map((d) => relative(process.cwd(), d) || '.').join(' or ')}`,
      found:
        'none: the context, the prompt templates, the model or the settings differ from the recording; record one with `rulegen propose ' +
        '--provider bedrock --record`',
    });
  }
}

/** Passes calls to a live provider and writes each answer as a cassette in `dir`. */
export class RecordingProvider implements LlmProvider {
  readonly name: LlmProvider['name'];
  readonly written: string[] = [];
  constructor(
    private readonly inner: LlmProvider,
    readonly dir: string,
  ) {
    this.name = inner.name;
  }

  async converse(request: ConverseRequest, opts: ConverseOptions = {}): Promise<ConverseOutcome> {
    const outcome = await this.inner.converse(request, opts);
    const key = requestKey(request);
    const cassette: Cassette = { key, model: request.modelId, recorded: new Date().toISOString(), request, response: outcome.response };
    const file = join(this.dir, `${key}.json`);
    writeFileAtomic(file, JSON.stringify(cassette, null, 2) + '\n');
    this.written.push(file);
    return outcome;
  }
}
