/**
 * The model path's context (issue 15, item 6): what context.ts gathers (ranked features, rules,
 * the gate) and, from the offline inducer's atoms and covering loop, per bot family the features
 * that separate the bots still left. Both go through `forModel`, the one privacy filter, so a
 * family never carries a row, a sensitive or leaking feature, or a value off a closed list.
 */
import { besideStore } from '../../backtest/kernel/fingerprint.js';
import type { Store } from '../../db/store.js';
import type { Ranking } from '../../rank/types.js';
import { parse } from '../../rule/parser.js';
import { workspaceRules } from '../../rules/targets.js';
import type { Workspace } from '../../workspace.js';
import { gatherContext } from '../context.js';
import { separatingFeatures, type Family } from '../offline.js';
import { forModel, type ProposeContext, type RawFamily } from '../outgoing.js';

/** Bumped when the covering search changes what it finds: older cached families are then ignored. */
const FAMILIES_VERSION = 1;

/** Covering steps whose families the prompt shows. */
export const MODEL_FAMILIES = 5;

/** A family as gathered: the inducer's printed conditions back to trees (they always parse; one that does not is left out). */
export function rawFamily(f: Family): RawFamily {
  const tree = (c: string) => {
    try {
      return parse(c);
    } catch {
      return null;
    }
  };
  return {
    step: f.step,
    rule: f.condition === null ? null : tree(f.condition),
    bots_left: f.bots_left,
    humans: f.humans,
    features: f.features.flatMap((x) => {
      const condition = tree(x.atom);
      return condition ? [{ feature: x.feature, condition, bots: x.tp, humans: x.fp }] : [];
    }),
  };
}

/**
 * Everything a propose call tells the model. The covering loop treats the bots of the
 * workspace's existing rules (approved, candidate, rejected, deprecated) as caught, so the
 * families are what those rules leave.
 */
export async function modelContext(
  ws: Workspace,
  store: Store,
  ranking: Ranking,
  opts: { families?: number; onStep?: (m: string) => void } = {},
): Promise<ProposeContext> {
  const exclude = new Set(workspaceRules(ws, { statuses: ['candidate', 'approved', 'rejected', 'deprecated'] }).targets.map((t) => t.condition));
  const count = opts.families ?? MODEL_FAMILIES;
  // A ranking is one snapshot of the data: the same search on it (same config, rules and
  // catalog) gives the same families, so a process asks it once. The search also owns one temp
  // table of the store; concurrent searches on one store would share it.
  const key = JSON.stringify({
    data: ws.config.data,
    split: ws.config.split,
    gate: ws.config.gate,
    catalog: ws.catalog.features,
    exclude: [...exclude].sort(),
    count,
  });
  const memo = searched.get(ranking) ?? new Map<string, Promise<Family[]>>();
  searched.set(ranking, memo);
  let families = memo.get(key);
  if (!families) {
    opts.onStep?.('finding bot families with the offline covering search');
    // on disk also under the ranking it starts from and the search's version
    const diskKey = JSON.stringify({ key, version: FAMILIES_VERSION, ranked: ranking.features.map((f) => f.feature) });
    // kept beside the store (`cache/families/`), so a second propose on unchanged data (a dry
    // run, then the real one) does not search again
    families = besideStore(store, ws.config.data.table, 'families', diskKey, () =>
      separatingFeatures(store, ws.config, ws.catalog, ranking, { families: count, exclude, ...(opts.onStep ? { onStep: opts.onStep } : {}) }),
    );
    memo.set(key, families);
    families.catch(() => memo.delete(key));
  }
  return forModel({ ...gatherContext(ws, ranking), families: (await families).map(rawFamily) }, ws.catalog);
}

const searched = new WeakMap<Ranking, Map<string, Promise<Family[]>>>();
