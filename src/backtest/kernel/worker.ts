/**
 * A kernel worker thread: receives the plan once (workerData), then blocks of columns
 * (transferred, not copied), and at the end posts its additive partial result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KernelState, type Block, type KernelPlan } from './compute.js';

const port = parentPort!;
const state = new KernelState((workerData as { plan: KernelPlan }).plan);
port.on('message', (m: { type: 'block'; block: Block } | { type: 'finish' }) => {
  if (m.type === 'block') {
    state.process(m.block);
    port.postMessage({ type: 'done' });
  } else {
    const p = state.finish();
    const buffers = [
      p.groups,
      p.ruleGroups,
      ...p.segTotals,
      ...p.segHits,
      p.popTotals,
      p.popHits,
      p.inter,
      p.incremental,
      p.outside,
      p.fpShare,
      p.base,
      p.all,
    ].map((a) => a.buffer as ArrayBuffer);
    port.postMessage({ type: 'partial', partial: p }, buffers);
  }
});
