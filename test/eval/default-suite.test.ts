/**
 * The shipped default suite, run as CI runs it: every case with the offline inducer and the
 * replay provider (the suite's cassettes), compared with the committed baseline. One test per
 * case and provider, so each stays inside the per-test budget.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compare, readBaseline } from '../../src/eval/compare.js';
import { runSuite } from '../../src/eval/run.js';
import { loadSuite } from '../../src/eval/suite.js';
import { costOf } from '../../src/llm/cost.js';
import { readFileSync, readdirSync } from 'node:fs';

const ROOT = join(import.meta.dirname, '../..');
const suite = loadSuite(join(ROOT, 'eval/suites/default.yaml'));
const baseline = readBaseline(join(ROOT, 'eval/baselines/default.json'), suite);

describe('the default eval suite against its committed baseline', () => {
  for (const c of suite.cases) {
    for (const provider of ['offline', 'replay'] as const) {
      it(`${c.name} / ${provider}`, async () => {
        const r = await runSuite(suite, { cases: [c.name], providers: [provider] });
        expect(r.failed).toEqual([]);
        expect(r.rows.map((x) => x.error ?? null)).toEqual([null]);
        const row = r.rows[0]!;
        expect(row.judged_on).toBe('truth');
        expect(row.populations.filter((p) => p.truth === 'bot').length).toBe(5);
        const cmp = compare(r, { ...baseline, rows: baseline.rows.filter((b) => b.case === c.name && b.provider === provider) }, suite);
        expect(cmp.unmatched).toEqual([]);
        expect(cmp.regressions).toEqual([]);
      });
    }
  }

  it('replay costs match the price table for the recorded token counts', () => {
    const cassettes = readdirSync(suite.cassetteDir).filter((f) => f.endsWith('.json'));
    expect(cassettes.length).toBe(3);
    const rows = baseline.rows.filter((b) => b.provider === 'replay');
    const costs = cassettes.map((f) => {
      const k = JSON.parse(readFileSync(join(suite.cassetteDir, f), 'utf8'));
      return costOf(k.model, k.response.usage)!;
    });
    // the run rounds cost to the micro-dollar
    const got = rows.map((r) => r.metrics.cost_usd!).sort();
    costs.sort().forEach((c, i) => expect(Math.abs(got[i]! - c)).toBeLessThanOrEqual(5e-7 + 1e-12));
  });
});
