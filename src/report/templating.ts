/**
 * Handlebars, isolated: one private environment (no global helpers), strict mode so a field a
 * template names but the view lacks is an error instead of an empty string in a reviewer's
 * document, and every failure turned into an InputError (exit 2) naming the template.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handlebarsEnv, type TemplateDelegate } from '../handlebars.js';
import { InputError } from '../errors.js';
import { builtInTemplate, builtInTemplatePath, TEMPLATE_NAMES, type TemplateName } from './templates.js';

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
  const html = name.endsWith('.html');
  // Markdown is not HTML: Handlebars' escaping would turn "a < b" into "a &lt; b" in a code
  // block. Each {{value}} is escaped for where it stands instead (see markdown-escape below).
  const hb = handlebarsEnv(
    html
      ? {}
      : Object.fromEntries(Object.entries(MD_ESCAPES).map(([helper, esc]) => [helper, (v: unknown) => esc(v === undefined || v === null ? '' : String(v))])),
  );
  let fn: TemplateDelegate;
  try {
    // parse now: a syntax error must surface before anything is written, not at first render
    const ast = hb.parse(text);
    if (html) fn = hb.compile(ast, { strict: true });
    else {
      routeThroughEscapes(ast, text);
      fn = hb.compile(ast, { strict: true, noEscape: true });
    }
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
  for (const name of TEMPLATE_NAMES) {
    const path = dir ? templateOverridePath(dir, name) : undefined;
    if (path && existsSync(path)) out[name] = compileTemplate(name, readFileSync(path, 'utf8'), path);
    else out[name] = compileTemplate(name, builtInTemplate(name), builtInTemplatePath(name));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// markdown-escape: values in Markdown templates are data (model text, file contents), never markup

/** Backslash-escape what Markdown or inline HTML would act on; `\|` (a table cell's pipe, see view.ts cell) stays. */
export function escapeMarkdownText(s: string, block = false): string {
  let t = block ? s.replace(/\r\n?/g, '\n') : s.replace(/\s*[\r\n]+\s*/g, ' ');
  t = t.replace(/\\\||\\|[`*[\]|~#]|_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_|<(?=[A-Za-z/!?])|&(?=[A-Za-z#])/g, (m) => (m === '\\|' ? m : `\\${m}`));
  // what starts a line starts a block: headings, lists, quotes, setext underlines, indented code
  return t
    .split('\n')
    .map((line) =>
      line
        .replace(/^[ \t]+/, '')
        .replace(/^([-+=>])/, '\\$1')
        .replace(/^(\d+)([.)])(?=\s|$)/, '$1\\$2'),
    )
    .join(block ? '\n' : ' ');
}

/** Inside `code` or a fence nothing is markup; only a backtick could end it (shown as a look-alike ˋ). */
export function escapeMarkdownCode(s: string): string {
  return s.replace(/\r?\n/g, ' ').replaceAll('`', '\u02cb');
}

/** A link target: percent-encoded, and only a relative path or http(s)/mailto (no javascript:). */
export function escapeMarkdownUrl(s: string): string {
  const t = s.trim();
  const safe = /^[a-z][a-z0-9+.-]*:/i.test(t) && !/^(https?|mailto):/i.test(t) ? `./${t}` : t;
  return safe.replace(/[^A-Za-z0-9\-._~/?#=&%:+@!$,;]/g, (c) => encodeURIComponent(c));
}

const MD_ESCAPES = {
  __mdText: (s: string) => escapeMarkdownText(s),
  __mdBlock: (s: string) => escapeMarkdownText(s, true),
  __mdCode: escapeMarkdownCode,
  __mdUrl: escapeMarkdownUrl,
} as const;

type Where = keyof typeof MD_ESCAPES;

/** Where in the Markdown a {{value}} at (line, column) of the template lands: code, a link target, its own line, or running text. */
function contextAt(lines: readonly string[], line: number, column: number, endColumn: number): Where {
  let fence = false;
  for (let i = 0; i < line - 1; i++) if (/^\s*```/.test(lines[i]!)) fence = !fence;
  if (fence) return '__mdCode';
  const text = lines[line - 1] ?? '';
  const before = text.slice(0, column).replace(/\{\{[^}]*\}\}/g, '');
  if (((before.match(/`/g) ?? []).length & 1) === 1) return '__mdCode';
  if (before.endsWith('](')) return '__mdUrl';
  const alone = before.trim() === '' && text.slice(endColumn).trim() === '';
  return alone ? '__mdBlock' : '__mdText';
}

interface AstNode {
  type: string;
  [k: string]: unknown;
}

/**
 * Rewrite every `{{value}}` of a Markdown template into `{{__mdX value}}`, X chosen by where
 * it stands. Triple-stash `{{{value}}}` is the template author's explicit "raw" and stays so.
 */
function routeThroughEscapes(program: hbs.AST.Program, text: string): void {
  const lines = text.split('\n');
  const visit = (node: AstNode | null | undefined): void => {
    if (!node) return;
    if (node.type === 'Program') for (const n of node['body'] as AstNode[]) visit(n);
    else if (node.type === 'BlockStatement') {
      visit(node['program'] as AstNode);
      visit(node['inverse'] as AstNode);
    } else if (node.type === 'MustacheStatement' && node['escaped']) {
      const loc = node['loc'] as hbs.AST.SourceLocation;
      const helper = contextAt(lines, loc.start.line, loc.start.column, loc.end.column);
      const params = node['params'] as AstNode[];
      const hash = node['hash'];
      const path = node['path'] as AstNode;
      // a plain lookup becomes the helper's argument; a helper call becomes a sub-expression
      // (strict: a field the view lacks must still throw, as it does for a plain {{value}})
      const arg = params.length || hash ? { type: 'SubExpression', path, params, hash, loc } : { ...path, strict: true };
      node['path'] = { type: 'PathExpression', data: false, depth: 0, parts: [helper], original: helper, loc };
      node['params'] = [arg];
      node['hash'] = undefined;
    }
  };
  visit(program as unknown as AstNode);
}
