/** Where the installed package lives: shipped prompts, templates, cassettes and logs are found relative to it. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The folder holding rulegen's package.json. Walks up from this module, so it works from
 * src/ (tsx, vitest) and from dist/ (after a build) alike.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'rulegen') return (root = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find rulegen's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
