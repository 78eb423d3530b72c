/**
 * `ingest-logs` killed at any point (SIGKILL, no cleanup): the sessions and the requests are
 * those of the previous log or of the new one, whole, never a mix or a part; the store opens; the
 * tables a killed run left are dropped by the next run, and a finished run leaves none.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/db/store.js';
import { ingestLogs } from '../../src/ingest/logs/ingest-logs.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';
import { runCli, tmpDir } from '../helpers/cli.js';
import { runKillable, type ChildRun } from '../helpers/kill.js';
import { mulberry32 as rng } from '../helpers/rng.js'; // seeded, so a failing kill point can be replayed

const CHILD = join(import.meta.dirname, 'logs-kill-child.ts');

/** A combined log of `lines` requests by `lines / 20` visitors, one every 7 s each; visitors differ by `tag`. */
async function writeLog(file: string, lines: number, tag: number): Promise<void> {
  const gen = await Store.open();
  try {
    await gen.run(
      `COPY (SELECT printf('10.%d.%d.%d', ${tag}, (i // 20) // 250, (i // 20) % 250) || ' - - [' ||
         strftime(TIMESTAMP '2026-01-01' + to_seconds((i // 20) * 3 + (i % 20) * 7), '%d/%b/%Y:%H:%M:%S') || ' +0000] "GET /p/' || (i % 37) ||
         ' HTTP/1.1" 200 ' || (100 + i % 900) || ' "-" "' || CASE WHEN i // 20 % 5 = 0 THEN 'curl/8.5.0' ELSE 'Mozilla/5.0 (X11) Chrome/120.0' END || '"'
       FROM range(${lines}) t(i) ORDER BY i) TO '${file}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\\x01')`,
    );
  } finally {
    gen.close();
  }
}

/** One `ingest-logs --replace FILE...` in a child; `kill.ms` after it prints a line starting with `kill.at`, SIGKILL it. */
function runChild(ws: string, files: readonly string[], kill?: { at: string; ms: number }): Promise<ChildRun> {
  return runKillable(CHILD, [ws, ...files], kill);
}

describe('ingest-logs killed with SIGKILL', () => {
  it('leaves the previous log or the new one, whole, and the next run leaves no table of its own', { timeout: 60_000 }, async () => {
    const dir = tmpDir('rulegen-logs-kill-');
    expect((await runCli(['init', dir, '-q'], dir)).code).toBe(0);
    // log A is one file; log B two (a killed run of B can leave a second line table, which a
    // run of A would not overwrite)
    const a = join(dir, 'a.log');
    const b = [join(dir, 'b1.log'), join(dir, 'b2.log')];
    await writeLog(a, 30_000, 1); // 1,500 visitors
    await writeLog(b[0]!, 10_000, 2); // 500 visitors
    await writeLog(b[1]!, 10_000, 3); // 500 more
    const db = join(dir, '.rulegen', 'rulegen.duckdb');

    /** What the store holds, as the next command would open it. */
    async function state(): Promise<{ sessions: number; requests: number; summed: number; tag: string; runTables: string[] }> {
      const store = await Store.open(db, { readOnly: true });
      try {
        const s = (await store.one<{ n: number; sum: number }>('SELECT count(*)::INT AS n, sum(request_count)::INT AS sum FROM sessions'))!;
        const r = (await store.one<{ n: number; tag: string }>(`SELECT count(*)::INT AS n, min(split_part(ip, '.', 2)) AS tag FROM requests`))!;
        const left = await store.all<{ t: string }>("SELECT table_name AS t FROM duckdb_tables() WHERE starts_with(table_name, 'rulegen_log_') ORDER BY 1");
        return { sessions: s.n, requests: r.n, summed: s.sum, tag: r.tag, runTables: left.map((x) => x.t) };
      } finally {
        store.close();
      }
    }
    const logs = {
      a: { files: [a], sessions: 1500, requests: 30_000, tag: '1' },
      b: { files: b, sessions: 1000, requests: 20_000, tag: '2' },
    };

    // Log A in-process, timed, so the kills can be spread over a child's run on this machine as loaded as it is now.
    const t0 = Date.now();
    {
      const ws = openWorkspace(dir);
      const store = await openWorkspaceStore(ws);
      try {
        await ingestLogs(store, ws.config, { files: [a], replace: false });
      } finally {
        store.close();
      }
    }
    const whole = Math.max(2 * (Date.now() - t0), 200);
    const random = rng(Number(process.env['RULEGEN_KILL_SEED'] ?? 14));
    let current: 'a' | 'b' = 'a';
    const landed: string[] = [];
    // anywhere in the run, then as the parse, the sessions and the features (then the swap) start
    const aims = [
      { log: 'b' as const, at: 'ready', ms: Math.floor(random() * whole) },
      { log: 'a' as const, at: 'step parsing', ms: Math.floor(random() * 5) },
      { log: 'b' as const, at: 'step building sessions', ms: Math.floor(random() * 5) },
      { log: 'a' as const, at: 'step computing session features', ms: Math.floor(random() * 20) },
    ];
    for (const [k, kill] of aims.entries()) {
      const next = kill.log;
      const run = await runChild(dir, logs[next].files, kill);
      landed.push(`${kill.ms} ms after ${kill.at}: ${run.killed ? `killed after "${run.last}"` : run.last}`);
      const s = await state();
      const now = s.tag === '1' ? logs.a : logs.b;
      expect([logs[current].tag, logs[next].tag], `kill ${k} (${landed[k]})`).toContain(s.tag);
      // whole: the sessions, the requests and the lines they read are all of one log
      expect({ sessions: s.sessions, requests: s.requests, summed: s.summed }, landed[k]).toEqual({
        sessions: now.sessions,
        requests: now.requests,
        summed: now.requests,
      });
      current = now === logs.a ? 'a' : 'b';
    }
    // a run to its end drops what killed runs left, and leaves nothing of its own
    expect((await runChild(dir, logs.a.files)).last).toBe(`done ${logs.a.sessions}`);
    const s = await state();
    expect(s).toMatchObject({ sessions: logs.a.sessions, requests: logs.a.requests, runTables: [] });
    if (process.env['RULEGEN_KILL_VERBOSE']) process.stderr.write(landed.join('\n') + '\n');
    // the test proves something only if some kills cut a run short
    expect(landed.filter((l) => l.includes(': killed')).length, landed.join('; ')).toBeGreaterThanOrEqual(2);
  });
});
