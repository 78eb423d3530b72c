/**
 * Populations: named conditions in the rule language (`segments: - name: N, where: "..."` in
 * rulegen.yaml), parsed and checked against the catalog like a rule's condition, and compiled
 * to bound-parameter predicates. A bad condition is a config error at its file:line:column.
 */
import { existsSync } from 'node:fs';
import type { Catalog } from '../catalog/schema.js';
import { compilePredicate } from '../compile/compile.js';
import { parseYaml, readText, type YamlSource } from '../config/yaml.js';
import { populationSpecs, segmentColumns, type Config } from '../config/schema.js';
import { InputError, type Problem } from '../errors.js';
import type { Expr } from '../rule/ast.js';
import { checkCondition, hasErrors } from '../rule/checks.js';
import { excerptAt, lineColumn, parseCondition, type Span } from '../rule/parser.js';
import type { PopulationPredicate } from './engine.js';

/** A checked, compiled population. */
export interface Population extends PopulationPredicate {
  where: string;
  protected: boolean;
  ast: Expr;
}

function offsetOf(text: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return off + column - 1;
}

/**
 * Locate a span of a `where:` condition in the config file. Exact for plain and quoted
 * single-line scalars (the usual form); otherwise the `where:` value itself.
 */
function locator(src: YamlSource | undefined, index: number, file: string | undefined) {
  const field = `segments.${index}.where`;
  return (span: Span | undefined): Pick<Problem, 'where' | 'excerpt'> => {
    if (!src) return { where: { file, field } };
    const at = src.locate(['segments', index, 'where']);
    if (at.line === undefined || at.column === undefined) return { where: { ...at, field } };
    let start = offsetOf(src.text, at.line, at.column);
    if (src.text[start] === '"' || src.text[start] === "'") start++;
    const off = start + (span?.start ?? 0);
    const { line, column } = lineColumn(src.text, off);
    return { where: { file: src.file, line, column, field }, excerpt: excerptAt(src.text, off, Math.max(1, (span?.end ?? 1) - (span?.start ?? 0))) };
  };
}

/**
 * Parse, check and compile every population of the config. Throws InputError (exit 2) with
 * every problem at once; warnings (e.g. a condition that can never hold) are returned.
 * `configFile`, when given, is re-read to point problems at file:line:column.
 */
export function compilePopulations(config: Config, catalog: Catalog, configFile?: string): { populations: Population[]; warnings: Problem[] } {
  const specs = populationSpecs(config);
  if (!specs.length) return { populations: [], warnings: [] };
  let src: YamlSource | undefined;
  if (configFile && existsSync(configFile)) src = parseYaml(readText(configFile, 'the configuration'), configFile);
  const problems: Problem[] = [];
  const populations: Population[] = [];
  const names = new Set<string>();
  for (const s of specs) {
    const locate = locator(src, s.index, configFile);
    if (names.has(s.name))
      problems.push({ severity: 'error', message: `population "${s.name}" is defined twice`, ...locate(undefined), expected: 'unique names', found: s.name });
    names.add(s.name);
    const parsed = parseCondition(s.where);
    if (!parsed.ok) {
      problems.push({ ...parsed.problem, message: `invalid population condition: ${parsed.problem.message}`, ...locate(parsed.span) });
      continue;
    }
    const findings = checkCondition(parsed.ast, catalog);
    for (const { node, ...p } of findings)
      problems.push({ ...p, message: `population "${s.name}": ${p.message}`, ...locate(node ? parsed.spans.get(node) : undefined) });
    if (hasErrors(findings)) continue;
    populations.push({ name: s.name, where: s.where, protected: s.protected, ast: parsed.ast, predicate: compilePredicate(parsed.ast, catalog) });
  }
  if (hasErrors(problems)) throw new InputError(`${configFile ?? 'rulegen.yaml'}: invalid population`, problems);
  return { populations, warnings: problems };
}

/**
 * The segment columns to break down by, given the table's columns. A protected column missing
 * from the table is an error listing the columns present; an unprotected one is skipped, as it
 * always was.
 */
export function presentSegments(config: Config, columns: ReadonlySet<string>): { columns: string[]; protectedColumns: Set<string> } {
  const all = segmentColumns(config);
  const missing = all.filter((s) => s.protected && !columns.has(s.column));
  if (missing.length) {
    throw new InputError(
      `protected segment column${missing.length > 1 ? 's' : ''} missing from the ${config.data.table} table`,
      missing.map((m) => ({
        severity: 'error',
        message: `no column "${m.column}" in the ${config.data.table} table, but segments: marks it protected`,
        where: { field: 'segments' },
        expected: `one of the columns present: ${[...columns].join(', ')}`,
        found: m.column,
      })),
    );
  }
  return {
    columns: all.filter((s) => columns.has(s.column)).map((s) => s.column),
    protectedColumns: new Set(all.filter((s) => s.protected).map((s) => s.column)),
  };
}
