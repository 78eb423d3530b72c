/**
 * The shipped Handlebars templates of the docs and the report, in templates/<name>.hbs at the
 * package root — the same convention as the model prompts in prompts/ (found through
 * packageRoot, so tsx, vitest and the built CLI read the same files). A workspace may override
 * any of them with its own templates/<name>.hbs (see templating.ts). Values reach the templates
 * already formatted (view.ts): the templates place text, they do not compute.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package.js';

/** docs/rules/<id>.md, docs/rules/README.md and docs/report.html. */
export const TEMPLATE_NAMES = ['rule.md', 'readme.md', 'report.html'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The shipped template's path. */
export function builtInTemplatePath(name: TemplateName): string {
  return join(packageRoot(), 'templates', `${name}.hbs`);
}

/** The shipped template's text. */
export function builtInTemplate(name: TemplateName): string {
  return readFileSync(builtInTemplatePath(name), 'utf8');
}
