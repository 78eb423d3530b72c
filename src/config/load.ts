/** rulegen.yaml loader: parse -> normalise -> check, reporting every problem at once. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, type Problem } from '../errors.js';
import { ConfigSchema, DEFAULT_CONFIG, type Config } from './schema.js';
import { parseYaml, readText, zodProblems, type YamlSource } from './yaml.js';

export const CONFIG_FILE = 'rulegen.yaml';

export function parseConfig(text: string, file: string): Config {
  const src = parseYaml(text, file);
  // An empty file is a valid config: every field has a default.
  const parsed = ConfigSchema.safeParse(src.value ?? {});
  if (!parsed.success) throw new InputError(`${file}: invalid configuration`, zodProblems(src, parsed.error, ConfigSchema));
  const config = parsed.data;
  const problems = checkConfig(config, src);
  if (problems.some((p) => p.severity === 'error')) throw new InputError(`${file}: invalid configuration`, problems);
  return config;
}

function checkConfig(c: Config, src: YamlSource): Problem[] {
  const out: Problem[] = [];
  const { id, time, label, segments } = c.data;
  const special = new Set([id, time, label]);
  if (special.size !== 3) {
    out.push({
      severity: 'error',
      message: 'data.id, data.time and data.label must name three different columns',
      where: src.locate(['data']),
      found: `${id}, ${time}, ${label}`,
    });
  }
  segments.forEach((s, i) => {
    if (special.has(s))
      out.push({
        severity: 'error',
        message: `segment "${s}" is the id, time or label column`,
        where: src.locate(['data', 'segments', i]),
        expected: 'a categorical column such as country',
      });
  });
  if (c.split.test_from !== undefined) {
    const d = new Date(c.split.test_from as string | Date);
    if (Number.isNaN(d.getTime()))
      out.push({
        severity: 'error',
        message: 'split.test_from is not a date',
        where: src.locate(['split', 'test_from']),
        expected: 'an ISO date such as 2026-01-10',
        found: String(c.split.test_from),
      });
  }
  return out;
}

/** Load `<dir>/rulegen.yaml`; a missing file means "all defaults" only when `optional`. */
export function loadConfig(dir: string, optional = false): Config {
  const file = join(dir, CONFIG_FILE);
  if (!existsSync(file)) {
    if (optional) return DEFAULT_CONFIG;
    throw InputError.single({
      message: `no ${CONFIG_FILE} in ${dir}: not a rulegen workspace`,
      where: { file },
      expected: 'a workspace made by `rulegen init`',
      found: 'no such file',
    });
  }
  return parseConfig(readText(file, 'the configuration'), file);
}
