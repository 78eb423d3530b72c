/**
 * Reading the column cache's blocks straight into a thread's kernel memory (no copy, no
 * per-block allocation): each worker opens the files itself and takes block numbers from a
 * shared counter, so blocks go to whichever thread is free. Only node:fs: workers load this.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelState } from './compute.js';

/** The cached columns of one run, in the plan's column order, and the sub-blocks to read. */
export interface CacheSource {
  dir: string;
  /** Per column: file stem, bytes per value, whether a validity file is read. */
  files: { file: string; bytes: number; nulls: boolean }[];
  /** Every sub-block of the files: first row, rows, first validity word. */
  subs: [start: number, rows: number, wstart: number][];
  /** Kernel blocks: sub-block numbers read one after the other into one block (all full but the last). */
  groups: number[][];
}

function readFully(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new Error('column cache file is truncated');
    off += n;
  }
}

export class BlockReader {
  private readonly fds: { v: number; n: number }[];
  readonly hasValid: boolean[];
  constructor(private readonly src: CacheSource) {
    this.fds = src.files.map((f) => ({ v: openSync(join(src.dir, `${f.file}.v`), 'r'), n: f.nulls ? openSync(join(src.dir, `${f.file}.n`), 'r') : -1 }));
    this.hasValid = src.files.map((f) => f.nulls);
  }
  /** Read group `g` of sub-blocks into `state`'s memory, one after the other; returns its row count. */
  read(state: KernelState, g: number): number {
    const buf = state.prims.buffer;
    let at = 0;
    for (const s of this.src.groups[g]!) {
      const [start, rows, wstart] = this.src.subs[s]!;
      if (at & 127 || at + rows > state.plan.blockRows) throw new Error('column cache: a sub-block does not fit its kernel block');
      this.src.files.forEach((f, c) => {
        const fd = this.fds[c]!;
        readFully(fd.v, new Uint8Array(buf, state.valOff[c]! + at * f.bytes, rows * f.bytes), start * f.bytes);
        if (fd.n >= 0) readFully(fd.n, new Uint8Array(buf, state.validOff[c]! + at / 8, Math.ceil(rows / 32) * 4), wstart * 4);
      });
      at += rows;
    }
    return at;
  }
  /** Count every block whose number `next()` hands out (until it returns -1). */
  runAll(state: KernelState, next: () => number): void {
    for (let b = next(); b >= 0; b = next()) state.run(this.read(state, b), this.hasValid);
  }
  close(): void {
    for (const f of this.fds) {
      closeSync(f.v);
      if (f.n >= 0) closeSync(f.n);
    }
  }
}
