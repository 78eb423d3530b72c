/**
 * `--engine KIND` and `--max-scan-gb GB` (issue 18) for the commands that scan the sessions:
 * the option lines, and the frame that opens the engine, stops its running query on Ctrl-C,
 * reports what it read on stderr and always closes it. Two more kinds (issue 13) name how a
 * backtest is evaluated on the embedded store: `kernel` (the columnar kernel) and `sql` (the
 * SQL engine, the reference); without them a backtest on the embedded store uses the kernel and
 * SQL where the kernel cannot run.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { openEngine } from '../engine/index.js';
import { ENGINE_KINDS, type Engine } from '../engine/types.js';
import { EVALUATORS, type Evaluator, type EvaluatorName } from '../backtest/engine-types.js';
import type { Io } from './context.js';

export interface EngineFlags {
  engine?: string;
  maxScanGb?: string;
}

/** The two option lines, for `.option(...ENGINE_OPTION).option(...MAX_SCAN_OPTION)` in a command's chain. */
export const ENGINE_OPTION = [
  '--engine <kind>',
  'where and how the sessions are scanned: duckdb (the workspace database), postgres or athena (default: engine.kind in rulegen.yaml); ' +
    'kernel or sql: the workspace database, backtests by the columnar kernel or by SQL only (duckdb: the kernel, SQL where it cannot run)',
] as const;
export const MAX_SCAN_OPTION = ['--max-scan-gb <gb>', 'athena: stop the run before it scans more than this many GB (default: engine.max_scan_gb)'] as const;

export function addEngineOptions(cmd: Command): Command {
  return cmd.option(...ENGINE_OPTION).option(...MAX_SCAN_OPTION);
}

function maxScanGb(flags: EngineFlags): number | undefined {
  if (flags.maxScanGb === undefined) return undefined;
  const n = Number(flags.maxScanGb);
  if (!flags.maxScanGb.trim() || !Number.isFinite(n) || n <= 0)
    throw InputError.single({
      message: 'invalid --max-scan-gb',
      where: { field: '--max-scan-gb' },
      expected: 'a number of GB above 0',
      found: flags.maxScanGb,
    });
  return n;
}

/** `--engine kernel|sql`: the evaluator it names; `auto` for every other value (checked by withEngine). */
export function evaluatorOf(flags: EngineFlags): Evaluator {
  return (EVALUATORS as readonly string[]).includes(flags.engine ?? '') ? (flags.engine as EvaluatorName) : 'auto';
}

/**
 * Run `fn` with the engine the flags and rulegen.yaml choose and the evaluator `--engine` names;
 * the engine is `undefined` when that is the embedded store and nothing asked for an engine (the
 * commands then run exactly as before), and always for `--engine kernel|sql`.
 */
export async function withEngine<T>(
  io: Io,
  quiet: boolean,
  config: Config,
  store: Store,
  flags: EngineFlags,
  fn: (engine: Engine | undefined, evaluator: Evaluator) => Promise<T>,
): Promise<T> {
  const gb = maxScanGb(flags);
  const kinds: readonly string[] = [...ENGINE_KINDS, ...EVALUATORS];
  if (flags.engine !== undefined && !kinds.includes(flags.engine))
    throw InputError.single({ message: 'unknown engine', where: { field: '--engine' }, expected: kinds.join(', '), found: flags.engine });
  const evaluator = evaluatorOf(flags);
  // --max-scan-gb is athena's: ignored here as for duckdb
  if (evaluator !== 'auto') return fn(undefined, evaluator);
  if (flags.engine === undefined && config.engine.kind === 'duckdb') return fn(undefined, 'auto');
  const engine = await openEngine(config, store, {
    ...(flags.engine !== undefined ? { kind: flags.engine } : {}),
    ...(gb !== undefined ? { maxScanGb: gb } : {}),
    env: { ...process.env, ...io.env },
  });
  // Ctrl-C once: stop the query on the engine (it then fails, exit 3); twice: the default.
  const onInt = () => {
    process.removeListener('SIGINT', onInt);
    if (!quiet) io.stderr(`\ninterrupted: cancelling the running statement on ${engine.kind}\n`);
    void engine.cancel();
  };
  if (engine.kind !== 'duckdb') process.on('SIGINT', onInt);
  try {
    return await fn(engine, 'auto');
  } finally {
    process.removeListener('SIGINT', onInt);
    if (!quiet && engine.kind !== 'duckdb') {
      const i = engine.info();
      const scanned = i.bytes_scanned !== null ? `, ${(i.bytes_scanned / 2 ** 30).toFixed(3)} GB scanned` : '';
      const cost = i.cost_usd !== null ? `, about $${i.cost_usd.toFixed(4)}` : '';
      io.stderr(`engine ${i.kind} ${i.target}: ${i.statements.length} statements${scanned}${cost}\n`);
    }
    await engine.close();
  }
}
