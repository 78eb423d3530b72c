import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/context.js';
import { formatTick, fmtDuration, progressReporter } from '../../src/cli/progress.js';
import { Store } from '../../src/db/store.js';
import { synthesize } from '../../src/synth/generate.js';
import { tmpDir } from '../helpers/tmp.js';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('progress reporter', () => {
  it('is silent off a terminal, in CI and with --quiet', () => {
    for (const o of [
      { isTTY: false, quiet: false, env: {} },
      { isTTY: true, quiet: false, env: { CI: 'true' } },
      { isTTY: true, quiet: true, env: {} },
    ]) {
      let out = '';
      const r = progressReporter({ ...o, write: (t) => (out += t), heartbeatMs: 0 });
      r.step('generating');
      r.tick(5, 10, 'rows');
      r.tick(10, 10, 'rows');
      r.done();
      expect(out, JSON.stringify(o)).toBe('');
    }
  });

  it('on a terminal: rewrites one line with count, rate and ETA, throttled', () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const r = progressReporter({
      isTTY: true,
      quiet: false,
      env: { CI: 'false' },
      write: (t) => lines.push(t),
      now: clock.now,
      intervalMs: 100,
      heartbeatMs: 0,
    });
    r.step('generating 100000 sessions');
    clock.advance(1000);
    r.tick(20_000, 100_000, 'rows');
    clock.advance(10);
    r.tick(21_000, 100_000, 'rows'); // within 100 ms: not drawn
    clock.advance(1000);
    r.tick(40_000, 100_000, 'rows');
    clock.advance(1);
    r.tick(100_000, 100_000, 'rows'); // the last tick is always drawn
    r.done();
    expect(lines).toEqual([
      '\r\x1b[2K[0.0s] generating 100000 sessions',
      '\r\x1b[2K[1.0s] generating 100000 sessions: 20,000/100,000 rows, 20,000 rows/s, ETA 4.0s',
      '\r\x1b[2K[2.0s] generating 100000 sessions: 40,000/100,000 rows, 19,900 rows/s, ETA 3.0s',
      '\r\x1b[2K[2.0s] generating 100000 sessions: 100,000/100,000 rows, 49,727 rows/s',
      '\r\x1b[2K',
    ]);
  });

  it('formats counts without a total, and long durations', () => {
    expect(formatTick(3, null, 'rules', 2)).toBe('3 rules, 2 rules/s');
    expect(formatTick(0, 10, 'rules', 0)).toBe('0/10 rules');
    expect(fmtDuration(185)).toBe('3m05s');
    expect(fmtDuration(3720)).toBe('1h02m');
  });
});

describe('synth progress', () => {
  it('writes the same bytes with progress on, and ends on the full count', async () => {
    const dir = tmpDir();
    const s = await Store.open();
    const ticks: [number, number | null, string][] = [];
    await synthesize(s, { sessions: 3000, days: 3, seed: 7, out: join(dir, 'a.parquet') });
    await synthesize(s, { sessions: 3000, days: 3, seed: 7, out: join(dir, 'b.parquet'), onProgress: (d, t, u) => ticks.push([d, t, u]) });
    s.close();
    const hash = (f: string) =>
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex');
    expect(hash('b.parquet')).toBe(hash('a.parquet'));
    expect(ticks.at(-1)).toEqual([3000, 3000, 'rows']);
    for (const [d] of ticks) expect(d).toBeLessThanOrEqual(3000);
  });

  it('`rulegen synth` on a terminal shows rows and rate on stderr; off it, nothing', async () => {
    const dir = tmpDir();
    const run = async (isTTY: boolean, env: NodeJS.ProcessEnv, extra: string[] = []) => {
      let err = '';
      const io: Io = { stdout: () => undefined, stderr: (t) => (err += t), isTTY, cwd: dir, env };
      expect(await main([...extra, 'synth', '--sessions', '2000', '--days', '2', '--out', 'x.parquet'], io)).toBe(0);
      return err;
    };
    const tty = await run(true, {});
    expect(tty).toMatch(/generating 2000 sessions: 2,000\/2,000 rows, [\d,]+ rows\/s/);
    expect(await run(false, {})).toBe('');
    expect(await run(true, { CI: '1' })).toBe('');
    expect(await run(true, {}, ['-q'])).toBe('');
  });
});
