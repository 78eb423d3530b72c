/** Registers every command on the program; one file per verb under this folder. */
import type { Command } from 'commander';
import type { GlobalOptions, Io } from '../context.js';
import { register as init } from './init.js';
import { register as synth } from './synth.js';
import { register as ingest } from './ingest.js';
import { register as ingestLogs } from './ingest-logs.js';
import { register as rank } from './rank.js';
import { register as demo } from './demo.js';
import { register as backtest } from './backtest.js';
import { register as check } from './check.js';
import { register as propose } from './propose.js';
import { register as sql } from './sql.js';
import { register as lint } from './lint.js';
import { register as review } from './review.js';
import { register as approve } from './approve.js';
import { register as reject } from './reject.js';
import { register as deprecate } from './deprecate.js';
import { register as docs } from './docs.js';
import { register as impact } from './impact.js';

export interface CommandContext {
  io: Io;
  globals: () => GlobalOptions;
  /** Raise the process's exit code (e.g. 1 when a gate fails) without throwing. */
  setExit: (code: number) => void;
}

export type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Commands that run without a workspace (they make files or one of their own). Every other
 * command, run outside a workspace without -C, fails with "no rulegen.yaml in ... or any
 * parent"; a new command that needs none must be listed here.
 */
export const WORKSPACE_FREE: ReadonlySet<string> = new Set(['init', 'synth', 'demo']);

/** In pipeline order; `rulegen --help` lists them so. */
const registrations: Register[] = [
  init,
  synth,
  ingest,
  ingestLogs,
  rank,
  propose,
  lint,
  sql,
  backtest,
  impact,
  check,
  review,
  approve,
  reject,
  deprecate,
  docs,
  demo,
];

export function registerCommands(program: Command, ctx: CommandContext): void {
  for (const r of registrations) r(program, ctx);
}
