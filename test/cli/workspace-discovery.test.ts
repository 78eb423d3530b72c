import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findWorkspaceDir } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

describe('workspace discovery', () => {
  it('a command run in a subfolder finds the workspace upwards; -C still wins', async () => {
    const dir = tmpDir();
    expect((await runCli(['init', 'ws'], dir)).code).toBe(0);
    expect((await runCli(['init', 'other'], dir)).code).toBe(0);
    const deep = join(dir, 'ws', 'a', 'b');
    mkdirSync(deep, { recursive: true });
    expect(findWorkspaceDir(deep)).toBe(join(dir, 'ws'));
    const r = await runCli(['--json', 'sql', 'no_such_feature > 1'], deep);
    // found the workspace: the complaint is about the feature, not about a missing rulegen.yaml
    expect(r.stderr).toMatch(/unknown feature/);
    const lint = await runCli(['lint'], deep);
    expect(lint.code).toBe(0);
    expect(lint.stderr).toMatch(/0 rule files/);
    const other = join(dir, 'other');
    const c = await runCli(['-C', other, 'review'], deep);
    expect(c.code).toBe(0);
    expect(existsSync(join(dir, 'ws', '.rulegen'))).toBe(false);
  });

  it('outside any workspace: exit 2 naming the cwd and what to do', async () => {
    const dir = tmpDir();
    const r = await runCli(['review'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no rulegen.yaml in ${dir} or any parent; run \`rulegen init\` or pass -C`);
    const j = await runCli(['--json', 'rank'], dir);
    expect(JSON.parse(j.stdout).error.message).toMatch(/or any parent/);
  });

  it('init creates where it is told even inside a workspace', async () => {
    const dir = tmpDir();
    await runCli(['init'], dir);
    const sub = join(dir, 'nested');
    mkdirSync(sub);
    expect((await runCli(['init'], sub)).code).toBe(0);
    expect(existsSync(join(sub, 'rulegen.yaml'))).toBe(true);
  });
});
