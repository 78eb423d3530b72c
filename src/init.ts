/**
 * `rulegen init`: a new workspace with every setting spelled out. Never overwrites: if any file
 * it would write exists, nothing is written and the clash is reported.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from './errors.js';
import { renderCatalogYaml, synthCatalog } from './synth/catalog.js';
import { configTemplate } from './config/template.js';

export interface InitResult {
  dir: string;
  files: string[];
}

export function initWorkspace(dir: string, opts: { cwd: string; catalogYaml?: string }): InitResult {
  const abs = resolve(opts.cwd, dir);
  const files: [string, string][] = [
    ['rulegen.yaml', configTemplate()],
    ['features.yaml', opts.catalogYaml ?? renderCatalogYaml(synthCatalog())],
    ['.gitignore', '# the DuckDB database and run records stay local\n.rulegen/\n'],
    ['candidates/.gitkeep', ''],
    ['rules/.gitkeep', ''],
    ['docs/.gitkeep', ''],
  ];
  const clashes = files.map(([f]) => f).filter((f) => !f.endsWith('.gitkeep') && existsSync(join(abs, f)));
  if (clashes.length) {
    throw InputError.single({
      message: `${abs} is already a workspace; init will not overwrite it`,
      where: { file: join(abs, clashes[0]!) },
      expected: 'a new or empty folder',
      found: `existing ${clashes.join(', ')}`,
    });
  }
  for (const [f, text] of files) {
    const path = join(abs, f);
    mkdirSync(join(path, '..'), { recursive: true });
    if (!existsSync(path)) writeFileSync(path, text, { flag: 'wx' });
  }
  return { dir: abs, files: files.map(([f]) => f) };
}
