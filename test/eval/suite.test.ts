import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { compare, readBaseline, toBaseline } from '../../src/eval/compare.js';
import { caseArchetypes, driftStart } from '../../src/eval/data.js';
import type { EvalResult } from '../../src/eval/run.js';
import { loadSuite, parseSuite, resolveCases } from '../../src/eval/suite.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers/tmp.js';

const ROOT = join(import.meta.dirname, '../..');

describe('eval suite files', () => {
  it('reports every problem at once, each with file:line:col', () => {
    const text = [
      'suite: broken',
      'version: 1',
      'tolerance: { set_recal: 0.1 }',
      'cases:',
      '  - name: a',
      '    synth: { seed: 1, sessions: 20000, days: 14, drift_day: 20, weights: { corporate_natt: 2 } }',
      '  - name: a',
      '    synth: { seed: 2, sessions: 20000, days: 14 }',
      '    file: { path: x.parquet }',
      '  - name: c',
      '    synth: { seed: -1, sessions: 20000, days: 14, labelnoise: 0.1 }',
    ].join('\n');
    let err: InputError | undefined;
    try {
      parseSuite(text, 'suite.yaml');
    } catch (e) {
      err = e as InputError;
    }
    expect(err).toBeInstanceOf(InputError);
    // the zod pass: a bad seed and an unknown field, both located
    const zod = err!.problems.map((p) => `${p.where?.line}:${p.where?.column} ${p.message}`);
    expect(zod.some((p) => p.startsWith('11:') && /labelnoise/.test(p))).toBe(true);
    expect(zod.some((p) => p.startsWith('11:') && />=0|too small|0/.test(p))).toBe(true);
    expect(err!.message).toContain('suite.yaml:11:');
  });

  it('checks what zod cannot: metric names, populations, duplicates, drift day, one data source', () => {
    const text = [
      'suite: broken',
      'version: 1',
      'tolerance: { set_recal: 0.1 }',
      'cases:',
      '  - name: a',
      '    synth: { seed: 1, sessions: 20000, days: 14, drift_day: 20, weights: { corporate_natt: 2 } }',
      '  - name: a',
      '    synth: { seed: 2, sessions: 20000, days: 14 }',
      '    file: { path: x.parquet }',
    ].join('\n');
    let err: InputError | undefined;
    try {
      parseSuite(text, 'suite.yaml');
    } catch (e) {
      err = e as InputError;
    }
    const got = err!.problems.map((p) => `${p.where?.file}:${p.where?.line}:${p.where?.column} ${p.message}`);
    expect(got).toEqual([
      'suite.yaml:3:14 unknown metric `set_recal`',
      expect.stringMatching(/^suite\.yaml:6:\d+ unknown population `corporate_natt`$/),
      expect.stringMatching(/^suite\.yaml:6:\d+ drift_day is past the end of the data$/),
      expect.stringMatching(/^suite\.yaml:7:\d+ case name "a" is used twice$/),
      'suite.yaml:7:5 a case needs exactly one of `synth` or `file`',
    ]);
  });

  it('the shipped default suite loads, with three cases of different shape', () => {
    const s = loadSuite(join(ROOT, 'eval/suites/default.yaml'));
    const cases = resolveCases(s);
    expect(cases.map((c) => c.name)).toEqual(['drift-mid-window', 'heavy-label-noise', 'trap-heavy-humans']);
    expect(cases.every((c) => c.providers.join() === 'offline,replay')).toBe(true);
    // the drift case drifts on its day 11, inside the test window (the last 30% of 14 days)
    expect(driftStart(cases[0]!.synth!)!.toISOString()).toBe('2026-01-12T00:00:00.000Z');
    const arch = caseArchetypes(cases[2]!.synth!);
    expect(arch.find((a) => a.name === 'corporate_nat')!.share).toBeCloseTo(
      6 * caseArchetypes({ ...cases[2]!.synth!, weights: {} }).find((a) => a.name === 'corporate_nat')!.share,
    );
  });
});

describe('baselines', () => {
  const result = (setRecall: number, fpr: number): EvalResult => ({
    suite: 'default',
    version: 1,
    file: 'x',
    started: '',
    seconds: 1,
    failed: [],
    cases: [],
    rows: [
      {
        case: 'c1',
        provider: 'offline',
        model: null,
        judged_on: 'truth',
        populations: [],
        rules: [],
        metrics: {
          rules: 3,
          valid_rate: 1,
          repair_rounds: 0,
          passing: 3,
          best_recall: 0.1,
          set_recall: setRecall,
          set_fpr: fpr,
          set_fpr_upper95: 0.001,
          drift_survival: 1,
          duplicates: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
          latency_ms: 5,
        },
      },
    ],
  });

  it('flags a metric that moved the wrong way beyond its tolerance, naming case and metric', () => {
    const base = toBaseline(result(0.3, 0.0001));
    expect(compare(result(0.29, 0.0001), base, { tolerance: { set_recall: 0.02 } }).regressions).toEqual([]);
    const c = compare(result(0.2, 0.0009), base, { tolerance: { set_recall: 0.02, set_fpr: 0.0005 } });
    expect(c.regressions.map((r) => `${r.case} ${r.provider} ${r.metric}`)).toEqual(['c1 offline set_recall', 'c1 offline set_fpr']);
  });

  it('refuses a baseline of another suite version, with the reason', () => {
    const dir = tmpDir();
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ ...toBaseline(result(0.3, 0)), version: 2 }));
    expect(() => readBaseline(file, { suite: 'default', version: 1 })).toThrow(
      /baseline refused: it was made by suite "default" version 2, this is suite "default" version 1/,
    );
  });
});
