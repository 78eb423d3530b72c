// bench/quality.mjs states issue 15 (b) once per gate through targetVerdict: a set with more recall
// but more false positives than the tree's best passing leaf must read MISSED, not "ahead".
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Leaf {
  tp: number;
  fp: number;
  fpr_upper95: number;
  precision: number | null;
}
interface Verdict {
  status: 'met' | 'missed' | 'no tree leaf';
  text: string;
  at?: { rules: number; tp: number; fp: number };
}
type TargetVerdict = (a: {
  leaves: Leaf[];
  gate: { max_fpr: number; min_precision: number; min_support: number };
  prefixes: { rules: number; tp: number; fp: number }[];
  bots: number;
  humans: number;
  setPasses: boolean;
}) => Verdict;

const load = async (): Promise<TargetVerdict> =>
  ((await import(pathToFileURL(resolve('bench/quality_target.mjs')).href)) as { targetVerdict: TargetVerdict }).targetVerdict;

// the Apache log's test window: the tree's best leaf 308 bots / 36 humans (bound 10.04%)
const leaves: Leaf[] = [
  { tp: 308, fp: 36, fpr_upper95: 0.10044, precision: 0.8953 },
  { tp: 28, fp: 22, fpr_upper95: 0.0673, precision: 0.56 },
];
const base = { leaves, bots: 394, humans: 488, setPasses: true };

describe('targetVerdict (bench/quality.mjs, issue 15 b)', () => {
  it('more recall at more false positives than the leaf is missed, and says by how many', async () => {
    const v = (await load())({
      ...base,
      gate: { max_fpr: 0.11, min_precision: 0.89, min_support: 20 },
      prefixes: [
        { rules: 1, tp: 314, fp: 40 },
        { rules: 2, tp: 335, fp: 40 },
      ],
    });
    expect(v.status).toBe('missed');
    expect(v.text).toContain('4 false positive(s) more');
  });

  it('a prefix at an FPR no higher with the recall meets it', async () => {
    const v = (await load())({
      ...base,
      gate: { max_fpr: 0.11, min_precision: 0.89, min_support: 20 },
      prefixes: [
        { rules: 1, tp: 309, fp: 36 },
        { rules: 2, tp: 330, fp: 41 },
      ],
    });
    expect(v.status).toBe('met');
    expect(v.at).toEqual({ rules: 1, tp: 309, fp: 36 });
  });

  it('says plainly when no leaf passes the gate', async () => {
    const v = (await load())({ ...base, gate: { max_fpr: 0.1, min_precision: 0.85, min_support: 20 }, prefixes: [{ rules: 1, tp: 329, fp: 37 }] });
    expect(v.status).toBe('no tree leaf');
    expect(v.text).toMatch(/^NO TREE LEAF PASSES/);
  });
});
