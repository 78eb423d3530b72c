import { describe, expect, it } from 'vitest';
import type { RuleResult } from '../../src/backtest/engine.js';
import { makeCatalog } from '../../src/catalog/schema.js';
import { falsePositivesFor } from '../../src/propose/text.js';
import { parse } from '../../src/rule/parser.js';

const catalog = makeCatalog([{ name: 'empty_referrer_share', type: 'number', description: 'Share of the requests that sent no referrer.', sensitive: false }]);
const ast = parse('empty_referrer_share = 1');
const result = (fp: number, tn: number, segments?: RuleResult['segments']): RuleResult =>
  ({ id: 'r', counts: { tp: 300, fp, tn, fn: 80, unlabeled_hits: 0 }, ...(segments ? { segments } : {}) }) as unknown as RuleResult;

describe('false-positive scenarios of offline candidates', () => {
  it('say how many labelled people matched when no segment tells who they are; "no one" only when no one did', () => {
    // the real Apache log has no segment columns: 40 people matched, none attributed to a segment
    expect(falsePositivesFor(ast, catalog, result(40, 448))).toEqual([
      '40 of 488 labelled people matched it in the test window (8.197%); ' +
        'no segment column tells who they are (rulegen fp on this rule lists the false-positive scenarios)',
    ]);
    expect(falsePositivesFor(ast, catalog, result(0, 488))).toEqual(['Unknown: no labelled person matched it in the test window']);
  });

  it('name the segments where people matched, worst first', () => {
    const seg = (fp: number, humans: number) => ({ rows: humans, humans, hits: fp, fp, fpr: fp / humans, fpr_upper95: null, fpr_lower95: null });
    const out = falsePositivesFor(ast, catalog, result(5, 995, { 'country=DE': seg(1, 200), 'country=US': seg(4, 800) }));
    expect(out).toEqual([
      'People in country US: 4 of 800 matched in the test window (0.500%)',
      'People in country DE: 1 of 200 matched in the test window (0.500%)',
    ]);
  });
});
