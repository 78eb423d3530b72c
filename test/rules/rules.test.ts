/** src/rules: the workspace's rules — one load, one id resolver, targets, evidence that fits its schema, candidate documents. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { backtestTargets, evidenceBlock } from '../../src/backtest/run.js';
import { openWorkspace, openWorkspaceStore } from '../../src/workspace.js';
import { EvidenceSchema, readEvidence } from '../../src/rule/evidence.js';
import { parseRuleFile } from '../../src/rule/file.js';
import { candidateDocument } from '../../src/rules/candidate.js';
import { loadWorkspaceRules } from '../../src/rules/load.js';
import { matchRules, resolveRuleArg } from '../../src/rules/resolve.js';
import { resolveTargets, targetsOf, workspaceContext } from '../../src/rules/targets.js';
import { IDS, tinyWorkspace } from '../impact/tiny.js';

describe('the workspace rules', () => {
  it('loads both folders once, resolves ids, prefixes, file names, paths and expressions by one set of rules', async () => {
    const dir = await tinyWorkspace();
    const ws = openWorkspace(dir);
    const all = loadWorkspaceRules(ws);
    expect(all.rules.map((l) => l.id)).toEqual([IDS.A, IDS.L]);
    expect(all.all.length).toBe(all.rules.length + all.candidates.length);
    // exact id, 8+ prefix, file name and path all name the same rule; a short prefix names none
    for (const arg of [IDS.D, IDS.D.slice(0, 8), `${IDS.D}.yaml`, join('candidates', `${IDS.D}.yaml`)])
      expect(matchRules(arg, all.all).map((l) => l.id)).toEqual([IDS.D]);
    expect(matchRules(IDS.D.slice(0, 7), all.all)).toEqual([]);
    // 'aaaaaaaa' is the prefix of two rules
    expect(matchRules('aaaaaaaa', all.all)).toHaveLength(2);
    const ambiguous = resolveRuleArg('aaaaaaaa', ws, dir, all.all);
    expect(ambiguous.kind === 'error' && ambiguous.problems[0]!.message).toBe('"aaaaaaaa" matches several rules');
    expect(resolveRuleArg(IDS.E.slice(0, 10), ws, dir).kind).toBe('rule');
    expect(resolveRuleArg('rpm > 5', ws, dir).kind).toBe('expression');
    const r = resolveTargets(ws, [IDS.D.slice(0, 8), 'rpm > 5'], dir);
    expect(r.problems).toEqual([]);
    expect(r.targets.map((t) => [t.id, t.status])).toEqual([
      [IDS.D, 'candidate'],
      ['expr-1', 'expression'],
    ]);
    expect(r.targets[0]!.file).toBe(join(ws.paths.candidates, `${IDS.D}.yaml`));
    expect(workspaceContext(ws).map((t) => t.id)).toEqual(targetsOf(all.all, ['approved', 'candidate', 'rejected']).map((t) => t.id));
  }, 30_000);

  it('evidence as written fits the one evidence schema, and a candidate document loads as a rule file', async () => {
    const dir = await tinyWorkspace();
    const ws = openWorkspace(dir);
    const store = await openWorkspaceStore(ws, { mode: 'read' });
    try {
      const { targets } = resolveTargets(ws, [IDS.E], dir);
      const run = await backtestTargets(store, ws.config, ws.catalog, targets, {
        window: 'test',
        variations: true,
        context: workspaceContext(ws),
        configFile: ws.paths.config,
      });
      const evidence = evidenceBlock(run, run.rules[0]!);
      expect(EvidenceSchema.safeParse(evidence).success).toBe(true);
      expect(readEvidence(evidence)?.counts).toEqual(run.rules[0]!.counts);
      const rule = targets[0]!.rule!;
      const doc = candidateDocument({
        id: rule.id,
        title: rule.title,
        action: rule.action,
        level: rule.level,
        condition: rule.condition,
        description: rule.description,
        rationale: rule.rationale,
        falsepositives: rule.falsepositives,
        provenance: { generator: 'offline:test' },
        backtest: evidence,
      });
      expect(Object.keys(doc)).toEqual([
        'id',
        'title',
        'status',
        'action',
        'level',
        'condition',
        'description',
        'rationale',
        'falsepositives',
        'tags',
        'related',
        'provenance',
        'backtest',
      ]);
      const { stringify } = await import('yaml');
      const load = parseRuleFile(stringify(doc), join(ws.paths.candidates, `${rule.id}.yaml`), ws.catalog);
      expect(load.problems).toEqual([]);
      expect(load.rule?.backtest?.fpr_upper95).toBe(evidence.fpr_upper95);
    } finally {
      store.close();
    }
  }, 30_000);

  it('a backtest block that does not fit the schema is reported on its rule file', async () => {
    const dir = await tinyWorkspace();
    const file = join(dir, 'candidates', `${IDS.E}.yaml`);
    const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const { stringify } = await import('yaml');
    const load = parseRuleFile(stringify({ ...doc, backtest: { counts: { tp: 'many' } } }), file, openWorkspace(dir).catalog);
    expect(load.rule).toBeUndefined();
    expect(load.problems.some((p) => p.where?.field?.startsWith('backtest'))).toBe(true);
  }, 30_000);
});
