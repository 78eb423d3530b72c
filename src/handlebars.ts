/**
 * The one importer of Handlebars. Every user (model prompts in src/llm, docs in src/report) gets
 * a private environment with only its own helpers: no global helper or partial leaks from one
 * to the other, and templates are always compiled in strict mode by their callers.
 */
import Handlebars from 'handlebars';

export type HelperDelegate = Handlebars.HelperDelegate;
export type TemplateDelegate = Handlebars.TemplateDelegate;
export type HandlebarsEnv = typeof Handlebars;

/** A fresh, isolated Handlebars environment with `helpers` registered. */
export function handlebarsEnv(helpers: Readonly<Record<string, HelperDelegate>> = {}): HandlebarsEnv {
  const hb = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) hb.registerHelper(name, fn);
  return hb;
}
