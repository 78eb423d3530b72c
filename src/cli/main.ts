/**
 * The CLI: commander wiring only. Each command normalises its flags, calls the core with typed
 * options and prints. This is the only place where errors become exit codes:
 * 0 ok, 1 a gate or check failed, 2 bad usage or input, 3 an external failure.
 */
import { Command, CommanderError, Option } from 'commander';
import { ReportedFailure, RulegenError, type Problem } from '../errors.js';
import { resolveWorkspaceDir } from '../workspace.js';
import { processIo, type GlobalOptions, type Io } from './context.js';
import { registerCommands, WORKSPACE_FREE } from './commands/index.js';
import { addHelp } from './help.js';
import { setNoteSink } from '../notes.js';
import { recoverBeforeCommand } from '../review/lifecycle.js';
import { RunLog } from '../runs/hook.js';

export function buildProgram(io: Io, runLog: RunLog = new RunLog()): Command {
  const program = new Command('rulegen')
    .description('A workbench for bot-detection rules: rank features, propose rules, backtest, approve.')
    .version('0.1.0')
    .option('-C, --workspace <dir>', 'workspace directory (default: the nearest folder upwards with rulegen.yaml)')
    .option('--json', 'machine-readable output on stdout (errors too)', false)
    .option('-q, --quiet', 'no progress or notes on stderr', false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  // Found once the command is known: init creates a workspace where it is told, every other
  // command looks upwards from the cwd as git does, and -C overrides both.
  let workspace: string | undefined;
  const opts = () => program.opts<{ workspace?: string; json: boolean; quiet: boolean }>();
  program.hook('preAction', (_program, action) => {
    const name = action.name();
    workspace =
      name === 'init' ? resolveWorkspaceDir(io.cwd, opts().workspace ?? '.', false) : resolveWorkspaceDir(io.cwd, opts().workspace, !WORKSPACE_FREE.has(name));
    // the run record (src/runs): begun here so it covers the command's whole action
    runLog.begin(action, workspace, { ...opts() });
    // notes the core raises (label corrections applied, ...) go to stderr unless --quiet
    setNoteSink(opts().quiet ? null : (m) => io.stderr(`rulegen: ${m}\n`));
  });
  const globals = (): GlobalOptions => {
    const o = opts();
    return { workspace: workspace ?? resolveWorkspaceDir(io.cwd, o.workspace, false), json: o.json, quiet: o.quiet };
  };
  // After the workspace is found, before the command: finish (or roll back) what a killed approve/reject/deprecate left.
  program.hook('preAction', async (_program, action) => {
    if (action.name() === 'init' || WORKSPACE_FREE.has(action.name())) return;
    const g = globals();
    for (const n of await recoverBeforeCommand(g.workspace)) if (!g.quiet) io.stderr(`rulegen: recovered: ${n}\n`);
  });
  registerCommands(program, { io, globals, note: (n) => runLog.note(n) });
  addHelp(program);
  return program;
}

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const runLog = new RunLog();
  const program = buildProgram(io, runLog);
  try {
    await program.parseAsync(argv, { from: 'user' });
    setNoteSink(null);
    await runLog.finish(io, 0, undefined);
    return 0;
  } catch (e) {
    setNoteSink(null);
    const failed = reportError(e, io, wantsJson(argv));
    await runLog.finish(io, failed, e);
    return failed;
  }
}

/**
 * Whether --json was asked for, read from argv itself: a usage error can come before commander
 * has parsed the options. Anything after `--` is an argument, not a flag.
 */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The exit code an error maps to, or null for commander's help and version (exit 0, not errors). */
export function exitCodeOf(e: unknown): number | null {
  if (e instanceof CommanderError) {
    // help and version exit 0; everything else commander rejects is bad usage
    return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? null : 2;
  }
  if (e instanceof RulegenError) return e.exitCode;
  return 3;
}

/** A problem with every key present (null when unknown), so consumers need not probe. */
function problemJson(p: Problem): Record<string, unknown> {
  const w = p.where ?? {};
  return {
    severity: p.severity,
    message: p.message,
    where: { file: w.file ?? null, line: w.line ?? null, column: w.column ?? null, field: w.field ?? null, ruleId: w.ruleId ?? null },
    expected: p.expected ?? null,
    found: p.found ?? null,
    excerpt: p.excerpt ?? null,
  };
}

/**
 * What --json prints on stdout when a command fails: `{"error": {exit_code, message, problems}}`.
 * An internal error carries its message only: a stack trace is for the human on stderr.
 */
export function errorJson(e: unknown, exitCode: number): { error: { exit_code: number; message: string; problems: Record<string, unknown>[] } } {
  if (e instanceof RulegenError) {
    const message = e.headline || e.problems.map((p) => p.message).join('; ') || e.message;
    return { error: { exit_code: exitCode, message, problems: e.problems.map(problemJson) } };
  }
  if (e instanceof CommanderError) return { error: { exit_code: exitCode, message: e.message.replace(/^error: /, ''), problems: [] } };
  return { error: { exit_code: exitCode, message: `internal error: ${(e as Error)?.message ?? String(e)}`, problems: [] } };
}

export function reportError(e: unknown, io: Io, json = false): number {
  const code = exitCodeOf(e);
  if (code === null) return 0;
  // the command printed its report (the --json document too): at most the reason follows, on stderr
  if (e instanceof ReportedFailure) {
    if (e.message) io.stderr(`rulegen: ${e.describe()}\n`);
    return code;
  }
  // commander has already written its own message to stderr
  if (e instanceof RulegenError) io.stderr(`rulegen: ${e.describe()}\n`);
  else if (!(e instanceof CommanderError)) io.stderr(`rulegen: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  if (json) io.stdout(JSON.stringify(errorJson(e, code)) + '\n');
  return code;
}

export { Option };
