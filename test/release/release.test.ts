/**
 * `rulegen release` on the fixture workspace: a first release, then a second one after rules
 * were added, removed and changed, whose CHANGELOG.md is pinned byte for byte
 * (fixtures/golden/release/CHANGELOG.md; regenerate with UPDATE_GOLDEN=1 and review it).
 * A failing check refuses the release (exit 1) and writes nothing.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelease, type ReleaseResult } from '../../src/release/release.js';
import { bundleJsonSchema } from '../../src/release/schema.js';
import { loadRuleset } from '../../src/runtime/index.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';
import { goldenIn } from '../helpers/golden.js';

const GOLDEN = join(import.meta.dirname, '../../fixtures/golden/release');
const NIGHT = '5e2a9f71-0c3b-4d8e-b6a4-7f1c2e9d0b32';
const HEADLESS = '9c4e1b28-6a7d-4f03-8e52-1b9a3c7d5e43';
const NIGHT2 = '2c8f3a61-7d4e-4b5a-9c0d-1e2f3a4b5c6d';
const TOOLS = '7d1e5a90-2b4c-4e6f-8a13-5c9b0d2e4f61';

/** A new approved rule file, made from the night rule's text with another id, title and condition. */
function addRule(id: string, title: string, condition: string, extra = ''): void {
  const night = readFileSync(join(dir, 'rules', `${NIGHT}.yaml`), 'utf8');
  writeFileSync(
    join(dir, 'rules', `${id}.yaml`),
    night
      .replace(NIGHT, id)
      .replace(/title: .*/, `title: ${title}`)
      .replace(/condition: .*/, `condition: ${JSON.stringify(condition)}`)
      .concat(extra),
  );
}

let dir: string;

const golden = goldenIn(GOLDEN);

async function release(version: string | undefined, now: string): Promise<ReleaseResult> {
  const ws = openWorkspace(dir);
  const store = await openWorkspaceStore(ws, { mode: 'read' });
  try {
    return await runRelease(ws, store, { version, now: new Date(now) });
  } finally {
    store.close();
  }
}

const edit = (id: string, f: (text: string) => string) => {
  const file = join(dir, 'rules', `${id}.yaml`);
  writeFileSync(file, f(readFileSync(file, 'utf8')));
};

beforeAll(async () => {
  dir = await exampleWorkspace();
  // the repository's example set (3b0d6c2e is deprecated) plus one rule to be removed later
  addRule(NIGHT2, 'Night-time sessions with near-regular timing', 'night_activity_ratio > 0.8 and interarrival_cv < 0.2');
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rulegen release', () => {
  it('writes a verified bundle with every approved rule, its JSON Schema and a first changelog', async () => {
    const r = await release(undefined, '2026-12-01T10:00:00Z');
    expect(r.dir).toBe(join(dir, 'releases', '1.0.0'));
    expect(readdirSync(r.dir).sort()).toEqual(['CHANGELOG.md', 'ruleset.json', 'ruleset.schema.json']);
    const rs = loadRuleset(readFileSync(join(r.dir, 'ruleset.json'), 'utf8'));
    expect(rs.sha256).toBe(r.bundle.sha256);
    const b = r.bundle;
    expect(b.previous).toBeNull();
    expect(b.rules.map((x) => [x.id, x.version, x.action, x.stage])).toEqual([
      [NIGHT2, 1, 'challenge', 'block'],
      [NIGHT, 1, 'challenge', 'block'],
      [HEADLESS, 1, 'challenge', 'block'],
    ]);
    const headless = b.rules[2]!;
    expect(headless.condition).toBe('webdriver_flag and interarrival_cv < 0.1 and pointer_events = 0');
    expect(headless.features).toEqual([
      { name: 'webdriver_flag', type: 'boolean' },
      { name: 'interarrival_cv', type: 'number', unit: 'ratio' },
      { name: 'pointer_events', type: 'number', unit: 'events' },
    ]);
    expect(headless.compiled.duckdb).toEqual({
      sql: 'coalesce((("webdriver_flag") and ("interarrival_cv" < ?::DOUBLE) and ("pointer_events" = ?::DOUBLE)), false)',
      parameters: [0.1, 0],
    });
    expect(headless.compiled.spark.sql).toBe('coalesce(((`webdriver_flag`) and (`interarrival_cv` < 0.1) and (`pointer_events` = 0)), false)');
    expect(headless.evidence?.window.name).toBe('test');
    expect(headless.evidence?.counts.tp).toBeGreaterThanOrEqual(20);
    expect(JSON.parse(readFileSync(join(r.dir, 'ruleset.schema.json'), 'utf8'))).toEqual(bundleJsonSchema());
    golden('ruleset.schema.json', readFileSync(join(r.dir, 'ruleset.schema.json'), 'utf8'));
    expect(r.changelog).toContain('The first release: every rule is new.');
    expect(r.changelog).toContain('## Added (3)');
    expect(r.changelog).not.toContain('3b0d6c2e');
  });

  it('a second release after rules were added, removed and changed: the changelog with evidence before and after (golden)', async () => {
    // changed: an action and a condition; removed: a deprecated rule; added: a rule in shadow
    edit(NIGHT, (t) => t.replace('action: challenge', 'action: block'));
    edit(HEADLESS, (t) => t.replace('interarrival_cv < 0.1 ', 'interarrival_cv < 0.12 '));
    edit(NIGHT2, (t) => t.replace('status: approved', 'status: deprecated'));
    addRule(
      TOOLS,
      'HTTP libraries that run no JavaScript and load no assets',
      "ua_family in ('python_requests', 'go_http', 'curl') and not js_executed and static_asset_ratio < 0.05",
      'rollout:\n  stage: shadow\n  since: 2026-12-01T10:00:00Z\n',
    );
    edit(TOOLS, (t) => t.replace('action: block', 'action: log'));
    const r = await release(undefined, '2026-12-08T10:00:00Z');
    expect(r.bundle.version).toBe('1.1.0');
    expect(r.bundle.previous).toEqual({ version: '1.0.0', sha256: r.previous!.sha256 });
    expect(r.bundle.rules.map((x) => [x.id.slice(0, 8), x.version, x.action, x.stage])).toEqual([
      ['5e2a9f71', 2, 'block', 'block'],
      ['7d1e5a90', 1, 'log', 'shadow'],
      ['9c4e1b28', 2, 'challenge', 'block'],
    ]);
    golden('CHANGELOG.md', r.changelog);
    expect(readFileSync(join(r.dir, 'CHANGELOG.md'), 'utf8')).toBe(r.changelog);
  });

  it('refuses to build when check fails (exit 1) and writes nothing; an existing version is refused (exit 2)', async () => {
    const bad = '0f0e0d0c-0b0a-4908-8706-050403020100';
    writeFileSync(
      join(dir, 'rules', `${bad}.yaml`),
      readFileSync(join(dir, 'rules', `${NIGHT}.yaml`), 'utf8')
        .replace(NIGHT, bad)
        .replace(/condition: .*/, 'condition: requests_per_minute > 1'),
    );
    const r = await runCli(['-C', dir, 'release', '2.0.0'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('release refused: rulegen check fails for 1 rule');
    expect(r.stderr).toMatch(/exceeds max_fpr/);
    expect(existsSync(join(dir, 'releases', '2.0.0'))).toBe(false);
    rmSync(join(dir, 'rules', `${bad}.yaml`));
    const again = await runCli(['-C', dir, 'release', '1.1.0'], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('release 1.1.0 already exists');
    expect(readdirSync(join(dir, 'releases'))).toEqual(['1.0.0', '1.1.0']);
  });

  it('refuses to build on top of a previous release that was changed after it was written (exit 2)', async () => {
    const file = join(dir, 'releases', '1.1.0', 'ruleset.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"action": "block"', '"action": "log"'));
    const r = await runCli(['-C', dir, 'release'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the release 1.1.0 cannot be read: sha256 mismatch');
    writeFileSync(file, text);
    const ok = await runCli(['-C', dir, '--json', 'release'], dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ version: '1.2.0', previous: { version: '1.1.0' } });
  });
});
