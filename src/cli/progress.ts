/**
 * The progress line on stderr: one line rewritten in place (`\r`), showing the current stage,
 * the elapsed time and, once the core ticks, units done, rate and ETA. Shown only on a terminal,
 * never in CI and never with --quiet: a log file should not fill with carriage returns.
 */
import type { OnProgress } from '../progress.js';

export interface ProgressReporter {
  /** A new stage: its message replaces the line and resets the rate. */
  step(message: string): void;
  /** How far the current stage is; throttled, so it may be called per chunk. */
  tick: OnProgress;
  /** Clear the line (idempotent); call before printing results. */
  done(): void;
}

export interface ReporterOptions {
  isTTY: boolean;
  quiet: boolean;
  env: NodeJS.ProcessEnv;
  write: (text: string) => void;
  /** Milliseconds clock; injectable so tests can pin the rate. */
  now?: () => number;
  /** Minimum milliseconds between two redraws of a tick. */
  intervalMs?: number;
  /** Redraw this often even without ticks so the elapsed time moves (0: never; tests). */
  heartbeatMs?: number;
}

/** `CI=true`, `CI=1`, ...: every CI system sets it; `CI=false` or `0` says it is not one. */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const v = env['CI'];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

const SILENT: ProgressReporter = { step: () => undefined, tick: () => undefined, done: () => undefined };

export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Seconds as `4.2s`, `3m05s` or `1h02m`: short enough for an ETA. */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The counter part of the line: `40,000/100,000 rows, 52,300 rows/s, ETA 1.1s`. Pure. */
export function formatTick(done: number, total: number | null, unit: string, seconds: number): string {
  const parts = [total !== null ? `${fmtCount(done)}/${fmtCount(total)} ${unit}` : `${fmtCount(done)} ${unit}`];
  if (seconds > 0 && done > 0) {
    const rate = done / seconds;
    // a slow count (eval's cases, a few a minute) keeps a decimal: "0.4 cases/s", not "0 cases/s"
    parts.push(`${rate < 10 ? rate.toFixed(1) : fmtCount(rate)} ${unit}/s`);
    if (total !== null && total > done) parts.push(`ETA ${fmtDuration((total - done) / rate)}`);
  }
  return parts.join(', ');
}

export function progressReporter(o: ReporterOptions): ProgressReporter {
  if (!o.isTTY || o.quiet || isCi(o.env)) return SILENT;
  const now = o.now ?? Date.now;
  const interval = o.intervalMs ?? 100;
  const started = now();
  let message = '';
  let stageStart = started;
  let counter = '';
  // A count may run across stages (eval's runs, one stage per case): its rate and ETA are timed
  // from the stage it began in, until it restarts (a smaller count, another unit or total).
  let series: { unit: string; total: number | null; start: number; last: number } | undefined;
  let lastDraw = -Infinity;
  let shown = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const draw = (): void => {
    const t = now();
    // Without ticks (one long SQL statement) the elapsed time still moves; unref'd so it never
    // keeps the process alive, and stopped by done().
    if (!heartbeat && o.heartbeatMs !== 0) {
      heartbeat = setInterval(draw, o.heartbeatMs ?? 1000);
      heartbeat.unref();
    }
    lastDraw = t;
    shown = true;
    o.write(`\r\x1b[2K[${((t - started) / 1000).toFixed(1)}s] ${message}${counter ? `${message ? ': ' : ''}${counter}` : ''}`);
  };
  return {
    step(m) {
      message = m;
      counter = '';
      stageStart = now();
      draw();
    },
    tick(done, total, unit) {
      const t = now();
      const ended = series !== undefined && series.total !== null && series.last >= series.total;
      if (!series || ended || series.unit !== unit || series.total !== total || done < series.last) series = { unit, total, start: stageStart, last: done };
      series.last = done;
      // the first and the last tick of a stage are always drawn: the count shows at once, and the
      // line ends on the true count
      const first = counter === '';
      counter = formatTick(done, total, unit, (t - series.start) / 1000);
      if (first || t - lastDraw >= interval || (total !== null && done >= total)) draw();
    },
    done() {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      if (shown) o.write('\r\x1b[2K');
      shown = false;
    },
  };
}
