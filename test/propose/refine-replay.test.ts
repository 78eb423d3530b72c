/**
 * Issue 16 on the demo's data from the committed cassettes (fixtures/llm/fp-cassette.mts writes
 * them; the fp answer is hand-written, the refine answers scripted from `rulegen fp`'s measured
 * modifications, both labelled so in the cassette): `propose --refine 2 --provider replay` and
 * `fp --provider replay`, with no credentials and no network.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { demoWorkspace } from '../helpers/demo.js';
import { FP_RULE } from '../../fixtures/llm/fp-cassette.mjs';

let demo: string;
beforeAll(async () => {
  // the demo's data, built as src/demo.ts builds it: init, 100,000 sessions over 21 days, seed 1
  demo = await demoWorkspace('rulegen-demo-refine-');
}, 60_000);

describe('the demo cassettes of issue 16', () => {
  it('propose --count 5 --refine 2 --provider replay refines the candidate that fails the gate, recording the round', async () => {
    const r = await runCli(['-C', demo, '--json', 'propose', '--count', '5', '--refine', '2', '--provider', 'replay'], demo);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.candidates).toHaveLength(5);
    const refined = j.candidates.filter((c: { refine?: unknown[] }) => c.refine?.length);
    expect(refined.length).toBeGreaterThanOrEqual(1);
    for (const c of refined) {
      const doc = parseYaml(readFileSync(c.file, 'utf8'));
      expect(doc.condition).toBe(c.condition);
      expect(doc.provenance.refine[0].generator).toMatch(/^replay:[0-9a-f]{64}\.json$/);
      expect(doc.provenance.refine[0].evidence.gate_reasons.length).toBeGreaterThan(0);
      expect(doc.tags).toContain('refined');
    }
    // the model path also runs the covering search for the prompt's bot families (issue 15, item 6)
  }, 60_000);

  it('fp --provider replay: the populations named and the modifications measured', async () => {
    // the demo's night-time candidate, written by the test above (the request holds its title and condition)
    const file = readdirSync(join(demo, 'candidates'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(demo, 'candidates', f))
      .find((f) => parseYaml(readFileSync(f, 'utf8'))?.condition === FP_RULE.condition)!;
    expect(file).toBeDefined();
    const r = await runCli(['-C', demo, 'fp', file, '--provider', 'replay'], demo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Populations named by the model:');
    expect(r.stdout).toMatch(/M1\. .*\n\s+night_activity_ratio > 0\.5 and pointer_events = 0 and interarrival_cv < 0\.4/);
    expect(r.stdout).toMatch(/train: false positives \d+ -> \d+ \(cut/);
  }, 20_000);
});
