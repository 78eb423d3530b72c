/**
 * Choose the engine: rulegen.yaml's `engine:` section, `--engine KIND` over its kind. Each
 * engine's module (and its driver) is imported only when that engine is chosen.
 */
import type { Config } from '../config/schema.js';
import type { Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { DuckDbEngine } from './duckdb.js';
import { ENGINE_KINDS, type Engine, type EngineKind } from './types.js';

export type { Engine, EngineInfo, EngineKind } from './types.js';

export interface EngineOverrides {
  /** --engine */
  kind?: string;
  /** --max-scan-gb */
  maxScanGb?: number;
  env?: NodeJS.ProcessEnv;
}

export function engineKind(config: Config, overrides: EngineOverrides = {}): EngineKind {
  const kind = overrides.kind ?? config.engine.kind;
  if (!(ENGINE_KINDS as readonly string[]).includes(kind))
    throw InputError.single({ message: 'unknown engine', where: { field: '--engine' }, expected: ENGINE_KINDS.join(', '), found: kind });
  return kind as EngineKind;
}

/** Open the configured engine; `store` is the workspace store, the engine for `duckdb`. */
export async function openEngine(config: Config, store: Store, overrides: EngineOverrides = {}): Promise<Engine> {
  const kind = engineKind(config, overrides);
  const e = config.engine;
  if (kind === 'duckdb') return new DuckDbEngine(store);
  if (kind === 'postgres') {
    const { PostgresEngine } = await import('./postgres.js');
    return PostgresEngine.connect({ ...(e.url ? { url: e.url } : {}), ...(overrides.env ? { env: overrides.env } : {}) });
  }
  const { AthenaEngine } = await import('./athena.js');
  const gb = overrides.maxScanGb ?? e.max_scan_gb;
  return AthenaEngine.connect({
    database: e.database ?? '',
    ...(e.workgroup ? { workgroup: e.workgroup } : {}),
    ...(e.catalog ? { catalog: e.catalog } : {}),
    ...(e.output_location ? { output_location: e.output_location } : {}),
    ...(e.region ? { region: e.region } : {}),
    ...(gb !== undefined ? { maxScanBytes: gb * 2 ** 30 } : {}),
    timeoutMs: e.timeout_ms,
  });
}
