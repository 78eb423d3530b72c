import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
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

  it('times a count that runs across stages from the stage it began in, and restarts it when it restarts', () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const r = progressReporter({ isTTY: true, quiet: false, env: {}, write: (t) => lines.push(t), now: clock.now, intervalMs: 0, heartbeatMs: 0 });
    r.step('case a');
    r.tick(0, 4, 'cases');
    clock.advance(2000);
    r.tick(1, 4, 'cases');
    r.step('case b');
    r.tick(1, 4, 'cases'); // one case in 2 s, not one case in no time
    clock.advance(2000);
    r.step('ranking');
    r.tick(0, 10, 'features'); // another unit: a new count from this stage
    clock.advance(1000);
    r.tick(5, 10, 'features');
    r.done();
    expect(lines).toEqual([
      '\r\x1b[2K[0.0s] case a',
      '\r\x1b[2K[0.0s] case a: 0/4 cases',
      '\r\x1b[2K[2.0s] case a: 1/4 cases, 0.5 cases/s, ETA 6.0s',
      '\r\x1b[2K[2.0s] case b',
      '\r\x1b[2K[2.0s] case b: 1/4 cases, 0.5 cases/s, ETA 6.0s',
      '\r\x1b[2K[4.0s] ranking',
      '\r\x1b[2K[4.0s] ranking: 0/10 features',
      '\r\x1b[2K[5.0s] ranking: 5/10 features, 5.0 features/s, ETA 1.0s',
      '\r\x1b[2K',
    ]);
  });

  it('formats counts without a total, and long durations', () => {
    expect(formatTick(3, null, 'rules', 2)).toBe('3 rules, 1.5 rules/s');
    expect(formatTick(30, null, 'rules', 2)).toBe('30 rules, 15 rules/s');
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

/** Run the CLI in-process as if on a terminal (or not), returning the exit code and stderr. */
async function onTerminal(args: string[], cwd: string, isTTY: boolean, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; err: string }> {
  let err = '';
  const io: Io = { stdout: () => undefined, stderr: (t) => (err += t), isTTY, cwd, env };
  const code = await main(args, io);
  return { code, err };
}

describe('rank and eval progress', () => {
  it('`rulegen rank` ticks the statistics and the features on a terminal; off it, in CI and with -q, nothing', async () => {
    const dir = tmpDir();
    expect((await onTerminal(['init'], dir, false)).code).toBe(0);
    expect((await onTerminal(['synth', '--sessions', '2000', '--days', '4', '--out', 'data/s.parquet'], dir, false)).code).toBe(0);
    expect((await onTerminal(['ingest', 'data/s.parquet'], dir, false)).code).toBe(0);
    const tty = await onTerminal(['rank'], dir, true);
    expect(tty.code).toBe(0);
    expect(tty.err).toMatch(/computing AUC, KS, quantiles and IV: [56]\/[56] queries/);
    expect(tty.err).toMatch(/ranking \d+ features: (\d+)\/\1 features/);
    expect(tty.err.endsWith('\r\x1b[2K')).toBe(true);
    for (const [isTTY, env, extra] of [
      [false, {}, []],
      [true, { CI: 'true' }, []],
      [true, {}, ['-q']],
    ] as const) {
      const r = await onTerminal([...extra, 'rank'], dir, isTTY, env);
      expect(r.code).toBe(0);
      expect(r.err, JSON.stringify({ isTTY, env, extra })).not.toMatch(/\r/);
    }
  });

  it('`rulegen propose` ticks the rules found, `backtest` and `check` the statements run', async () => {
    const dir = tmpDir();
    expect((await onTerminal(['init'], dir, false)).code).toBe(0);
    expect((await onTerminal(['synth', '--sessions', '20000', '--days', '8', '--out', 'data/s.parquet'], dir, false)).code).toBe(0);
    expect((await onTerminal(['ingest', 'data/s.parquet'], dir, false)).code).toBe(0);
    // a gate 20,000 sessions can reach, so the search runs its steps
    const config = join(dir, 'rulegen.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^  max_fpr: [\d.]+/m, '  max_fpr: 0.02'));
    const propose = await onTerminal(['propose', '--count', '2'], dir, true);
    expect(propose.code).toBe(0);
    expect(propose.err).toMatch(/rule 1: scoring \d+ atoms on [\d,]+ uncovered bots: 0\/2 rules/);
    // the columnar kernel (the default) ticks blocks of rows; the SQL engine its statements
    const backtest = await onTerminal(['backtest', '--core-only'], dir, true);
    expect(backtest.err).toMatch(/(\d+)\/\1 blocks/);
    const sql = await onTerminal(['backtest', '--core-only', '--engine', 'sql'], dir, true);
    expect(sql.err).toMatch(/\d+ statements/);
    const check = await onTerminal(['check', '--candidates', '--engine', 'sql'], dir, true);
    expect(check.err).toMatch(/\d+ statements/);
    expect((await onTerminal(['check', '--candidates'], dir, false)).err).not.toMatch(/\r/);
  });

  it('`rulegen eval` ticks the cases done', async () => {
    const dir = tmpDir();
    writeFileSync(
      join(dir, 'suite.yaml'),
      'suite: mini\nversion: 1\ncases:\n  - name: tiny\n    synth: { seed: 5, sessions: 3000, days: 7 }\n    gate: { max_fpr: 0.01, ' +
        'min_support: 5 }\n    count: 1\n',
    );
    const tty = await onTerminal(['eval', 'suite.yaml'], dir, true);
    expect(tty.code).toBe(0);
    expect(tty.err).toMatch(/case tiny: making the data: 0\/1 cases/);
    expect(tty.err).toMatch(/case tiny: offline: 0\/1 cases/);
    expect(tty.err).toMatch(/1\/1 cases, [\d.,]+ cases\/s/);
    expect((await onTerminal(['eval', 'suite.yaml'], dir, false)).err).not.toMatch(/\r/);
  });
});
