/** Atomic file writes: a reader (or a crash) never sees a half-written file. */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { ExternalError } from './errors.js';

/** Write to a temp file in the same folder, then rename over the target (atomic on POSIX). */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ExternalError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
