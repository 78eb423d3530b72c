/**
 * Which files an ingest reads. A path that names an existing file is that file and nothing else,
 * whatever characters it holds; a pattern is expanded only when the user asks for globbing, or
 * when it contains glob characters and no such file exists. Matches are expanded here, once,
 * through DuckDB's own `glob()` (the same matcher its readers use), so the summary can list
 * exactly the files that were read and each one is then read literally.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { quoteString, type Store } from '../db/store.js';
import { hasGlob } from './readers.js';

/** One pattern the user gave and the files it matched, sorted. */
export interface GlobMatch {
  pattern: string;
  files: string[];
}

/** The files to read, in order (literal paths as given, glob matches in sorted order). */
export interface ResolvedInputs {
  files: string[];
  globs: GlobMatch[];
}

/** Decide, without touching DuckDB, whether `arg` is read as a pattern. */
export function isPattern(arg: string, glob: boolean): boolean {
  if (glob) return true;
  return hasGlob(arg) && !existsSync(arg);
}

export async function resolveInputs(store: Store, args: readonly string[], glob: boolean): Promise<ResolvedInputs> {
  const files: string[] = [];
  const globs: GlobMatch[] = [];
  const empty: string[] = [];
  for (const arg of args) {
    if (!isPattern(arg, glob)) {
      files.push(arg);
      continue;
    }
    // glob() lists files only (directories are not matched), and, unlike a shell, `*` also
    // matches names that start with a dot.
    const rows = await store.all<{ file: string }>(`SELECT file FROM glob(${quoteString(arg)})`);
    const matched = rows.map((r) => r.file).sort();
    if (matched.length === 0) empty.push(arg);
    globs.push({ pattern: arg, files: matched });
    files.push(...matched);
  }
  if (empty.length) {
    throw new InputError(
      'a pattern matched no files',
      empty.map((pattern) => ({
        severity: 'error' as const,
        message: 'no file matches the pattern',
        where: { file: pattern },
        expected: 'at least one file matching it (or an existing file name)',
        found: 'no match',
      })),
    );
  }
  return { files, globs };
}
