/** What a command needs from the outside world, injected so tests can run the CLI in-process. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal: only then are progress lines shown. */
  isTTY: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  /** Workspace directory (-C). */
  workspace: string;
  json: boolean;
  quiet: boolean;
}

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY) && !process.env['CI'],
    cwd: process.cwd(),
    env: process.env,
  };
}

/** Progress on stderr, only on a TTY and never with --quiet; a no-op in CI. */
export interface Progress {
  step(message: string): void;
  done(): void;
}

export function progress(io: Io, quiet: boolean): Progress {
  if (!io.isTTY || quiet) return { step: () => undefined, done: () => undefined };
  const started = Date.now();
  return {
    step: (m) => io.stderr(`\r\x1b[2K[${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`),
    done: () => io.stderr('\r\x1b[2K'),
  };
}
