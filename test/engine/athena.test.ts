/**
 * Athena through the real SDK client (@aws-sdk/client-athena) with its transport replaced by
 * aws-sdk-client-mock: a fake Athena that parses every statement with a real Trino grammar
 * (node-sql-parser, database 'trino'), substitutes the ExecutionParameters for the `?` (as
 * Athena does), runs the result on DuckDB over the same fixture, and answers with Athena's
 * shapes: RUNNING then SUCCEEDED (or FAILED / CANCELLED), statistics, paged GetQueryResults
 * with the header row first. So the Trino statements are checked for syntax and for answers.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type Datum,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import sqlParser from 'node-sql-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backtestTargets } from '../../src/backtest/run.js';
import { resolveTargets } from '../../src/rules/targets.js';
import { Store } from '../../src/db/store.js';
import { AthenaEngine, athenaLiteral } from '../../src/engine/athena.js';
import { dollarPlaceholders } from '../../src/engine/plan.js';
import { rankFeatures } from '../../src/rank/rank.js';
import { openWorkspace, type Workspace } from '../../src/workspace.js';
import { exampleWorkspace } from '../helpers/workspace.js';

const athena = mockClient(AthenaClient);
const parser = new sqlParser.Parser();
let ws: Workspace;
let dir: string;
let store: Store;

interface FakeQuery {
  sql: string;
  params: string[];
  polls: number;
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  rows?: Record<string, unknown>[];
  columns?: string[];
  bytes: number;
}
let queries: Map<string, FakeQuery>;
let script: { runningPolls: number; fail?: string; bytes: number; stuck?: boolean };
const parsed: string[] = [];

/** Athena's substitution: the i-th `?` outside quotes becomes the i-th parameter's text. */
function substitute(sql: string, params: readonly string[]): string {
  const { sql: numbered } = dollarPlaceholders(sql);
  return numbered.replace(/\$(\d+)/g, (_, i: string) => params[Number(i) - 1]!);
}

function datum(v: unknown): Datum {
  if (v === null || v === undefined) return {};
  if (v instanceof Date) return { VarCharValue: v.toISOString().replace('T', ' ').replace('Z', '') };
  return { VarCharValue: String(v) };
}

function typeOf(rows: Record<string, unknown>[], c: string): string {
  const v = rows.find((r) => r[c] !== null && r[c] !== undefined)?.[c];
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return 'double';
  if (v instanceof Date) return 'timestamp';
  return 'varchar';
}

function install(): void {
  athena.reset();
  queries = new Map();
  let seq = 0;
  athena.on(StartQueryExecutionCommand).callsFake(async (input) => {
    const sql = input.QueryString as string;
    // every statement must parse as Trino
    parser.astify(sql, { database: 'trino' });
    parsed.push(sql);
    expect(input.QueryExecutionContext?.Database).toBe('main');
    expect(input.WorkGroup).toBe('analytics');
    const id = `q-${++seq}`;
    queries.set(id, { sql, params: input.ExecutionParameters ?? [], polls: 0, state: 'RUNNING', bytes: script.bytes });
    return { QueryExecutionId: id };
  });
  athena.on(GetQueryExecutionCommand).callsFake(async (input) => {
    const q = queries.get(input.QueryExecutionId!)!;
    q.polls++;
    if (q.state === 'RUNNING' && !script.stuck && q.polls > script.runningPolls) {
      if (script.fail) q.state = 'FAILED';
      else {
        const rows = await store.all(substitute(q.sql, q.params));
        q.rows = rows;
        q.columns = rows.length ? Object.keys(rows[0]!) : [];
        q.state = 'SUCCEEDED';
      }
    }
    return {
      QueryExecution: {
        QueryExecutionId: input.QueryExecutionId,
        Status: { State: q.state, ...(q.state === 'FAILED' ? { StateChangeReason: script.fail, AthenaError: { ErrorCategory: 2, ErrorType: 1006 } } : {}) },
        Statistics: { DataScannedInBytes: q.state === 'RUNNING' ? Math.floor(q.bytes / 2) : q.bytes },
      },
    };
  });
  athena.on(GetQueryResultsCommand).callsFake(async (input) => {
    const q = queries.get(input.QueryExecutionId!)!;
    const size = input.MaxResults!;
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const rows = q.rows!;
    const page = rows.slice(start, start + size - (start === 0 ? 1 : 0));
    const end = start + page.length;
    const cols = q.columns!;
    const header = start === 0 ? [{ Data: cols.map((c) => ({ VarCharValue: c })) }] : [];
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: cols.map((c) => ({ Name: c, Type: typeOf(rows, c) })) },
        Rows: [...header, ...page.map((r) => ({ Data: cols.map((c) => datum(r[c])) }))],
      },
      ...(end < rows.length ? { NextToken: String(end) } : {}),
    };
  });
  athena.on(StopQueryExecutionCommand).callsFake(async (input) => {
    const q = queries.get(input.QueryExecutionId!);
    if (q && q.state === 'RUNNING') q.state = 'CANCELLED';
    return {};
  });
}

const engine = (extra: Partial<ConstructorParameters<typeof Object>[0]> = {}) =>
  AthenaEngine.connect({ database: 'main', workgroup: 'analytics', region: 'us-east-1', poll: { firstMs: 1, factor: 2, maxMs: 8 }, pageRows: 40, ...extra });

beforeAll(async () => {
  dir = await exampleWorkspace();
  ws = openWorkspace(dir);
  store = await Store.open(ws.paths.db, { readOnly: true });
}, 60_000);

afterAll(() => store?.close());

beforeEach(() => {
  script = { runningPolls: 2, bytes: 3 * 2 ** 20 };
  install();
});

describe('Athena engine (real SDK client, mocked transport)', () => {
  it('backtest with every breakdown: identical to the embedded engine; paged, polled, cost recorded', async () => {
    const e = await engine();
    const exprs = [
      'requests_per_minute > 40 and static_asset_ratio < 0.05',
      "ua_family in ('headless_chrome', 'firefox') or webdriver_flag",
      "not asn_type in ('residential', 'mobile') and pointer_events between 0 and 2",
    ];
    const { targets, problems } = resolveTargets(ws, exprs, dir);
    expect(problems).toEqual([]);
    expect(targets).toHaveLength(3);
    const duck = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test' });
    const remote = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', engine: e });
    // the embedded run is the kernel's, the remote one SQL's: the same figures
    expect([duck.engine, remote.engine]).toEqual(['kernel', 'sql']);
    const strip = (r: typeof duck) =>
      JSON.parse(
        JSON.stringify({ ...r, timings: undefined, execution: undefined, engine: undefined, kernel: undefined, window: { ...r.window, where: undefined } }),
      );
    expect(strip(remote)).toEqual(strip(duck));
    expect(remote.rules[0]!.daily!.series.length).toBeGreaterThan(10);
    const info = remote.execution!;
    expect(info).toMatchObject({ kind: 'athena', dialect: 'trino', target: 'workgroup analytics, database main, us-east-1' });
    // each statement billed at least 10 MB at USD 5 per TB
    expect(info.bytes_scanned).toBe(info.statements.length * 3 * 2 ** 20);
    expect(info.cost_usd).toBeCloseTo((info.statements.length * 10 * 2 ** 20 * 5) / 2 ** 40, 12);
    expect(info.statements.every((s) => s.id?.startsWith('q-'))).toBe(true);
    // results were paged (40 rows a page) and polled with backoff
    expect(athena.commandCalls(GetQueryResultsCommand).some((c) => c.args[0].input.NextToken)).toBe(true);
    expect(athena.commandCalls(GetQueryExecutionCommand).length).toBeGreaterThanOrEqual(3 * info.statements.length);
    // never a literal in the text: every value went as an execution parameter
    const starts = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(starts.flatMap((s) => s.ExecutionParameters ?? [])).toEqual(expect.arrayContaining(["'headless_chrome'", "'residential'", '40', '0.05']));
    for (const s of starts) expect(s.QueryString).not.toMatch(/headless_chrome|residential|static_asset_ratio" < 0\.05/);
    // a hostile string is data: it comes back as it went
    for (const h of ["x'; DROP TABLE sessions; --", 'a?b', "\\' or 1=1 --"])
      expect((await e.one<{ s: string }>('SELECT CAST(? AS VARCHAR) AS s', [h]))?.s).toBe(h);
    await e.close();
  });

  it('rank: identical to the embedded engine (the counts scan on Athena)', async () => {
    const e = await engine({ pageRows: 1000 });
    const duck = await rankFeatures(store, ws.config, ws.catalog);
    const local = await Store.open();
    try {
      const remote = await rankFeatures(local, ws.config, ws.catalog, { engine: e });
      const { execution, ...rest } = remote;
      expect(rest).toEqual(duck);
      expect(execution?.kind).toBe('athena');
    } finally {
      local.close();
    }
  });

  it('every Trino statement generated parses with a real Trino grammar', () => {
    expect(parsed.length).toBeGreaterThan(5);
    expect(parsed.some((s) => s.includes('CROSS JOIN UNNEST(ARRAY['))).toBe(true);
    expect(parsed.some((s) => s.includes('UNION ALL'))).toBe(true);
    for (const s of parsed) expect(() => parser.astify(s, { database: 'trino' })).not.toThrow();
  });

  it("a FAILED query is exit 3 with Athena's reason; a missing table exit 2", async () => {
    script.fail = 'HIVE_BAD_DATA: Error parsing field value';
    const e = await engine();
    await expect(e.all('SELECT count(*) AS n FROM "sessions"')).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/q-1 failed \(error type 1006\): HIVE_BAD_DATA: Error parsing field value/),
    });
    script.fail = "TABLE_NOT_FOUND: line 1:22: Table 'awsdatacatalog.main.sessions' does not exist";
    await expect(e.all('SELECT count(*) AS n FROM "sessions"')).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/TABLE_NOT_FOUND/) });
  });

  it('cancel (Ctrl-C) sends StopQueryExecution and the statement fails as cancelled, exit 3', async () => {
    script.stuck = true;
    const e = await engine();
    const running = e.all('SELECT count(*) AS n FROM "sessions"').then(
      () => undefined,
      (x: unknown) => x,
    );
    await new Promise((r) => setTimeout(r, 30));
    await e.cancel();
    expect(await running).toMatchObject({ exitCode: 3, message: expect.stringMatching(/cancelled \(Ctrl-C\)/) });
    expect(athena.commandCalls(StopQueryExecutionCommand)[0]!.args[0].input.QueryExecutionId).toBe('q-1');
    await expect(e.all('SELECT 1 AS x')).rejects.toMatchObject({ exitCode: 3 });
  });

  it('a statement past the timeout is stopped, exit 3', async () => {
    script.stuck = true;
    const e = await engine({ timeoutMs: 40 });
    await expect(e.all('SELECT count(*) AS n FROM "sessions"')).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/still running after 0 s: stopped/),
    });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it('--max-scan-gb stops a query that would scan more, and refuses to start another', async () => {
    script.bytes = 4 * 2 ** 30;
    script.runningPolls = 3;
    const e = await engine({ maxScanBytes: 1 * 2 ** 30 });
    await expect(e.all('SELECT count(*) AS n FROM "sessions"')).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/stopped after scanning 2\.000 GB: the run would read more than --max-scan-gb 1\.000/),
    });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
    await expect(e.all('SELECT 1 AS x')).rejects.toMatchObject({ message: expect.stringMatching(/not starting another query/) });
    expect(e.info().bytes_scanned).toBe(2 * 2 ** 30);
  });

  it('execution parameters are Trino literals', () => {
    expect(athenaLiteral("it's")).toBe("'it''s'");
    expect(athenaLiteral(1.5)).toBe('1.5');
    expect(athenaLiteral(1e21)).toBe('1e+21');
    expect(athenaLiteral(true)).toBe('true');
    expect(athenaLiteral(null)).toBe('NULL');
    expect(() =>
      parser.astify(`SELECT CAST(${athenaLiteral(1e21)} AS DOUBLE) AS x, CAST(${athenaLiteral("a'b?")} AS VARCHAR) AS y`, { database: 'trino' }),
    ).not.toThrow();
  });
});
