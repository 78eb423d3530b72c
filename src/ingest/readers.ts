/**
 * Which DuckDB reader opens which file. Paths are the user's own (not model output) and are
 * quoted as string literals because DuckDB's table functions take them at bind time.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import { quoteString } from '../db/store.js';

export type FileFormat = 'csv' | 'tsv' | 'parquet' | 'json' | 'ndjson' | 'arrow';

const BY_EXTENSION: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.arrow': 'arrow',
  '.ipc': 'arrow',
  '.feather': 'arrow',
  '.arrows': 'arrow',
};

export function detectFormat(file: string): FileFormat {
  const ext = extname(file).toLowerCase();
  const f = BY_EXTENSION[ext];
  if (!f) {
    throw InputError.single({ message: 'unknown file type', where: { file }, expected: Object.keys(BY_EXTENSION).join(', '), found: ext || 'no extension' });
  }
  return f;
}

/** Fails early, with the file named, on a missing, unreadable or empty file. */
export function checkReadable(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw InputError.single({
      message: 'cannot read the input file',
      where: { file },
      expected: 'a readable file',
      found: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code),
    });
  }
  if (size === 0) throw InputError.single({ message: 'the input file is empty', where: { file }, expected: 'a header and at least one row', found: '0 bytes' });
}

/** Characters DuckDB's file readers and `glob()` expand in a path (`**` is two `*`). */
const GLOB_CHAR = /[*?[\]]/g;

export function hasGlob(path: string): boolean {
  return /[*?[\]]/.test(path);
}

/**
 * A path DuckDB reads as exactly this file. DuckDB expands glob characters in every reader's
 * path and has no backslash escape, but a one-character class matches the character itself
 * (`s[1].csv` -> `s[[]1[]].csv`); verified against DuckDB 1.5 in test/ingest/inputs.test.ts.
 */
export function escapeGlob(path: string): string {
  return path.replace(GLOB_CHAR, (c) => `[${c}]`);
}

/** The table-function call that reads exactly `file`, never a glob (not used for Arrow IPC). */
export function readerSql(file: string, format: Exclude<FileFormat, 'arrow'>): string {
  const path = quoteString(escapeGlob(file));
  switch (format) {
    case 'csv':
    case 'tsv':
      // Fixed delimiter and strict mode: a ragged row is an error naming its line, never a
      // silently re-sniffed single-column file.
      return `read_csv(${path}, delim=${format === 'csv' ? "','" : "'\\t'"}, header=true, strict_mode=true, sample_size=-1)`;
    case 'parquet':
      return `read_parquet(${path})`;
    case 'json':
      return `read_json(${path}, format='auto')`;
    case 'ndjson':
      return `read_json(${path}, format='newline_delimited')`;
  }
}

/**
 * When DuckDB's CSV sniffer gives up (it reports no line), find the first row whose field
 * count differs from the header's, so the user is told where to look. Diagnostics only.
 */
export async function findRaggedLine(file: string, delim: string): Promise<{ line: number; expected: number; found: number; text: string } | undefined> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let width = -1;
  try {
    for await (const text of rl) {
      n++;
      if (text === '') continue;
      const count = countFields(text, delim);
      if (width < 0) width = count;
      else if (count !== width) return { line: n, expected: width, found: count, text };
      if (n > 5_000_000) return undefined;
    }
  } finally {
    rl.close();
  }
  return undefined;
}

function countFields(line: string, delim: string): number {
  let inQuote = false;
  let count = 1;
  for (const ch of line) {
    if (ch === '"') inQuote = !inQuote;
    else if (ch === delim && !inQuote) count++;
  }
  return count;
}
