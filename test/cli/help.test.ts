import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { EXAMPLES } from '../../src/cli/help.js';
import { runCli, tmpDir } from '../helpers/cli.js';

describe('--help', () => {
  const io = { stdout: () => undefined, stderr: () => undefined, isTTY: false, cwd: '/', env: {} };
  const commands = buildProgram(io).commands.map((c) => c.name());

  it('every command has examples', () => {
    expect(commands.length).toBeGreaterThan(10);
    for (const c of commands) expect(EXAMPLES[c]?.length, c).toBeGreaterThan(0);
  });

  it('shows examples and the global options, and each default once', async () => {
    const dir = tmpDir();
    for (const c of ['propose', 'rank', 'backtest', 'ingest-logs']) {
      const r = await runCli([c, '--help'], dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:\n  rulegen ' + c.split(' ')[0]);
      expect(r.stdout).toContain('Global Options:');
      expect(r.stdout).toContain('-C, --workspace');
      expect(r.stdout).not.toContain('(default: false)');
      // no option says its default twice
      for (const line of r.stdout.split(/\n(?=  -)/)) expect((line.match(/default/g) ?? []).length, line).toBeLessThanOrEqual(1);
    }
  });
});
