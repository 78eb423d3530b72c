/**
 * `rulegen demo --logs`: the whole pipeline on the real access log (fixtures/logs): ingest-logs,
 * rank, offline propose, backtest, approve, docs and check run on its sessions; no rule uses a
 * feature derived from the user agent (the labels' source).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tmpDir } from '../helpers/cli.js';

describe('rulegen demo --logs', () => {
  it('runs the pipeline on the real Apache log with a gate it can reach, and no rule learns the label back', async () => {
    const dir = tmpDir();
    const r = await runCli(['demo', '--logs', '--dir', 'd', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ingest).toMatchObject({ lines: 10000, requests: 10000, sessions: 3224, bots: 1450, humans: 1774 });
    expect(out.check.passed).toBe(true);
    const config = readFileSync(join(dir, 'd', 'rulegen.yaml'), 'utf8');
    // the gate is stated with its reason
    expect(config).toMatch(/max_fpr: 0\.05 .*labelled humans/);
    for (const folder of ['candidates', 'rules']) {
      for (const f of readdirSync(join(dir, 'd', folder)).filter((x) => x.endsWith('.yaml'))) {
        const text = readFileSync(join(dir, 'd', folder, f), 'utf8');
        const condition = /^condition: (.*)$/m.exec(text)?.[1] ?? '';
        expect(condition, f).not.toMatch(/ua_family|user_agent|ua_missing|ua_malformed/);
      }
    }
    expect(readFileSync(join(dir, 'd', 'docs', 'report.html'), 'utf8')).toContain('<!DOCTYPE html>');
  });
});
