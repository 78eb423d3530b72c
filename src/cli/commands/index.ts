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
import { register as explain } from './explain.js';
import { register as fp } from './fp.js';
import { register as evalSuite } from './eval.js';
import { register as runs } from './runs.js';
import { register as relabel } from './relabel.js';
import { register as release } from './release.js';
import { register as promote } from './promote.js';
import { register as exportRules } from './export.js';
import type { RunNote } from '../../runs/record.js';

export interface CommandContext {
  io: Io;
  globals: () => GlobalOptions;
  /** Add this command's details (provider, models, tokens, cost, ids) to its run record (src/runs). */
  note: (n: RunNote) => void;
}

export type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Commands that run without a workspace (they make files or one of their own). Every other
 * command, run outside a workspace without -C, fails with "no rulegen.yaml in ... or any
 * parent"; a new command that needs none must be listed here.
 */
export const WORKSPACE_FREE: ReadonlySet<string> = new Set(['init', 'synth', 'demo', 'eval']);

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
  explain,
  fp,
  check,
  evalSuite,
  review,
  approve,
  reject,
  deprecate,
  docs,
  release,
  promote,
  exportRules,
  relabel,
  runs,
  demo,
];

export function registerCommands(program: Command, ctx: CommandContext): void {
  for (const r of registrations) r(program, ctx);
}
