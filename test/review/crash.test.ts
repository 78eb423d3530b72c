/**
 * Crash safety of approve, reject and deprecate. Every file operation goes through one hook
 * (src/fsutil.ts); a hook that fails from operation N on is a process killed right before that
 * operation: nothing after it reaches the disk, not even cleanup. For every N from 0 to the
 * number of operations, the batch is interrupted there, the next command recovers, and then
 * the workspace must be exactly the state before or exactly the state after (rule files and
 * docs byte for byte: all or nothing), each id in one folder, no temp file, no journal.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setFsHook, setFsync, type FsOp } from '../../src/fsutil.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';
import { prepareApprove, prepareDeprecate, prepareReject, recoverBeforeCommand, type Prepared } from '../../src/review/lifecycle.js';
import { journalPath, recoverWorkspace, runJournal } from '../../src/review/journal.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

let ws: string;
const FAST_RULE = '3b0d6c2e-8f4a-4c1e-9a57-2d1f0e6b7a11';
const IDS = ['d1d1d1d1-0000-4000-8000-000000000001', 'd1d1d1d1-0000-4000-8000-000000000002', 'd1d1d1d1-0000-4000-8000-000000000003'];
const CONDITIONS = ['night_activity_ratio > 0.85 and interarrival_cv < 0.15', 'webdriver_flag', 'request_count > 500'];

function candidate(id: string, condition: string): string {
  return `# review with \`rulegen review\`, then approve or reject.
id: ${id}
title: Crash test ${condition}
status: candidate
action: challenge
level: medium
condition: ${condition}
description: A candidate for the crash test.
rationale: Timing signals.
falsepositives:
  - Unknown
tags: [test]
related: []
`;
}

/** Every file of rules/, candidates/, docs/ and .rulegen/ (not the database), with its bytes. */
function snapshot(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, deep: boolean) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (deep) walk(p, deep);
      } else if (!/\.duckdb(\.wal)?$/.test(name)) out.set(relative(ws, p), readFileSync(p, 'utf8'));
    }
  };
  for (const d of ['rules', 'candidates', 'docs']) walk(join(ws, d), true);
  walk(join(ws, '.rulegen'), false);
  return out;
}

/** Put rules/, candidates/, docs/ and .rulegen/'s files back exactly as `snap` has them (only what differs). */
function restore(snap: Map<string, string>): void {
  for (const [rel, text] of snapshot()) if (snap.get(rel) !== text) rmSync(join(ws, rel));
  const now = snapshot();
  for (const [rel, text] of snap) {
    if (now.get(rel) === text) continue;
    mkdirSync(join(ws, rel, '..'), { recursive: true });
    writeFileSync(join(ws, rel), text);
  }
}

/** A hook that lets `n` operations through and fails every later one: a kill before operation n. */
function killAfter(n: number): { count: () => number } {
  let seen = 0;
  setFsHook((op: FsOp, path: string) => {
    if (seen++ >= n) throw new Error(`simulated kill -9 before ${op} ${path}`);
  });
  return { count: () => seen };
}

afterEach(() => setFsHook(null));

function ruleFolderOf(id: string): string[] {
  return ['rules', 'candidates'].filter((d) => existsSync(join(ws, d, `${id}.yaml`)));
}

function tempFiles(): string[] {
  return [...snapshot().keys()].filter((f) => f.endsWith('.tmp'));
}

/**
 * Interrupt the prepared batch before each of its operations in turn (and once more, the
 * recovery itself), recover, and check the invariants. Returns how many kill points were tried.
 */
async function killEverywhere(prepared: Prepared<unknown>, ids: readonly string[]): Promise<number> {
  const w = openWorkspace(ws);
  // a kill in-process cannot observe fsync; on a loaded machine it would dominate the loop
  const synced = setFsync(false);
  try {
    return await killAt(prepared, ids, w);
  } finally {
    setFsync(synced);
  }
}

async function killAt(prepared: Prepared<unknown>, ids: readonly string[], w: ReturnType<typeof openWorkspace>): Promise<number> {
  const before = snapshot();
  const probe = killAfter(Number.MAX_SAFE_INTEGER);
  runJournal({ dir: ws }, prepared.journal);
  const total = probe.count();
  setFsHook(null);
  const after = snapshot();
  expect(after).not.toEqual(before);
  for (let n = 0; n <= total; n++) {
    restore(before);
    killAfter(n);
    if (n < total) expect(() => runJournal({ dir: ws }, prepared.journal), `kill point ${n}`).toThrow(/simulated kill/);
    else runJournal({ dir: ws }, prepared.journal);
    setFsHook(null);
    // every third time, the recovery is killed too (after n % 4 operations); the next one finishes it
    if (n % 3 === 1) {
      killAfter(n % 4);
      try {
        recoverWorkspace(w);
      } catch (e) {
        expect(String(e)).toMatch(/simulated kill/);
      }
      setFsHook(null);
    }
    // what the next command runs first (recoverBeforeCommand = open + this + docs if stale)
    const r = n === total ? { docsStale: false, notes: await recoverBeforeCommand(ws) } : recoverWorkspace(w);
    expect(r.docsStale, r.notes.join('\n')).toBe(false);
    const now = snapshot();
    const which = now.size === after.size && [...after].every(([k, v]) => now.get(k) === v) ? 'after' : 'before';
    expect(now, `kill point ${n} of ${total}: neither the state before nor the state after`).toEqual(which === 'after' ? after : before);
    if (n === total) expect(which).toBe('after');
    for (const id of ids) expect(ruleFolderOf(id), `kill point ${n}: ${id}`).toHaveLength(1);
    expect(tempFiles(), `kill point ${n}`).toEqual([]);
    expect(existsSync(journalPath({ dir: ws })), `kill point ${n}`).toBe(false);
  }
  restore(after);
  return total;
}

beforeAll(async () => {
  ws = await exampleWorkspace();
  IDS.forEach((id, i) => writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, CONDITIONS[i]!)));
  const docs = await runCli(['-C', ws, '--quiet', 'docs'], ws);
  expect(docs.code, docs.stderr).toBe(0);
  // one candidate changes an approved rule (same id): approving it makes a new id
  writeFileSync(join(ws, 'candidates', `${FAST_RULE}.yaml`), candidate(FAST_RULE, 'requests_per_minute > 50 and static_asset_ratio < 0.05'));
});

describe('kill -9 at every point of a decision: all or nothing after the next command', () => {
  it('approve of four candidates (one of them derived), with docs', async () => {
    const w = openWorkspace(ws);
    const store = await openWorkspaceStore(w);
    let prepared: Prepared<unknown>;
    try {
      prepared = await prepareApprove(w, store, { ids: [...IDS, FAST_RULE], reviewer: 'ann', override: 'crash test', now: new Date('2026-02-01T00:00:00Z') });
    } finally {
      store.close();
    }
    const total = await killEverywhere(prepared, IDS);
    expect(total).toBeGreaterThan(20);
    // after: approved, their pages written, and approving again says so
    for (const id of IDS) expect(existsSync(join(ws, 'docs/rules', `${id}.md`))).toBe(true);
    expect(existsSync(join(ws, 'candidates', `${FAST_RULE}.yaml`))).toBe(false);
    expect((await runCli(['-C', ws, 'lint'], ws)).code).toBe(0);
  });

  it('deprecate and a two-id reject', async () => {
    const w = openWorkspace(ws);
    const dep = await prepareDeprecate(w, null, { id: IDS[1]!, reason: 'crash test', reviewer: 'ann', now: new Date('2026-02-02T00:00:00Z') });
    await killEverywhere(dep, [IDS[1]!]);
    expect((parseYaml(readFileSync(join(ws, 'rules', `${IDS[1]}.yaml`), 'utf8')) as { status: string }).status).toBe('deprecated');
    const a = 'e1e1e1e1-0000-4000-8000-000000000001';
    const b = 'e1e1e1e1-0000-4000-8000-000000000002';
    writeFileSync(join(ws, 'candidates', `${a}.yaml`), candidate(a, 'request_count > 600'));
    writeFileSync(join(ws, 'candidates', `${b}.yaml`), candidate(b, 'request_count > 700'));
    const rej = await prepareReject(openWorkspace(ws), null, { ids: [a, b], reviewer: 'ann', reason: 'crash test', now: new Date('2026-02-02T00:00:00Z') });
    await killEverywhere(rej, [a, b]);
    expect(readFileSync(join(ws, 'candidates', `${a}.yaml`), 'utf8')).toContain('status: rejected');
  });
});

describe('recovery through the CLI', () => {
  it('a killed `rulegen approve` is completed by the next command, which says so; retrying then says "already approved"', async () => {
    const id = 'f1f1f1f1-0000-4000-8000-000000000001';
    writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, 'request_count > 800'));
    // kill it right after the new approved file is linked, before the candidate goes
    let linked = false;
    setFsHook((op, path) => {
      if (linked) throw new Error('simulated kill -9');
      if (op === 'link' && path.endsWith(`rules/${id}.yaml`)) linked = true;
    });
    const killed = await runCli(['-C', ws, 'approve', id, '--reviewer', 'ann', '--override', 'x'], ws);
    setFsHook(null);
    expect(killed.code).not.toBe(0);
    expect(ruleFolderOf(id)).toEqual(['rules', 'candidates']);
    const next = await runCli(['-C', ws, 'lint'], ws);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stderr).toMatch(/recovered: completed an interrupted approve/);
    expect(next.stderr).toMatch(/recovered: removed 1 leftover temp file/);
    expect(ruleFolderOf(id)).toEqual(['rules']);
    expect(readFileSync(join(ws, 'docs/rules/README.md'), 'utf8')).toContain(`(${id}.md)`);
    expect(existsSync(join(ws, 'docs/rules', `${id}.md`))).toBe(true);
    expect(tempFiles()).toEqual([]);
    const again = await runCli(['-C', ws, 'approve', id, '--reviewer', 'ann'], ws);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`rule ${id} is already approved`);
  });

  it(
    'a rule left in both folders by an older rulegen: the approved copy wins, said on stderr, docs regenerated; stale temp files go, a live ' + "writer's stay",
    async () => {
      const id = IDS[0]!;
      const approvedText = readFileSync(join(ws, 'rules', `${id}.yaml`), 'utf8');
      writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, CONDITIONS[0]!));
      rmSync(join(ws, 'docs/rules', `${id}.md`));
      const dead = join(ws, 'candidates', `.${id}.yaml.999999999.1700000000000.tmp`);
      const live = join(ws, 'rules', `.x.yaml.${process.ppid}.1700000000000.tmp`);
      writeFileSync(dead, 'half');
      writeFileSync(live, 'being written');
      const r = await runCli(['-C', ws, 'docs'], ws);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        `recovered: rule ${id} was in both candidates/${id}.yaml and rules/${id}.yaml (an interrupted approve): kept the approved rule, removed the candidate`,
      );
      expect(ruleFolderOf(id)).toEqual(['rules']);
      expect(readFileSync(join(ws, 'rules', `${id}.yaml`), 'utf8')).toBe(approvedText);
      expect(existsSync(join(ws, 'docs/rules', `${id}.md`))).toBe(true);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
      rmSync(live);
      // a candidate that changes an approved rule (same id, another condition) is not a leftover
      cpSync(join(ws, 'rules', `${id}.yaml`), join(ws, 'keep.yaml'));
      writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, 'request_count > 900'));
      const lint = await runCli(['-C', ws, 'lint'], ws);
      expect(lint.stderr).not.toContain('recovered');
      expect(ruleFolderOf(id)).toEqual(['rules', 'candidates']);
      rmSync(join(ws, 'candidates', `${id}.yaml`));
    },
  );

  it('a second writer cannot start while a journal is being applied by a live process', async () => {
    const j = journalPath({ dir: ws });
    writeFileSync(j, JSON.stringify({ version: 1, command: 'approve', pid: process.ppid, started: '2026-02-01T00:00:00.000Z', ops: [] }));
    const id = 'f1f1f1f1-0000-4000-8000-000000000002';
    writeFileSync(join(ws, 'candidates', `${id}.yaml`), candidate(id, 'request_count > 1000'));
    const r = await runCli(['-C', ws, 'reject', id, '--reviewer', 'ann', '--reason', 'x'], ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`an unfinished approve by pid ${process.ppid} is still applying its changes`);
    expect(r.stderr).toContain('another rulegen command is changing the rules right now');
    expect(readFileSync(join(ws, 'candidates', `${id}.yaml`), 'utf8')).toContain('status: candidate');
    rmSync(j);
    rmSync(join(ws, 'candidates', `${id}.yaml`));
  });
});
