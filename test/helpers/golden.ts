import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export interface GoldenOptions {
  /** Write a missing golden file instead of failing (the first run records it). */
  writeMissing?: boolean;
}

/**
 * A compare-with-golden-file function for one directory: `text` must equal `dir/name` byte for
 * byte; UPDATE_GOLDEN=1 rewrites the file first. A missing file fails (run with UPDATE_GOLDEN=1
 * and review it) unless `writeMissing` is set.
 */
export function goldenIn(dir: string, opts: GoldenOptions = {}): (name: string, text: string) => void {
  return (name, text) => {
    const file = join(dir, name);
    if (process.env['UPDATE_GOLDEN'] === '1' || (opts.writeMissing === true && !existsSync(file))) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, text);
    }
    if (opts.writeMissing !== true) expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(text).toBe(readFileSync(file, 'utf8'));
  };
}
