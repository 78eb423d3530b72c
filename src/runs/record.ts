/**
 * The record of every run: one JSON line per command in `.rulegen/runs/runs-YYYY-MM.jsonl`
 * (git-ignored with the rest of .rulegen/). Written centrally by the CLI frame (src/cli/main.ts)
 * around the command's action, so every recorded command is covered the same way; a command
 * adds what only it knows (provider, tokens, cost) through `note`.
 *
 * A record never fails the command: anything that cannot be measured is recorded as null with
 * the reason, and a record that cannot be written is a warning on stderr.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, Store } from '../db/store.js';
import { writeFileAtomic } from '../fsutil.js';
import { packageRoot } from '../package.js';

/** Commands that append a record (issue 17). */
export const RECORDED: ReadonlySet<string> = new Set(['propose', 'fp', 'eval', 'backtest', 'check', 'approve', 'reject']);

/** What a command adds to its own record. */
export interface RunNote {
  provider?: string;
  models?: string[];
  tokens?: { input: number | null; output: number | null; cache_read?: number | null; cache_write?: number | null };
  cost_usd?: number | null;
  /** Model latency (ms) when it differs from the command's wall time. */
  latency_ms?: number;
  retries?: number;
  prompt?: string;
  ids?: string[];
  details?: Record<string, unknown>;
  /** The evaluators of the command's backtests (the run log collects them). */
  engine?: RunEngine;
}

/** Which evaluator made a command's backtests (issue 13). */
export interface RunEngine {
  /** `kernel`, `sql`, or `kernel+sql` when both made some (a fallback, or a mix of shapes). */
  engine: 'kernel' | 'sql' | 'kernel+sql';
  /** The kernel's loops and worker threads in its last pass, when it made one. */
  kernel: { simd: boolean; workers: number } | null;
  /** Why the kernel was not used, the first time the default fell back to SQL. */
  fallback?: string;
}

/** One line of the record. Every key is present (null when unknown). */
export interface RunRecord {
  time: string;
  command: string;
  args: string[];
  options: Record<string, unknown>;
  rulegen: string;
  workspace: string;
  data: { table: string; rows: number; fingerprint: string } | null;
  /** Why `data` is null, when it is. */
  data_note?: string;
  config_sha256: string | null;
  catalog_sha256: string | null;
  provider: string | null;
  models: string[];
  prompt: string | null;
  tokens: { input: number | null; output: number | null; cache_read: number | null; cache_write: number | null } | null;
  cost_usd: number | null;
  latency_ms: number;
  retries: number | null;
  exit_code: number;
  outcome: 'ok' | 'failed' | 'error';
  error: string | null;
  /** Rule ids whose files this run wrote or changed (candidates/ and rules/). */
  ids: string[];
  details: Record<string, unknown> | null;
  /** Which evaluator made the command's backtests; null when it made none. */
  engine: RunEngine | null;
}

let version: string | undefined;
export function rulegenVersion(): string {
  if (version) return version;
  try {
    version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    version = 'unknown';
  }
  return version;
}

const sha256File = (file: string): string | null => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null);

/** file -> "mtime:size" of every rule file in the folders; compared before and after a run. */
export type Snapshot = Map<string, string>;

export function snapshotRules(dirs: readonly string[]): Snapshot {
  const out: Snapshot = new Map();
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (!/\.ya?ml$/.test(f)) continue;
      try {
        const s = statSync(join(d, f));
        out.set(join(d, f), `${s.mtimeMs}:${s.size}`);
      } catch {
        // removed meanwhile
      }
    }
  }
  return out;
}

/** Ids (file names without .yaml) of files new or changed between two snapshots. */
export function writtenIds(before: Snapshot, after: Snapshot): string[] {
  const ids = new Set<string>();
  for (const [f, v] of after) if (before.get(f) !== v) ids.add(f.replace(/^.*\//, '').replace(/\.ya?ml$/, ''));
  return [...ids].sort();
}

/**
 * Row count and a content fingerprint of the sessions table, computed in DuckDB: the sum of
 * every row's hash (order-independent; 128-bit so it cannot overflow), as hex. Cached against
 * the database file's size and mtime, so an unchanged database is not scanned again.
 */
export async function dataFingerprint(dbFile: string, table: string, cacheFile: string): Promise<{ data: RunRecord['data']; note?: string }> {
  if (!existsSync(dbFile)) return { data: null, note: 'no database yet (nothing ingested)' };
  const st = statSync(dbFile);
  const stamp = `${st.size}:${st.mtimeMs}:${table}`;
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { stamp: string; data: RunRecord['data'] };
    if (cached.stamp === stamp) return { data: cached.data };
  } catch {
    // no cache yet
  }
  let store: Store | undefined;
  try {
    store = await Store.open(dbFile, { readOnly: true });
    if (!(await store.tableExists(table))) return { data: null, note: `no ${table} table` };
    const t = quoteIdent(table);
    const r = await store.one<{ n: number | bigint; h: string | null }>(
      `SELECT count(*) AS n, CAST(coalesce(sum(hash(s)::HUGEINT), 0) AS VARCHAR) AS h FROM ${t} AS s`,
    );
    const data = {
      table,
      rows: Number(r?.n ?? 0),
      fingerprint: BigInt(String(r?.h ?? '0'))
        .toString(16)
        .padStart(1, '0'),
    };
    try {
      writeFileAtomic(cacheFile, JSON.stringify({ stamp, data }) + '\n');
    } catch {
      // a cache that cannot be written costs a scan next time, nothing more
    }
    return { data };
  } catch (e) {
    return { data: null, note: `not measured: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    store?.close();
  }
}

export interface RecordInput {
  started: Date;
  command: string;
  args: string[];
  options: Record<string, unknown>;
  workspace: string;
  paths: { config: string; catalog: string; db: string; runs: string };
  table: string;
  exitCode: number;
  error: string | null;
  latencyMs: number;
  ids: string[];
  note: RunNote;
}

/** Build the record of a finished command (measures the data) and append it. */
export async function appendRun(input: RecordInput): Promise<RunRecord> {
  mkdirSync(input.paths.runs, { recursive: true });
  const fp = await dataFingerprint(input.paths.db, input.table, join(input.paths.runs, '.fingerprint.json'));
  const n = input.note;
  const record: RunRecord = {
    time: input.started.toISOString(),
    command: input.command,
    args: input.args,
    options: input.options,
    rulegen: rulegenVersion(),
    workspace: input.workspace,
    data: fp.data,
    ...(fp.note ? { data_note: fp.note } : {}),
    config_sha256: sha256File(input.paths.config),
    catalog_sha256: sha256File(input.paths.catalog),
    provider: n.provider ?? null,
    models: n.models ?? [],
    prompt: n.prompt ?? null,
    tokens: n.tokens
      ? { input: n.tokens.input, output: n.tokens.output, cache_read: n.tokens.cache_read ?? null, cache_write: n.tokens.cache_write ?? null }
      : null,
    cost_usd: n.cost_usd ?? null,
    latency_ms: Math.round(n.latency_ms ?? input.latencyMs),
    retries: n.retries ?? null,
    exit_code: input.exitCode,
    outcome: input.exitCode === 0 ? 'ok' : input.exitCode === 1 ? 'failed' : 'error',
    error: input.error,
    ids: [...new Set([...input.ids, ...(n.ids ?? [])])].sort(),
    details: n.details ?? null,
    engine: n.engine ?? null,
  };
  const month = record.time.slice(0, 7);
  appendFileSync(join(input.paths.runs, `runs-${month}.jsonl`), JSON.stringify(record) + '\n');
  return record;
}

/** Every record, oldest first; lines that do not parse are skipped and counted. */
export function readRuns(runsDir: string, opts: { since?: Date } = {}): { records: RunRecord[]; skipped: number } {
  const records: RunRecord[] = [];
  let skipped = 0;
  if (!existsSync(runsDir)) return { records, skipped };
  for (const f of readdirSync(runsDir)
    .filter((x) => /^runs-\d{4}-\d{2}\.jsonl$/.test(x))
    .sort()) {
    for (const line of readFileSync(join(runsDir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as RunRecord;
        if (typeof r.time !== 'string' || typeof r.command !== 'string') throw new Error('not a record');
        if (opts.since && new Date(r.time).getTime() < opts.since.getTime()) continue;
        records.push(r);
      } catch {
        skipped++;
      }
    }
  }
  records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return { records, skipped };
}

/** The table `rulegen runs` prints. */
export function formatRuns(records: readonly RunRecord[]): string {
  if (!records.length) return 'no runs recorded yet\n';
  const head = ['time', 'command', 'exit', 'rows', 'data', 'provider', 'tokens in/out', 'cost', 'latency', 'ids'];
  const body = records.map((r) => [
    r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    [r.command, ...r.args].join(' ').slice(0, 48),
    String(r.exit_code),
    r.data ? r.data.rows.toLocaleString('en-US') : '-',
    r.data ? r.data.fingerprint.slice(0, 8) : '-',
    r.provider ? `${r.provider}${r.models.length ? ` (${r.models.length} model${r.models.length > 1 ? 's' : ''})` : ''}` : '-',
    r.tokens ? `${r.tokens.input ?? '?'}/${r.tokens.output ?? '?'}` : '-',
    r.cost_usd === null ? '-' : `$${r.cost_usd.toFixed(4)}`,
    `${(r.latency_ms / 1000).toFixed(1)} s`,
    r.ids.length
      ? `${r.ids
          .slice(0, 2)
          .map((i) => i.slice(0, 8))
          .join(' ')}${r.ids.length > 2 ? ` +${r.ids.length - 2}` : ''}`
      : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cs: string[]) =>
    cs
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}
