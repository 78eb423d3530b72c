/**
 * A child process run by the kill tests (ingest and ingest-logs): it prints "ready" and its steps
 * on stdout; the parent SIGKILLs it a set time after a line it names.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

export interface ChildRun {
  /** The last line the child printed before it ended ("done ..." when it finished). */
  last: string;
  killed: boolean;
}

/** Run `script` with `args` through tsx; `kill.ms` after it prints a line starting with `kill.at`, SIGKILL it. */
export function runKillable(script: string, args: readonly string[], kill?: { at: string; ms: number }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n').slice(0, -1)) {
        if (kill && !armed && line.startsWith(kill.at)) {
          armed = true;
          setTimeout(() => (killed = child.kill('SIGKILL')), kill.ms);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = out.trim().split('\n');
      const last = lines[lines.length - 1] ?? '';
      if (!killed && code !== 0) reject(new Error(`child failed (${code ?? signal}): ${err}`));
      else resolve({ last, killed: killed && signal === 'SIGKILL' && !last.startsWith('done') });
    });
  });
}
