/**
 * YAML with positions: every loader (config, catalog, rule files) parses through here so
 * that a zod issue's path can be turned into file:line:column. It is also the one place that
 * guards against hostile files: a size limit checked before reading, strict UTF-8, and a cap
 * on alias expansion (a "billion laughs" file is bad input, exit 2, not a crash).
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError, type Location, type Problem } from '../errors.js';

/** Largest config or catalog file read (10 MiB): far above a real one, far below what exhausts memory. */
export const MAX_YAML_BYTES = 10 * 1024 * 1024;
/** Largest rule file read (1 MiB): a rule is a page of text; more is a mistake or an attack. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;
/** Aliases a document may expand; YAML's own default, stated here so messages can name it. */
export const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  file: string;
  text: string;
  value: unknown;
  /** Line/column of the node at `path` (or of its nearest existing parent). */
  locate(path: readonly PropertyKey[]): Location;
  /** Line/column of the key `key` of the mapping at `path` (falls back to `locate`). */
  locateKey(path: readonly PropertyKey[], key: string): Location;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MB`;

/**
 * Byte offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF included), or undefined when all of it is valid.
 */
export function invalidUtf8Offset(b: Uint8Array): number | undefined {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and > U+10FFFF (F4).
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return undefined;
}

/** Strict UTF-8 decoding: a replacement character would silently change a rule's meaning. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = invalidUtf8Offset(bytes) ?? 0;
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
    const hex = Array.from(bytes.subarray(at, at + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw InputError.single({ message: `invalid UTF-8 at byte offset ${at}`, where: { file, line }, expected: 'a UTF-8 text file', found: `bytes ${hex}` });
  }
}

/** Read a text file: its size checked before reading, decoded as strict UTF-8. */
export function readText(file: string, what: string, maxBytes = MAX_YAML_BYTES): string {
  try {
    const size = statSync(file).size;
    if (size > maxBytes) {
      throw InputError.single({
        message: `${what} is too large`,
        where: { file },
        expected: `at most ${mib(maxBytes)}`,
        found: `${size.toLocaleString('en-US')} bytes`,
      });
    }
    return decodeUtf8(readFileSync(file), file);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw InputError.single({
      message: `cannot read ${what}`,
      where: { file },
      expected: `a readable file`,
      found: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code ?? e),
    });
  }
}

export function parseYaml(text: string, file: string, maxBytes = MAX_YAML_BYTES): YamlSource {
  // Text that did not come through readText (e.g. planned edits) gets the same size limit.
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes)
    throw InputError.single({
      message: 'the file is too large',
      where: { file },
      expected: `at most ${mib(maxBytes)}`,
      found: `${bytes.toLocaleString('en-US')} bytes`,
    });
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
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws a ReferenceError when aliases would expand past the cap (a "billion laughs").
    const why = e instanceof Error ? e.message : String(e);
    throw InputError.single({
      message: `invalid YAML: too many alias expansions (${why})`,
      where: { file },
      expected: `at most ${MAX_ALIAS_COUNT} alias (*name) expansions`,
      found: 'more (a resource exhaustion attack, or a mistake)',
    });
  }
  const at = (file: string, offset: number, field?: string): Location => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col, field };
  };
  const locate = (path: readonly PropertyKey[]): Location => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return at(file, node.range[0], path.length ? path.join('.') : undefined);
    }
    return { file, field: path.join('.') || undefined };
  };
  const locateKey = (path: readonly PropertyKey[], key: string): Location => {
    const parent = path.length ? doc.getIn(path as unknown[], true) : doc.contents;
    if (isMap(parent)) {
      for (const pair of parent.items) {
        if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return at(file, pair.key.range[0], [...path, key].join('.'));
      }
    }
    return locate([...path, key]);
  };
  return { file, text, value, locate, locateKey };
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The nearest of `names` to `name`, when it is near enough to be a typo. */
export function closest(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const n of names) {
    const d = editDistance(lower, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** zod 4 internals, only as far as walking object shapes for field names. */
type Def = { type?: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown; in?: unknown; options?: unknown[] };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The field names the schema allows for the object at `path`, for "did you mean". */
export function fieldsAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const out = new Set<string>();
  const walk = (s: unknown, i: number): void => {
    const d = defOf(s);
    if (!d) return;
    if (d.innerType !== undefined) return walk(d.innerType, i);
    if (d.type === 'pipe') return walk(d.in, i);
    if (d.type === 'union') return d.options?.forEach((o) => walk(o, i));
    if (d.type === 'object' && d.shape) {
      if (i === path.length) Object.keys(d.shape).forEach((k) => out.add(k));
      else walk(d.shape[String(path[i])], i + 1);
      return;
    }
    if (d.type === 'array' && i < path.length) walk(d.element, i + 1);
  };
  walk(schema, 0);
  return [...out];
}

/** Whether the parsed document has a value (null included) at `path`. */
function hasPath(value: unknown, path: readonly PropertyKey[]): boolean {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return false;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v !== undefined;
}

/**
 * zod issues -> problems with file:line:column, all of them at once, in words a person
 * writing the file understands: a missing field is named, an unknown one gets a "did you
 * mean" from `schema`'s fields, and an issue zod reports twice is shown once.
 */
export function zodProblems(src: YamlSource, error: z.ZodError, schema?: unknown): Problem[] {
  const out: Problem[] = [];
  const excerpt = (where: Location) => (where.line ? src.text.split('\n')[where.line - 1] : undefined);
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One problem per unknown key, at the key itself, not at its parent object.
      const known = schema ? fieldsAt(schema, issue.path) : [];
      for (const key of issue.keys) {
        const where = src.locateKey(issue.path, key);
        const hint = closest(key, known);
        out.push({
          severity: 'error',
          message: `unknown field \`${key}\`${hint ? ` — did you mean \`${hint}\`?` : ''}`,
          where,
          expected: known.length ? `one of ${known.join(', ')}` : undefined,
          found: key,
          excerpt: excerpt(where),
        });
      }
      continue;
    }
    const field = issue.path.join('.') || undefined;
    if (issue.code === 'invalid_type' && issue.path.length > 0 && !hasPath(src.value, issue.path)) {
      // Located at the object that lacks it: there is no line for a field that is not there.
      const parent = src.locate(issue.path.slice(0, -1));
      out.push({
        severity: 'error',
        message: `missing required field \`${String(issue.path[issue.path.length - 1])}\``,
        where: { ...parent, field },
        expected: issue.expected,
      });
      continue;
    }
    const where = src.locate(issue.path);
    const found = 'input' in issue && issue.input !== undefined ? JSON.stringify(issue.input) : undefined;
    out.push({ severity: 'error', message: issue.message, where: { ...where, field }, found, excerpt: excerpt(where) });
  }
  const seen = new Set<string>();
  return out.filter((p) => {
    const k = JSON.stringify([p.message, p.where]);
    return !seen.has(k) && (seen.add(k), true);
  });
}
