// Shared helpers for benchmarks: run a command, time it, keep the median and the spread.
import { spawnSync } from 'node:child_process';

export function time(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return { seconds: s, stdout: r.stdout, stderr: r.stderr };
}

export function summarise(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  return { median, min: s[0], max: s[s.length - 1], runs: s.length, spread: (s[s.length - 1] - s[0]) / median };
}

export const fmt = (x) => x.toFixed(2);
