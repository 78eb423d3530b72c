/** features.yaml loader: parse -> normalise -> check (unique names, sane ranges). */
import { InputError, type Problem } from '../errors.js';
import { parseYaml, readText, zodProblems } from '../config/yaml.js';
import { CatalogSchema, makeCatalog, type Catalog } from './schema.js';

export const CATALOG_FILE = 'features.yaml';

export function parseCatalog(text: string, file: string): Catalog {
  const src = parseYaml(text, file);
  const parsed = CatalogSchema.safeParse(src.value ?? []);
  if (!parsed.success) throw new InputError(`${file}: invalid feature catalog`, zodProblems(src, parsed.error));
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  parsed.data.forEach((f, i) => {
    const first = seen.get(f.name);
    if (first !== undefined) {
      problems.push({ severity: 'error', message: `feature "${f.name}" is declared twice (first at item ${first + 1})`, where: src.locate([i, 'name']), expected: 'unique feature names' });
    } else seen.set(f.name, i);
    if (f.range && f.range[0] !== null && f.range[1] !== null && f.range[0] > f.range[1]) {
      problems.push({ severity: 'error', message: `range of "${f.name}" is empty`, where: src.locate([i, 'range']), expected: 'min <= max', found: JSON.stringify(f.range) });
    }
    if (f.range && f.type !== 'number') {
      problems.push({ severity: 'error', message: `"${f.name}" has a range but is a ${f.type}`, where: src.locate([i, 'range']), expected: 'range only on number features' });
    }
  });
  if (parsed.data.length === 0) problems.push({ severity: 'error', message: 'the catalog declares no features', where: { file }, expected: 'a list of features' });
  if (problems.length) throw new InputError(`${file}: invalid feature catalog`, problems);
  return makeCatalog(parsed.data);
}

export function loadCatalog(file: string): Catalog {
  return parseCatalog(readText(file, 'the feature catalog'), file);
}
