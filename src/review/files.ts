/** File operations of the review workflow: a rule file that must never be overwritten. */
import { linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExternalError, InputError } from '../errors.js';

/**
 * Create `path` atomically with `text`, refusing if it exists. The text goes to a temp file in
 * the same folder, which is then hard-linked to its name: link(2) fails with EEXIST instead of
 * replacing, so even a concurrent approve cannot overwrite an approved rule (a rename would).
 */
export function writeNewFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, text, { flag: 'wx' });
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw InputError.single({ message: 'refusing to overwrite an existing rule file', where: { file: path }, expected: 'a new file (an approved rule is never overwritten)', found: 'the file exists' });
    throw new ExternalError(`cannot write ${path}: ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}
