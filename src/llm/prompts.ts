/**
 * Prompts as code: Handlebars templates under prompts/ with a version in YAML front matter.
 * Strict mode: a variable the template names but the caller did not supply is an error, never
 * an empty string in a prompt. A workspace's prompts/ folder overrides the shipped templates
 * file by file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handlebarsEnv } from '../handlebars.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { packageRoot } from '../package.js';

const FrontMatterSchema = z.looseObject({
  version: z.union([z.number().int().positive(), z.string().regex(/^[0-9A-Za-z.-]+$/)]),
  description: z.string().optional(),
});

/** A loaded template; `ref` (`name@version`) goes into provenance with the rendered text's hash. */
export interface PromptTemplate {
  name: string;
  version: string;
  file: string;
  ref: string;
  render(vars: Record<string, unknown>): string;
}

export function shippedPrompts(): string {
  return join(packageRoot(), 'prompts');
}

const hb = handlebarsEnv({
  json: (v: unknown) => JSON.stringify(v),
  join: (v: unknown, sep: unknown) => (Array.isArray(v) ? v.join(typeof sep === 'string' ? sep : ', ') : ''),
  inc: (v: unknown) => Number(v) + 1,
});

/** Load `<name>.hbs` from the workspace's prompts/ folder if it has one, else the shipped one. */
export function loadPrompt(name: string, workspacePrompts?: string): PromptTemplate {
  const candidates = [...(workspacePrompts ? [join(workspacePrompts, `${name}.hbs`)] : []), join(shippedPrompts(), `${name}.hbs`)];
  const file = candidates.find((f) => existsSync(f));
  if (!file)
    throw InputError.single({
      message: `no prompt template ${name}.hbs`,
      where: { file: candidates.at(-1) },
      expected: 'a Handlebars template with YAML front matter',
      found: 'no such file',
    });
  const text = readFileSync(file, 'utf8');
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!m)
    throw InputError.single({
      message: 'prompt template has no front matter',
      where: { file, line: 1 },
      expected: '---\\nversion: 1\\n---',
      found: JSON.stringify(text.slice(0, 40)),
    });
  const fm = FrontMatterSchema.safeParse(parseYaml(m[1]!));
  if (!fm.success)
    throw InputError.single({
      message: 'prompt template front matter needs a version',
      where: { file, field: 'version' },
      expected: 'version: <positive integer>',
      found: m[1]!,
    });
  const version = String(fm.data.version);
  let compiled: HandlebarsTemplateDelegate;
  try {
    compiled = hb.compile(text.slice(m[0].length), { strict: true, noEscape: true });
  } catch (e) {
    throw InputError.single({ message: `prompt template does not compile: ${(e as Error).message}`, where: { file } });
  }
  return {
    name,
    version,
    file,
    ref: `${name}@${version}`,
    render(vars) {
      try {
        return compiled(vars);
      } catch (e) {
        // Handlebars' strict mode names the missing field: "\"unit\" not defined in [object Object]"
        throw InputError.single({
          message: `prompt template ${name}@${version} names a variable that was not supplied: ${(e as Error).message}`,
          where: { file },
        });
      }
    },
  };
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
