import type { Register } from './index.js';
import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { Store } from '../../db/store.js';
import { progress } from '../context.js';
import { MAX_DAYS, MAX_SESSIONS, synthesize, synthFormat, type SynthSummary } from '../../synth/generate.js';

interface SynthFlags {
  sessions: string;
  days: string;
  seed: string;
  out?: string;
  catalog?: string;
}

/** A whole number from a flag; anything else names the flag, what was expected and what came. */
function integerFlag(flag: string, raw: string, min: number, max: number): number {
  const text = raw.trim().replaceAll('_', '');
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw InputError.single({
      message: `invalid value for ${flag}`,
      where: { field: flag },
      expected: min === 0 ? `a whole number from 0 to ${max}` : `a positive whole number up to ${max}`,
      found: JSON.stringify(raw),
    });
  }
  return value;
}

export function formatSynthSummary(s: SynthSummary): string {
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.rows)).toFixed(1)}%`;
  const width = Math.max(...Object.keys(s.archetypes).map((k) => k.length));
  return [
    `wrote ${s.rows} sessions to ${s.out} (${s.format}, seed ${s.seed}) in ${s.seconds.toFixed(1)} s`,
    `  time:   ${s.from ?? '-'} .. ${s.to ?? '-'}`,
    `  labels: ${s.bots} bot (${pct(s.bots)}), ${s.humans} human (${pct(s.humans)}), ${s.unlabelled} unlabelled (${pct(s.unlabelled)})`,
    `  archetypes (ground truth, not a feature):`,
    ...Object.entries(s.archetypes).map(([k, n]) => `    ${k.padEnd(width)}  ${String(n).padStart(String(s.rows).length)}  ${pct(n)}`),
    `feature catalog: ${s.catalog}`,
    '',
  ].join('\n');
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('synth')
    .description('generate labelled synthetic session traffic (Parquet or CSV) and its features.yaml')
    .option('--sessions <n>', 'sessions to generate', '100000')
    .option('--days <n>', 'length of the time span in days', '21')
    .option('--seed <n>', 'random seed; the same seed writes the same bytes', '1')
    .option('--out <file>', 'output file: .parquet or .csv')
    .option('--catalog <file>', 'where to write features.yaml (default: next to --out)')
    .action(async (flags: SynthFlags) => {
      const g = globals();
      const sessions = integerFlag('--sessions', flags.sessions, 1, MAX_SESSIONS);
      const days = integerFlag('--days', flags.days, 1, MAX_DAYS);
      const seed = integerFlag('--seed', flags.seed, 0, Number.MAX_SAFE_INTEGER);
      if (!flags.out) {
        throw InputError.single({ message: 'no output file', where: { field: '--out' }, expected: 'a file name ending in .parquet or .csv', found: 'nothing' });
      }
      const out = resolve(io.cwd, flags.out);
      synthFormat(out, '--out');
      const catalogOut = flags.catalog ? resolve(io.cwd, flags.catalog) : undefined;
      const bar = progress(io, g.quiet);
      bar.step(`generating ${sessions} sessions`);
      // Synthesis needs no workspace: an in-memory database does the work and the files are the result.
      const store = await Store.open();
      let summary: SynthSummary;
      try {
        summary = await synthesize(store, { sessions, days, seed, out, catalogOut, onProgress: bar.tick });
      } finally {
        bar.done();
        store.close();
      }
      io.stdout(g.json ? JSON.stringify(summary) + '\n' : formatSynthSummary(summary));
    });
};
