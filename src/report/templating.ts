/**
 * Handlebars, isolated: one private environment (no global helpers), strict mode so a field a
 * template names but the view lacks is an error instead of an empty string in a reviewer's
 * document, and every failure turned into an InputError (exit 2) naming the template.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { InputError } from '../errors.js';
import { TEMPLATES, type TemplateName } from './templates.js';

/** A compiled template: `render` throws InputError with the template's name on failure. */
export interface Template {
  readonly name: TemplateName;
  /** Where the text came from: "built-in" or the override file's path. */
  readonly source: string;
  render(view: object, what: string): string;
}

export type Templates = Readonly<Record<TemplateName, Template>>;

/** Workspace overrides live in `<workspace>/templates/<name>.hbs`, like prompts/ for prompts. */
export function templateOverridePath(dir: string, name: TemplateName): string {
  return join(dir, 'templates', `${name}.hbs`);
}

function templateError(source: string, what: string, e: unknown): InputError {
  const msg = (e as Error)?.message ?? String(e);
  // Handlebars puts "Parse error on line N:" or " - L:C" into its messages; keep them whole.
  const line = /line (\d+)/.exec(msg)?.[1] ?? / - (\d+):\d+$/.exec(msg)?.[1];
  return new InputError(`docs template error: nothing was written`, [
    {
      severity: 'error',
      message: `${what}: ${msg.split('\n')[0]}`,
      where: { file: source, line: line ? Number(line) : undefined },
      expected: 'a Handlebars template whose fields exist in the docs view (strict mode)',
      found: msg.split('\n').slice(1).join('\n').trim() || msg.split('\n')[0],
    },
  ]);
}

export function compileTemplate(name: TemplateName, text: string, source: string): Template {
  const hb = Handlebars.create();
  // Markdown is not HTML: escaping would turn "a < b" into "a &lt; b" in a rule's condition.
  const html = name.endsWith('.html');
  let fn: Handlebars.TemplateDelegate;
  try {
    // parse now: a syntax error must surface before anything is written, not at first render
    hb.parse(text);
    fn = hb.compile(text, { strict: true, noEscape: !html });
  } catch (e) {
    throw templateError(source, `cannot compile ${name}`, e);
  }
  return {
    name,
    source,
    render(view, what) {
      try {
        return fn(view);
      } catch (e) {
        throw templateError(source, `cannot render ${name} for ${what}`, e);
      }
    },
  };
}

/** The shipped templates, each replaced by the workspace's override when it has one. */
export function loadTemplates(dir: string | undefined): Templates {
  const out = {} as Record<TemplateName, Template>;
  for (const name of Object.keys(TEMPLATES) as TemplateName[]) {
    const path = dir ? templateOverridePath(dir, name) : undefined;
    if (path && existsSync(path)) out[name] = compileTemplate(name, readFileSync(path, 'utf8'), path);
    else out[name] = compileTemplate(name, TEMPLATES[name], `built-in template ${name}`);
  }
  return out;
}
