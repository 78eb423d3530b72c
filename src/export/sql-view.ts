/**
 * `rulegen export --target sql-view --dialect D`: one CREATE VIEW statement over the sessions
 * table that tags every session with the ids of the rules that match it and the strongest
 * action they take, for teams that run the rules inside their warehouse.
 *
 * Columns added to every session row:
 *   rulegen_rule_ids    matching acting rules, comma-separated in rule order (NULL: none)
 *   rulegen_shadow_ids  matching shadow rules (evaluated and logged, never acted on)
 *   rulegen_action      block | challenge | log | NULL — the strongest effective action
 *
 * A view cannot hold bound parameters, so for DuckDB each bound literal of the compiled
 * predicate is inlined as a typed literal ('…'::DOUBLE, '…'::VARCHAR, true::BOOLEAN); the text
 * dialects already inline literals with their own escaping (src/compile/dialects.ts).
 */
import type { Catalog } from '../catalog/schema.js';
import { compilePredicate, quoteIdentifier, type Dialect } from '../compile/compile.js';
import { ansiString, postgresString, sparkString } from '../compile/dialects.js';
import type { Action } from '../release/schema.js';
import { effectiveOf, type ExportRule } from './rules.js';

const STRING: Record<Dialect, (s: string) => string> = { duckdb: ansiString, postgres: postgresString, trino: ansiString, spark: sparkString };
const TEXT_TYPE: Record<Dialect, string> = { duckdb: 'VARCHAR', postgres: 'text', trino: 'varchar', spark: 'string' };

/** DuckDB's compiled predicate with every `?` replaced by its parameter as a literal. */
function inlineDuckdb(sql: string, parameters: readonly unknown[]): string {
  let i = 0;
  // Only placeholders can hold `?`: identifiers come from the catalog (^[a-z][a-z0-9_]*$) and
  // every literal is a parameter, so the compiled text has no string literal to scan around.
  const out = sql.replace(/\?/g, () => {
    const v = parameters[i++];
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return ansiString(String(v));
    if (typeof v === 'string') return ansiString(v);
    throw new Error(`cannot inline the parameter ${String(v)}`);
  });
  if (i !== parameters.length) throw new Error(`the predicate has ${i} placeholders for ${parameters.length} parameters`);
  return out;
}

function predicate(r: ExportRule, catalog: Catalog, dialect: Dialect): string {
  const q = compilePredicate(r.ast, catalog, dialect);
  return dialect === 'duckdb' ? inlineDuckdb(q.sql, q.parameters) : q.sql;
}

export interface SqlViewOptions {
  dialect: Dialect;
  /** The sessions table. */
  table: string;
  /** The view's name (default rulegen_decisions). */
  view?: string;
}

/** The CREATE VIEW statement (with a comment header naming the rules and their stages). */
export function sqlView(rules: readonly ExportRule[], catalog: Catalog, opts: SqlViewOptions): string {
  const d = opts.dialect;
  const q = (name: string) => quoteIdentifier(name, d);
  const str = STRING[d];
  const preds = rules.map((r) => ({ r, sql: predicate(r, catalog, d), effective: effectiveOf(r) }));
  const ids = (xs: typeof preds) =>
    xs.length ? `nullif(concat_ws(',', ${xs.map((p) => `case when ${p.sql} then ${str(p.r.id)} end`).join(', ')}), '')` : `cast(null as ${TEXT_TYPE[d]})`;
  const acting = preds.filter((p) => p.effective !== null);
  const shadow = preds.filter((p) => p.effective === null);
  const order: Action[] = ['block', 'challenge', 'log'];
  const whens = order.flatMap((a) => {
    const ps = acting.filter((p) => p.effective === a);
    return ps.length ? [`when ${ps.map((p) => p.sql).join(' or ')} then ${str(a)}`] : [];
  });
  const action = whens.length ? `case ${whens.join(' ')} end` : `cast(null as ${TEXT_TYPE[d]})`;
  const header = [
    `-- rulegen export --target sql-view --dialect ${d}: ${rules.length} rule${rules.length === 1 ? '' : 's'}`,
    ...rules.map((r) => `--   ${r.id}  ${r.action} at stage ${r.stage}: ${r.title.replace(/[\r\n]+/g, ' ')}`),
  ];
  return (
    `${header.join('\n')}\ncreate or replace view ${q(opts.view ?? 'rulegen_decisions')} as\nselect\n  t.*,\n  ${ids(acting)} as ` +
    `rulegen_rule_ids,\n  ${ids(shadow)} as rulegen_shadow_ids,\n  ${action} as rulegen_action\nfrom ${q(opts.table)} as t;\n`
  );
}
