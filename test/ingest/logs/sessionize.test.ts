/**
 * Sessionizing (src/ingest/logs/sessionize.ts) against a plain oracle: random combined-format
 * logs over a few visitors, with times that tie, gaps exactly at the limit and just past it,
 * missing and empty user agents (one visitor key), several files read as one log and gaps of 0 s,
 * 1 min and 30 min. Every line's session id and gap, and every session's first time and count,
 * must be what sorting each key's lines and cutting at the gaps gives.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../src/db/store.js';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { ingestLogs } from '../../../src/ingest/logs/ingest-logs.js';
import { tmpDir } from '../../helpers/tmp.js';

const IPS = ['10.0.0.1', '10.0.0.2', '2001:db8::1'];
/** null: the agent is "-" (none); '': an empty quoted agent (the same visitor key as none) */
const UAS: (string | null)[] = ['Mozilla/5.0 (X11) Chrome/120.0', null, '', 'curl/8.5.0'];
const BASE = Date.UTC(2026, 0, 10, 10, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface Line {
  ip: number;
  ua: number;
  /** seconds after BASE */
  t: number;
  file: number;
}

function apacheTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function text(l: Line, i: number): string {
  const ua = UAS[l.ua];
  return `${IPS[l.ip]} - - [${apacheTime(BASE + l.t * 1000)}] "GET /p/${i % 3} HTTP/1.1" 200 10 "-" "${ua ?? '-'}"`;
}

/** Each line's session id and gap, and each session's first time (seconds) and size, as sorting each key's lines and cutting at gaps > gapS gives. */
function oracle(files: Line[][], gapS: number) {
  const rows = files.flatMap((lines, f) => lines.map((l, i) => ({ ...l, file: f, line: i + 1, key: `${IPS[l.ip]}\t${UAS[l.ua] ?? ''}` })));
  const byKey = new Map<string, typeof rows>();
  for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  const sessions: { first: number; key: string; sn: number; lines: typeof rows; gaps: (number | null)[] }[] = [];
  for (const [key, rs] of byKey) {
    rs.sort((a, b) => a.t - b.t || a.file - b.file || a.line - b.line);
    let sn = -1;
    rs.forEach((r, i) => {
      const since = i === 0 ? null : r.t - rs[i - 1]!.t;
      if (since === null || since > gapS) sessions.push({ first: r.t, key, sn: ++sn, lines: [], gaps: [] });
      const s = sessions[sessions.length - 1]!;
      s.lines.push(r);
      s.gaps.push(since === null || since > gapS ? null : since);
    });
  }
  sessions.sort((a, b) => a.first - b.first || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.sn - b.sn);
  const lines = new Map<string, { session: number; gap: number | null }>();
  sessions.forEach((s, i) => s.lines.forEach((r, j) => lines.set(`${r.file}:${r.line}`, { session: i + 1, gap: s.gaps[j]! })));
  return { lines, sessions: sessions.map((s) => ({ first: s.first, n: s.lines.length })) };
}

describe('sessionize', () => {
  it('cuts every key at its gaps and numbers sessions by first request (random logs vs an oracle)', async () => {
    const dir = tmpDir('rulegen-sessionize-');
    let run = 0;
    // times cluster around 0, 60, 61, 1800 and 1801 s apart, so ties and gaps at the limit are common
    const time = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(60, 61, 120, 1800, 1801, 3601, 3662), fc.integer({ min: 0, max: 7200 }));
    const line = fc.record({ ip: fc.nat({ max: IPS.length - 1 }), ua: fc.nat({ max: UAS.length - 1 }), t: time, file: fc.constant(0) });
    const log = fc.array(fc.array(line, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 2 });
    await fc.assert(
      fc.asyncProperty(log, fc.constantFrom(['0s', 0], ['1m', 60], ['30m', 1800]), async (files, [gap, gapS]) => {
        const sub = join(dir, String(run++));
        mkdirSync(sub);
        const paths = files.map((lines, f) => {
          const p = join(sub, `access-${f}.log`);
          writeFileSync(p, lines.map(text).join('\n') + '\n');
          return p;
        });
        const store = await Store.open(':memory:');
        try {
          await ingestLogs(store, DEFAULT_CONFIG, { files: paths, format: 'combined', gap: gap as string, replace: false });
          const want = oracle(files, gapS as number);
          const got = await store.all<{ file_no: number; line_no: bigint; session_id: bigint; gap: number | null }>(
            'SELECT file_no, line_no, session_id, gap FROM requests',
          );
          expect(got.length).toBe(want.lines.size);
          for (const g of got) expect({ session: Number(g.session_id), gap: g.gap }).toEqual(want.lines.get(`${g.file_no}:${Number(g.line_no)}`));
          const sessions = await store.all<{ first: number; n: bigint }>(
            `SELECT epoch(ts) - ${BASE / 1000} AS first, request_count AS n FROM sessions ORDER BY session_id`,
          );
          expect(sessions.map((s) => ({ first: Number(s.first), n: Number(s.n) }))).toEqual(want.sessions);
        } finally {
          store.close();
        }
      }),
      { numRuns: 25, seed: 20261130 },
    );
  }, 30_000);
});
