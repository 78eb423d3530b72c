/** features.yaml loader: parse -> normalise -> check (unique names, sane ranges). */
import { InputError, type Problem } from '../errors.js';
import { parseYaml, readText, zodProblems } from '../config/yaml.js';
import { CatalogSchema, makeCatalog, type Catalog } from './schema.js';

export const CATALOG_FILE = 'features.yaml';

/** Words of the condition language: a feature so named could never be written in a condition. */
const LANGUAGE_WORDS = ['true', 'false', 'null', 'and', 'or', 'not', 'in', 'is', 'between'];
/**
 * SQL keywords reserved in at least one target dialect (DuckDB, Postgres, Trino, Spark): a
 * column so named breaks every export that does not quote, and reads as SQL to a reviewer.
 */
const SQL_RESERVED = [
  'all',
  'alter',
  'analyse',
  'analyze',
  'any',
  'array',
  'as',
  'asc',
  'asymmetric',
  'both',
  'by',
  'case',
  'cast',
  'check',
  'collate',
  'column',
  'constraint',
  'create',
  'cross',
  'cube',
  'current_date',
  'current_time',
  'current_timestamp',
  'current_user',
  'deallocate',
  'default',
  'delete',
  'desc',
  'describe',
  'distinct',
  'do',
  'drop',
  'else',
  'end',
  'escape',
  'except',
  'exists',
  'extract',
  'fetch',
  'for',
  'foreign',
  'from',
  'full',
  'grant',
  'group',
  'having',
  'ilike',
  'inner',
  'insert',
  'intersect',
  'interval',
  'into',
  'join',
  'lateral',
  'leading',
  'left',
  'like',
  'limit',
  'localtime',
  'localtimestamp',
  'natural',
  'offset',
  'on',
  'only',
  'order',
  'outer',
  'placing',
  'primary',
  'references',
  'returning',
  'right',
  'rollup',
  'select',
  'session_user',
  'similar',
  'some',
  'symmetric',
  'table',
  'then',
  'to',
  'trailing',
  'union',
  'unique',
  'unnest',
  'update',
  'user',
  'using',
  'values',
  'variadic',
  'when',
  'where',
  'window',
  'with',
];
const RESERVED = new Set([...LANGUAGE_WORDS, ...SQL_RESERVED]);

/** Why `name` cannot be a feature name, or undefined when it can. */
export function reservedName(name: string): string | undefined {
  if (LANGUAGE_WORDS.includes(name)) return 'a word of the condition language';
  if (RESERVED.has(name)) return 'a reserved SQL keyword';
  return undefined;
}

export function parseCatalog(text: string, file: string): Catalog {
  const src = parseYaml(text, file);
  const parsed = CatalogSchema.safeParse(src.value ?? []);
  if (!parsed.success) throw new InputError(`${file}: invalid feature catalog`, zodProblems(src, parsed.error, CatalogSchema));
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  parsed.data.forEach((f, i) => {
    const first = seen.get(f.name);
    if (first !== undefined) {
      problems.push({
        severity: 'error',
        message: `feature "${f.name}" is declared twice (first at item ${first + 1})`,
        where: src.locate([i, 'name']),
        expected: 'unique feature names',
      });
    } else seen.set(f.name, i);
    const reserved = reservedName(f.name);
    if (reserved) {
      const where = src.locate([i, 'name']);
      problems.push({
        severity: 'error',
        message: `feature name "${f.name}" is ${reserved}: no condition could use it`,
        where,
        expected: 'a name that is not a keyword, such as ' + `${f.name}_count`,
        found: f.name,
        excerpt: where.line ? src.text.split('\n')[where.line - 1] : undefined,
      });
    }
    if (f.range && f.range[0] !== null && f.range[1] !== null && f.range[0] > f.range[1]) {
      problems.push({
        severity: 'error',
        message: `range of "${f.name}" is empty`,
        where: src.locate([i, 'range']),
        expected: 'min <= max',
        found: JSON.stringify(f.range),
      });
    }
    if (f.range && f.type !== 'number') {
      problems.push({
        severity: 'error',
        message: `"${f.name}" has a range but is a ${f.type}`,
        where: src.locate([i, 'range']),
        expected: 'range only on number features',
      });
    }
  });
  if (parsed.data.length === 0)
    problems.push({ severity: 'error', message: 'the catalog declares no features', where: { file }, expected: 'a list of features' });
  if (problems.length) throw new InputError(`${file}: invalid feature catalog`, problems);
  return makeCatalog(parsed.data);
}

export function loadCatalog(file: string): Catalog {
  return parseCatalog(readText(file, 'the feature catalog'), file);
}
