/**
 * A kernel worker thread. With a cache source it reads its own blocks from the column cache
 * (block numbers from a shared counter) and posts its additive partial result; without one it
 * receives blocks of columns (transferred, not copied) and posts the partial on `finish`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KernelState, type Block, type KernelPlan, type Partial } from './compute.js';
import { BlockReader, type CacheSource } from './reader.js';

const port = parentPort!;
const data = workerData as { plan: KernelPlan; simd: boolean; source?: CacheSource; counter?: SharedArrayBuffer; ticks?: boolean };
const state = new KernelState(data.plan, data.simd);

function post(p: Partial): void {
  const arrays = [p.groups, p.ruleGroups, ...p.segTotals, ...p.segHits, p.popTotals, p.popHits, p.inter, p.incremental, p.outside, p.fpShare, p.base, p.all];
  port.postMessage(
    { type: 'partial', partial: p },
    arrays.map((a) => a.buffer as ArrayBuffer),
  );
}

if (data.source) {
  const src = data.source;
  const counter = new Int32Array(data.counter!);
  const reader = new BlockReader(src);
  let first = true;
  try {
    reader.runAll(state, () => {
      // a block counted (every call but the first): a progress tick for the main thread
      if (data.ticks && !first) port.postMessage({ type: 'tick' });
      first = false;
      const i = Atomics.add(counter, 0, 1);
      return i < src.groups.length ? i : -1;
    });
  } finally {
    reader.close();
  }
  post(state.finish());
} else {
  port.on('message', (m: { type: 'block'; block: Block } | { type: 'finish' }) => {
    if (m.type === 'block') {
      state.process(m.block);
      port.postMessage({ type: 'done' });
    } else post(state.finish());
  });
}
