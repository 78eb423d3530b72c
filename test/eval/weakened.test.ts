/** A deliberately weakened inducer setting (one rule instead of five) is caught by the baseline comparison. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../..');

describe('eval --baseline', () => {
  it('exits 1 naming the case and metric when the inducer is weakened', async () => {
    const r = await runCli(
      ['eval', 'eval/suites/default.yaml', '--case', 'trap-heavy-humans', '--provider', 'offline', '--count', '1', '--baseline', 'eval/baselines/default.json'],
      ROOT,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/regression\(s\) against the baseline/);
    expect(r.stdout).toMatch(/trap-heavy-humans \/ offline: set_recall /);
    expect(r.stderr).toMatch(/regression: .*trap-heavy-humans \/ offline: set_recall/);
  });
});
