/**
 * The CLI frame's side of the run record: `begin` when a recorded command's action is about to
 * run (its workspace known), `note` from the command, `finish` with the exit code once it is
 * decided. Kept out of main.ts so the frame stays wiring only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE } from '../config/load.js';
import { RulegenError } from '../errors.js';
import { openWorkspace, workspacePaths } from '../workspace.js';
import type { Io } from '../cli/context.js';
import { appendRun, RECORDED, snapshotRules, writtenIds, type RunEngine, type RunNote, type Snapshot } from './record.js';
import { watchEvaluations, type Evaluation } from '../backtest/run.js';

interface Begun {
  started: Date;
  t0: number;
  command: string;
  args: string[];
  options: Record<string, unknown>;
  workspace: string;
  dirs: string[];
  before: Snapshot;
}

export class RunLog {
  private begun: Begun | undefined;
  private notes: RunNote = {};
  private evaluations: Evaluation[] = [];
  private unwatch: (() => void) | undefined;

  /** Called before the action of `action`; records nothing for commands outside RECORDED or outside a workspace. */
  begin(action: Command, workspace: string, globals: Record<string, unknown>): void {
    const command = action.name();
    if (!RECORDED.has(command) || !existsSync(join(workspace, CONFIG_FILE))) return;
    let dirs: string[];
    try {
      const p = openWorkspace(workspace).paths;
      dirs = [p.candidates, p.rules];
    } catch {
      const p = workspacePaths(workspace);
      dirs = [p.candidates, p.rules];
    }
    this.begun = {
      started: new Date(),
      t0: performance.now(),
      command,
      args: action.args.map(String),
      options: { ...globals, ...action.opts() },
      workspace,
      dirs,
      before: snapshotRules(dirs),
    };
    // every backtest the command makes, however deep in the core: which evaluator made it
    this.unwatch = watchEvaluations((e) => this.evaluations.push(e));
  }

  /** A command's own details; later notes add to earlier ones. */
  note(n: RunNote): void {
    this.notes = { ...this.notes, ...n, details: { ...(this.notes.details ?? {}), ...(n.details ?? {}) } };
  }

  /** Append the record; never throws (a record that cannot be written is a warning). */
  async finish(io: Io, exitCode: number, error: unknown): Promise<void> {
    const b = this.begun;
    if (!b) return;
    this.begun = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    const engine = engineOf(this.evaluations);
    this.evaluations = [];
    try {
      let paths = workspacePaths(b.workspace);
      let table = 'sessions';
      try {
        const ws = openWorkspace(b.workspace);
        paths = ws.paths;
        table = ws.config.data.table;
      } catch {
        // a broken config is itself worth recording; the defaults locate the rest
      }
      const message =
        error === undefined || error === null
          ? null
          : error instanceof RulegenError
            ? error.headline || error.problems.map((p) => p.message).join('; ') || error.message
            : error instanceof Error
              ? error.message
              : String(error);
      await appendRun({
        started: b.started,
        command: b.command,
        args: b.args,
        options: b.options,
        workspace: b.workspace,
        paths,
        table,
        exitCode,
        error: message,
        latencyMs: performance.now() - b.t0,
        ids: writtenIds(b.before, snapshotRules(b.dirs)),
        note: { ...this.notes, ...(engine ? { engine } : {}) },
      });
    } catch (e) {
      io.stderr(`rulegen: warning: could not write the run record: ${(e as Error).message}\n`);
    }
  }
}

/** The record's `engine`: which evaluators made the backtests, the kernel's last set-up, the first fallback reason. */
function engineOf(es: readonly Evaluation[]): RunEngine | null {
  if (!es.length) return null;
  const names = new Set(es.map((e) => e.engine));
  const kernel = es.filter((e) => e.kernel).at(-1)?.kernel ?? null;
  const fallback = es.find((e) => e.fallback)?.fallback;
  return { engine: names.size > 1 ? 'kernel+sql' : es[0]!.engine, kernel, ...(fallback ? { fallback } : {}) };
}
