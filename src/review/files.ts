/** File operations of the review workflow: a rule file that must never be overwritten. */
import { dirname } from 'node:path';
import { ExternalError, InputError } from '../errors.js';
import { fsyncDir, linkStep, mkdirStep, removeQuietly, tempPathFor, writeFileStep } from '../fsutil.js';

/**
 * Create `path` atomically with `text`, refusing if it exists. The text goes to a temp file in
 * the same folder, which is then hard-linked to its name: link(2) fails with EEXIST instead of
 * replacing, so even a concurrent approve cannot overwrite an approved rule (a rename would).
 */
export function writeNewFileAtomic(path: string, text: string, opts: { durable?: boolean } = {}): void {
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  try {
    mkdirStep(dir);
    writeFileStep(tmp, text, { exclusive: true, durable: opts.durable });
    linkStep(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw InputError.single({
        message: 'refusing to overwrite an existing rule file',
        where: { file: path },
        expected: 'a new file (an approved rule is never overwritten)',
        found: 'the file exists',
      });
    throw new ExternalError(`cannot write ${path}: ${(e as Error).message}`);
  }
  // the link is the file now; the temp name goes (a crash here leaves a *.tmp that recovery removes)
  removeQuietly(tmp);
  if (opts.durable) fsyncDir(dir);
}
