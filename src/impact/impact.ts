/**
 * `rulegen impact`: what changes for customers if these rules ship. The approved set (each
 * session gets the most severe action of the rules that hit it: block > challenge > log) is
 * compared with the approved set plus the given rules, per day, per segment value and per
 * population, in ONE scan: two per-row action levels (without, with) in nested subqueries,
 * summed by label under GROUPING SETS. JS sees one row per group.
 */
import type { Catalog } from '../catalog/schema.js';
import { compilePredicate, type CompiledQuery } from '../compile/compile.js';
import type { Config } from '../config/schema.js';
import { quoteIdent, type Store } from '../db/store.js';
import type { Target } from '../backtest/run.js';
import { compilePopulations, presentSegments } from '../backtest/populations.js';
import { wilson } from '../backtest/stats.js';
import { resolveWindow, type WindowName } from '../db/window.js';
import type { RuleAction } from './types.js';

export type { RuleAction } from './types.js';

/** What one scenario does to one group of sessions. Rates are null where the denominator is 0. */
export interface ImpactCounts {
  blocked: number;
  challenged: number;
  /** Hit only by log rules: recorded, nobody affected. */
  logged: number;
  /** Humans blocked or challenged. */
  humans_affected: number;
  humans_affected_rate: number | null;
  humans_affected_lower95: number | null;
  humans_affected_upper95: number | null;
  /** Bots blocked or challenged. */
  bots_stopped: number;
  bots_stopped_rate: number | null;
}

export interface ImpactDiff {
  blocked: number;
  challenged: number;
  logged: number;
  humans_affected: number;
  humans_affected_rate: number | null;
  bots_stopped: number;
  bots_stopped_rate: number | null;
}

/** One group (the whole window, a day, a segment value or a population): without vs with the added rules. */
export interface ImpactRow {
  key: string;
  rows: number;
  humans: number;
  bots: number;
  without: ImpactCounts;
  with: ImpactCounts;
  diff: ImpactDiff;
}

export interface ImpactRuleRef {
  id: string;
  title: string;
  action: RuleAction;
}

/** The whole simulation: what a terminal table, `--json` and the report render. */
export interface ImpactReport {
  window: { name: WindowName; from: string; to: string; rows: number };
  /** The approved set (every approved rule; log rules only log). */
  baseline: ImpactRuleRef[];
  /** The rules added in the "with" scenario. */
  added: ImpactRuleRef[];
  total: ImpactRow;
  daily: ImpactRow[];
  /** Keyed `column=value`. */
  segments: (ImpactRow & { protected: boolean })[];
  populations: (ImpactRow & { protected: boolean; where: string })[];
  warnings: string[];
}

export interface ImpactRule extends ImpactRuleRef {
  predicate: CompiledQuery;
}

const LEVEL: Record<RuleAction, number> = { log: 1, challenge: 2, block: 3 };

/** CASE over action levels, most severe first; `prior` (a column) carries the baseline's level. */
function levelExpr(rules: readonly ImpactRule[], prior?: string): { sql: string; parameters: CompiledQuery['parameters'][number][] } {
  const parameters: CompiledQuery['parameters'][number][] = [];
  const whens: string[] = [];
  for (const action of ['block', 'challenge', 'log'] as const) {
    const mine = rules.filter((r) => r.action === action);
    const terms = [...(prior ? [`${prior} = ${LEVEL[action]}`] : []), ...mine.map((r) => `(${r.predicate.sql})`)];
    if (!terms.length) continue;
    for (const r of mine) parameters.push(...r.predicate.parameters);
    whens.push(`WHEN ${terms.join(' OR ')} THEN ${LEVEL[action]}`);
  }
  return { sql: whens.length ? `(CASE ${whens.join(' ')} ELSE 0 END)` : '0', parameters };
}

type Row = Record<string, string | number | null>;

function counts(rs: readonly Row[], s: 0 | 1): ImpactCounts {
  const lbl = (l: number | null) => rs.find((r) => r['lbl'] === l);
  const sum = (col: string) => rs.reduce((a, r) => a + Number(r[col] ?? 0), 0);
  const hum = lbl(0);
  const bot = lbl(1);
  const humans = Number(hum?.['n'] ?? 0);
  const bots = Number(bot?.['n'] ?? 0);
  const ha = Number(hum?.[`b${s}`] ?? 0) + Number(hum?.[`c${s}`] ?? 0);
  const bs = Number(bot?.[`b${s}`] ?? 0) + Number(bot?.[`c${s}`] ?? 0);
  const w = humans ? wilson(ha, humans) : null;
  return {
    blocked: sum(`b${s}`),
    challenged: sum(`c${s}`),
    logged: sum(`l${s}`),
    humans_affected: ha,
    humans_affected_rate: humans ? ha / humans : null,
    humans_affected_lower95: w ? w.lower : null,
    humans_affected_upper95: w ? w.upper : null,
    bots_stopped: bs,
    bots_stopped_rate: bots ? bs / bots : null,
  };
}

const sub = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

function row(key: string, rs: readonly Row[]): ImpactRow {
  const n = (l: number) => Number(rs.find((r) => r['lbl'] === l)?.['n'] ?? 0);
  const without = counts(rs, 0);
  const withC = counts(rs, 1);
  return {
    key,
    rows: rs.reduce((a, r) => a + Number(r['n']), 0),
    humans: n(0),
    bots: n(1),
    without,
    with: withC,
    diff: {
      blocked: withC.blocked - without.blocked,
      challenged: withC.challenged - without.challenged,
      logged: withC.logged - without.logged,
      humans_affected: withC.humans_affected - without.humans_affected,
      humans_affected_rate: sub(withC.humans_affected_rate, without.humans_affected_rate),
      bots_stopped: withC.bots_stopped - without.bots_stopped,
      bots_stopped_rate: sub(withC.bots_stopped_rate, without.bots_stopped_rate),
    },
  };
}

export interface ImpactOptions {
  window?: WindowName;
  /** rulegen.yaml, to point population problems at file:line:column. */
  configFile?: string;
}

/** Rules of the workspace as the simulation sees them; an expression takes `action` (default block). */
export function impactRule(t: Target, catalog: Catalog, action: RuleAction = 'block'): ImpactRule {
  return { id: t.id, title: t.title, action: t.rule?.action ?? action, predicate: compilePredicate(t.ast, catalog) };
}

/** Simulate: `baseline` is the approved set, `added` the rules that would ship. */
export async function simulateImpact(
  store: Store,
  config: Config,
  catalog: Catalog,
  baseline: readonly ImpactRule[],
  added: readonly ImpactRule[],
  opts: ImpactOptions = {},
): Promise<ImpactReport> {
  const window = await resolveWindow(store, config, opts.window ?? 'test');
  const table = quoteIdent(config.data.table);
  const label = quoteIdent(config.data.label);
  const columns = new Set((await store.describe(`SELECT * FROM ${table}`)).map((c) => c.name));
  const present = presentSegments(config, columns);
  const { populations } = compilePopulations(config, catalog, opts.configFile);
  const warnings: string[] = [];

  const a0 = levelExpr(baseline);
  const a1 = levelExpr(added, 'rulegen_a0');
  const day = `CAST(date_trunc('day', ${quoteIdent(config.data.time)}) AS DATE)`;
  const keys = [day, ...present.columns.map(quoteIdent), ...populations.map((_, i) => quoteIdent(`rulegen_pop_${i}`))];
  const popCols = populations.map((p, i) => `, (CASE WHEN ${p.predicate.sql} THEN 1 ELSE 0 END) AS ${quoteIdent(`rulegen_pop_${i}`)}`).join('');
  const sums = [0, 1].flatMap((s) => [3, 2, 1].map((lv, j) => `sum(CASE WHEN rulegen_a${s} = ${lv} THEN 1 ELSE 0 END) AS ${'bcl'[j]}${s}`)).join(', ');
  const sql = `SELECT ${keys.map((k, i) => `CAST(${k} AS VARCHAR) AS k${i}, grouping(${k}) AS g${i}`).join(', ')}, ${label} AS lbl, count(*) AS n, ${sums}
    FROM (SELECT *, ${a1.sql} AS rulegen_a1 FROM (SELECT *, ${a0.sql} AS rulegen_a0${popCols} FROM ${table} WHERE ${window.where}))
    GROUP BY GROUPING SETS ((${label}), ${keys.map((k) => `(${k}, ${label})`).join(', ')})`;
  const rows = await store.all<Row>(sql, [...a1.parameters, ...a0.parameters, ...populations.flatMap((p) => p.predicate.parameters), ...window.parameters]);

  const inSet = (ki: number) => rows.filter((r) => Number(r[`g${ki}`]) === 0);
  const groups = (ki: number): Map<string, Row[]> => {
    const m = new Map<string, Row[]>();
    for (const r of inSet(ki)) {
      const k = r[`k${ki}`] === null ? '(none)' : String(r[`k${ki}`]);
      m.set(k, [...(m.get(k) ?? []), r]);
    }
    return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  const total = row(
    'total',
    rows.filter((r) => keys.every((_, ki) => Number(r[`g${ki}`]) === 1)),
  );
  const daily = [...groups(0)].map(([k, rs]) => row(k, rs));
  const segments = present.columns.flatMap((col, ci) =>
    [...groups(1 + ci)].map(([k, rs]) => ({ ...row(`${col}=${k}`, rs), protected: present.protectedColumns.has(col) })),
  );
  const pops = populations.map((p, pi) => {
    const r = row(p.name, groups(1 + present.columns.length + pi).get('1') ?? []);
    if (r.rows === 0) warnings.push(`population "${p.name}" matches no session in the ${window.name} window`);
    return { ...r, protected: p.protected, where: p.where };
  });
  const ref = (r: ImpactRule): ImpactRuleRef => ({ id: r.id, title: r.title, action: r.action });
  return {
    window: { name: window.name, from: window.from, to: window.to, rows: window.rows },
    baseline: baseline.map(ref),
    added: added.map(ref),
    total,
    daily,
    segments,
    populations: pops,
    warnings,
  };
}

/** The approved set and the rules to add, from the workspace's targets. */
export function impactSets(
  approved: readonly Target[],
  added: readonly Target[],
  catalog: Catalog,
  action: RuleAction = 'block',
): { baseline: ImpactRule[]; added: ImpactRule[]; warnings: string[] } {
  const warnings: string[] = [];
  const baselineIds = new Set(approved.map((t) => t.id));
  const add = added.filter((t) => {
    if (baselineIds.has(t.id)) warnings.push(`${t.id} is already approved: it is in both scenarios`);
    return !baselineIds.has(t.id);
  });
  return { baseline: approved.map((t) => impactRule(t, catalog)), added: add.map((t) => impactRule(t, catalog, action)), warnings };
}
