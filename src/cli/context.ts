/** What a command needs from the outside world, injected so tests can run the CLI in-process. */
import { progressReporter, type ProgressReporter } from './progress.js';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal: only then are progress lines shown. */
  isTTY: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  /** Workspace directory: -C, else the nearest ancestor of the cwd holding rulegen.yaml. */
  workspace: string;
  json: boolean;
  quiet: boolean;
}

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    env: process.env,
  };
}

/**
 * Progress on stderr, only on a TTY, never in CI and never with --quiet. `step` names a stage,
 * `tick` (an `OnProgress` for the core) says how far it is.
 */
export type Progress = ProgressReporter;

export function progress(io: Io, quiet: boolean): Progress {
  return progressReporter({ isTTY: io.isTTY, quiet, env: io.env, write: io.stderr });
}
