/**
 * The CLI: commander wiring only. Each command normalises its flags, calls the core with typed
 * options and prints. This is the only place where errors become exit codes:
 * 0 ok, 1 a gate or check failed, 2 bad usage or input, 3 an external failure.
 */
import { Command, CommanderError, Option } from 'commander';
import { resolve } from 'node:path';
import { RulegenError } from '../errors.js';
import { processIo, type GlobalOptions, type Io } from './context.js';
import { registerCommands } from './commands/index.js';

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('rulegen')
    .description('A workbench for bot-detection rules: rank features, propose rules, backtest, approve.')
    .version('0.1.0')
    .option('-C, --workspace <dir>', 'workspace directory', '.')
    .option('--json', 'machine-readable output on stdout', false)
    .option('-q, --quiet', 'no progress or notes on stderr', false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  const globals = (): GlobalOptions => {
    const o = program.opts<{ workspace: string; json: boolean; quiet: boolean }>();
    return { workspace: resolve(io.cwd, o.workspace), json: o.json, quiet: o.quiet };
  };
  registerCommands(program, { io, globals, setExit });
  return program;
}

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = Math.max(code, c)));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    return reportError(e, io);
  }
}

export function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    // help and version exit 0; everything else commander rejects is bad usage
    return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
  }
  if (e instanceof RulegenError) {
    io.stderr(`rulegen: ${e.describe()}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  io.stderr(`rulegen: internal error: ${err?.stack ?? String(e)}\n`);
  return 3;
}

export { Option };
