/**
 * `rank --import FILE`: an importance computed elsewhere (say mean |SHAP| of a gradient-boosted
 * model), shown next to rulegen's own. CSV/TSV with a header naming `feature`, `importance` and
 * optionally `std` (other columns are ignored), or JSON: `[{feature, importance, std?}, ...]`
 * or `{"<feature>": importance | {importance, std?}}`.
 *
 * Parse, normalise, check, report everything at once: a row with an unknown feature or a
 * malformed number is a warning naming its line (CSV) or field (JSON) and is left out; the rest
 * of the file and the ranking still count. Only a file that cannot be read at all — missing,
 * not JSON, no header — is an error.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Catalog } from '../catalog/schema.js';
import { InputError, type Problem } from '../errors.js';

export interface ImportedEntry {
  feature: string;
  importance: number;
  std?: number;
}

/** What a file gave: the usable entries (catalog features, finite numbers, first of duplicates) and every problem. */
export interface ImportResult {
  file: string;
  entries: ImportedEntry[];
  problems: Problem[];
}

export function loadImport(file: string, catalog: Catalog): ImportResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw InputError.single({
      message: `cannot read the importance file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      where: { file },
      expected: 'a CSV or JSON file with feature, importance[, std]',
    });
  }
  return parseImport(text, file, catalog);
}

export function parseImport(text: string, file: string, catalog: Catalog): ImportResult {
  const ext = extname(file).toLowerCase();
  const looksJson = /^\s*[[{]/.test(text);
  const raw = ext === '.json' || (ext !== '.csv' && ext !== '.tsv' && looksJson) ? parseJson(text, file) : parseDelimited(text, file);
  return check(raw, file, catalog);
}

/** A row before checks: strings or whatever JSON held, and where it came from. */
interface RawEntry {
  feature: unknown;
  importance: unknown;
  std: unknown;
  where: Problem['where'];
  field: (name: string) => Problem['where'];
}

function parseJson(text: string, file: string): { rows: RawEntry[]; problems: Problem[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw InputError.single({
      message: 'the importance file is not valid JSON',
      where: { file },
      expected: '[{"feature": ..., "importance": ...}, ...] or {"<feature>": <importance>}',
      found: (e as Error).message,
    });
  }
  const rows: RawEntry[] = [];
  const problems: Problem[] = [];
  if (Array.isArray(doc)) {
    doc.forEach((item, i) => {
      const field = (name: string) => ({ file, field: `[${i}]${name ? `.${name}` : ''}` });
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        problems.push({
          severity: 'warning',
          message: 'entry left out: not an object',
          where: field(''),
          expected: '{"feature": ..., "importance": ..., "std": ...}',
          found: JSON.stringify(item)?.slice(0, 80),
        });
        return;
      }
      const o = item as Record<string, unknown>;
      rows.push({ feature: o['feature'], importance: o['importance'], std: o['std'], where: field(''), field });
    });
  } else if (doc !== null && typeof doc === 'object') {
    for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
      const field = (sub: string) => ({ file, field: sub ? `${name}.${sub}` : name });
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        rows.push({ feature: name, importance: o['importance'], std: o['std'], where: field(''), field });
      } else rows.push({ feature: name, importance: v, std: undefined, where: field(''), field: () => field('') });
    }
  } else {
    throw InputError.single({
      message: 'the importance file holds no list of features',
      where: { file },
      expected: '[{"feature": ..., "importance": ...}, ...] or {"<feature>": <importance>}',
      found: JSON.stringify(doc),
    });
  }
  return { rows, problems };
}

/** Split one CSV line; double quotes may wrap a cell and are doubled inside it. */
function splitLine(line: string, sep: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (ch === sep) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

function parseDelimited(text: string, file: string): { rows: RawEntry[]; problems: Problem[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = headerIndex >= 0 ? lines[headerIndex]! : '';
  const sep = header.includes('\t') && !header.includes(',') ? '\t' : header.includes(';') && !header.includes(',') ? ';' : ',';
  const names = splitLine(header, sep).map((h) => h.toLowerCase());
  const col = (n: string) => names.indexOf(n);
  const fi = col('feature');
  const ii = col('importance');
  const si = col('std');
  if (fi < 0 || ii < 0) {
    throw InputError.single({
      message: 'the importance file has no header naming its columns',
      where: { file, line: headerIndex + 1 },
      expected: 'a header line with the columns feature, importance and optionally std',
      found: header.trim() === '' ? 'an empty file' : header.slice(0, 120),
    });
  }
  const rows: RawEntry[] = [];
  for (let n = headerIndex + 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '' || line.startsWith('#')) continue;
    const cells = splitLine(line, sep);
    const where = { file, line: n + 1 };
    rows.push({ feature: cells[fi], importance: cells[ii], std: si >= 0 ? cells[si] : undefined, where, field: (f: string) => ({ ...where, field: f }) });
  }
  return { rows, problems: [] };
}

/** A finite number from a JSON number or a CSV cell; undefined when absent, null when malformed. */
function number(v: unknown): number | null | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  // Number('') is 0 and Number('0x1f') is 31: accept plain decimal notation only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

function check(raw: { rows: RawEntry[]; problems: Problem[] }, file: string, catalog: Catalog): ImportResult {
  const problems = [...raw.problems];
  const entries: ImportedEntry[] = [];
  const seen = new Map<string, Problem['where']>();
  for (const r of raw.rows) {
    const feature = typeof r.feature === 'string' ? r.feature.trim() : '';
    if (!feature) {
      problems.push({
        severity: 'warning',
        message: 'row left out: no feature name',
        where: r.field('feature'),
        expected: 'a feature name',
        found: r.feature === undefined ? 'nothing' : JSON.stringify(r.feature),
      });
      continue;
    }
    if (!catalog.get(feature)) {
      problems.push({
        severity: 'warning',
        message: `row left out: unknown feature "${feature}"`,
        where: r.field('feature'),
        expected: 'a feature of features.yaml',
        found: feature,
      });
      continue;
    }
    const importance = number(r.importance);
    if (importance === undefined || importance === null) {
      problems.push({
        severity: 'warning',
        message: `row left out: the importance of "${feature}" is not a number`,
        where: r.field('importance'),
        expected: 'a finite number such as 0.042',
        found:
          r.importance === undefined || r.importance === ''
            ? 'nothing'
            : String(typeof r.importance === 'string' ? r.importance : JSON.stringify(r.importance)),
      });
      continue;
    }
    const std = number(r.std);
    if (std === null || (std !== undefined && std < 0)) {
      problems.push({
        severity: 'warning',
        message: `row left out: the std of "${feature}" is not a non-negative number`,
        where: r.field('std'),
        expected: 'empty or a number >= 0',
        found: String(typeof r.std === 'string' ? r.std : JSON.stringify(r.std)),
      });
      continue;
    }
    const first = seen.get(feature);
    if (first) {
      problems.push({
        severity: 'warning',
        message: `row left out: "${feature}" appears again (the first row counts)`,
        where: r.where,
        expected: 'each feature once',
        found: `a second row for ${feature}`,
      });
      continue;
    }
    seen.set(feature, r.where);
    entries.push(std === undefined ? { feature, importance } : { feature, importance, std });
  }
  if (entries.length === 0)
    problems.push({ severity: 'warning', message: 'the importance file gave no usable row; the ranking is shown without it', where: { file } });
  return { file, entries, problems };
}
