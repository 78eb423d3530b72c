/**
 * YAML with positions: every loader (config, catalog, rule files) parses through here so
 * that a zod issue's path can be turned into file:line:column.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError, type Location, type Problem } from '../errors.js';

export interface YamlSource {
  file: string;
  text: string;
  value: unknown;
  /** Line/column of the node at `path` (or of its nearest existing parent). */
  locate(path: readonly PropertyKey[]): Location;
}

export function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw InputError.single({
      message: `cannot read ${what}`,
      where: { file },
      expected: `a readable file`,
      found: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code ?? e),
    });
  }
}

export function parseYaml(text: string, file: string): YamlSource {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.map((err) => {
      const pos = err.linePos?.[0];
      return {
        severity: 'error' as const,
        message: `invalid YAML: ${err.message.split('\n')[0]}`,
        where: { file, line: pos?.line, column: pos?.col },
        excerpt: pos ? text.split('\n')[pos.line - 1] : undefined,
      };
    });
    throw new InputError(`${file}: invalid YAML`, problems);
  }
  const locate = (path: readonly PropertyKey[]): Location => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) {
        const p = lc.linePos(node.range[0]);
        return { file, line: p.line, column: p.col, field: path.length ? path.join('.') : undefined };
      }
    }
    return { file, field: path.join('.') || undefined };
  };
  return { file, text, value: doc.toJS(), locate };
}

/** zod issues -> problems with file:line:column, all of them at once. */
export function zodProblems(src: YamlSource, error: z.ZodError): Problem[] {
  return error.issues.map((issue) => {
    // An unknown key is reported at the key itself, not at its parent object.
    const path = issue.code === 'unrecognized_keys' && issue.keys.length ? [...issue.path, issue.keys[0]!] : issue.path;
    const where = src.locate(path);
    const found = 'input' in issue && issue.input !== undefined ? JSON.stringify(issue.input) : undefined;
    return {
      severity: 'error' as const,
      message: issue.message,
      where: { ...where, field: path.join('.') || undefined },
      found,
      excerpt: where.line ? src.text.split('\n')[where.line - 1] : undefined,
    };
  });
}
