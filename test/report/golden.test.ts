/**
 * Golden Markdown: the docs of fixture rules (fixtures/review/*.yaml, evidence pinned, `now`
 * pinned) must equal fixtures/golden/docs/* byte for byte. Regenerate with UPDATE_GOLDEN=1
 * and review the diff. No data is needed: a page is rendered from its rule file alone.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/config/load.js';
import { loadRuleDir } from '../../src/rules/load.js';
import { renderDocs, renderRuleMarkdown } from '../../src/report/docs.js';
import { loadTemplates } from '../../src/report/templating.js';
import { docOrder, type DocsInput } from '../../src/report/view.js';
import { goldenIn } from '../helpers/golden.js';

const FIXTURES = 'fixtures/review';
const GOLDEN = 'fixtures/golden/docs';
const catalog = loadCatalog('fixtures/workspace/features.yaml');
const config = loadConfig('fixtures/workspace');
const loads = loadRuleDir(FIXTURES, catalog);
const input: DocsInput = {
  workspace: 'fixtures/review',
  config,
  catalog,
  rules: loads.map((l) => ({ rule: l.rule!, file: l.file })).sort(docOrder),
  run: null,
  now: new Date('2026-02-01T00:00:00Z'),
};

const golden = goldenIn(GOLDEN);

describe('golden docs of fixture rules', () => {
  it('loads the fixtures without problems', () => {
    expect(loads.flatMap((l) => l.problems)).toEqual([]);
    expect(loads).toHaveLength(3);
  });

  it.each(['4f7d2c10-5b6e-4a8f-9c31-7e2b8d0a6f15', '9e1f3a52-7c4d-4b6e-8a20-5d9c0b1e2f36'])('docs/rules/%s.md', (id) => {
    const d = input.rules.find((r) => r.rule.id === id)!;
    golden(`${id}.md`, renderRuleMarkdown(d, input));
  });

  it('docs/rules/README.md', () => {
    const files = renderDocs({ paths: { docs: '/docs' } as never }, input, loadTemplates(undefined));
    expect([...files.keys()].map((f) => basename(f)).sort()).toEqual([
      '4f7d2c10-5b6e-4a8f-9c31-7e2b8d0a6f15.md',
      '9e1f3a52-7c4d-4b6e-8a20-5d9c0b1e2f36.md',
      'README.md',
      'report.html',
    ]);
    golden('README.md', files.get('/docs/rules/README.md')!);
  });

  it('says what an ops reviewer needs, in words', () => {
    const md = readFileSync(join(GOLDEN, '4f7d2c10-5b6e-4a8f-9c31-7e2b8d0a6f15.md'), 'utf8');
    // the condition, verbatim, and its plain-English reading
    expect(md).toContain('mean_interarrival_ms < 13900 and interarrival_cv < 0.1259 and static_asset_ratio < 0.05');
    expect(md).toMatch(/In plain words: it matches sessions with .*13900 milliseconds/);
    // evidence with the FPR bound and the gate verdict; the override is visible
    expect(md).toContain('| False-positive rate, upper 95% bound | 0.104% |');
    expect(md).toContain('| Worst day | 0.067% on 2026-01-13 |');
    expect(md).toContain('**fails**');
    expect(md).toContain('FPR bound 0.104% is within noise of 0.1%; incident 42 needs it now');
    // tuning (variations, current marked) and rollback
    expect(md).toContain('| < 13900 (current) | 9.2% | 0.044% | 0.104% | 99.0% |');
    expect(md).toContain('rulegen deprecate 4f7d2c10-5b6e-4a8f-9c31-7e2b8d0a6f15');
    // a pipe inside a table cell does not break the table
    expect(readFileSync(join(GOLDEN, 'README.md'), 'utf8')).toContain('Long reads are people too \\| and dashboards refresh.');
  });
});

describe('hostile text in a rule renders as text', () => {
  const HOSTILE = '<script>alert(1)</script> [x](javascript:alert(1)) # heading';
  it('title, description, rationale, false positives, tags, reviewer note and segment values are escaped', async () => {
    const { parseDocument } = await import('yaml');
    const { parseRuleFile } = await import('../../src/rule/file.js');
    const file = join(FIXTURES, '4f7d2c10-5b6e-4a8f-9c31-7e2b8d0a6f15.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.set('title', HOSTILE);
    doc.set('description', `${HOSTILE}\n\n# Owned\n    indented code\n---\n1. list <img src=x onerror=alert(1)>`);
    doc.set('rationale', `**bold** _em_ ${HOSTILE}\n> quoted`);
    doc.set('falsepositives', [HOSTILE, '- nested list', '`code` & &amp; entity']);
    doc.set('tags', ['<b>tag</b>', 'a|b']);
    doc.setIn(['review', 'note'], `${HOSTILE} | cell break`);
    doc.setIn(['backtest', 'segments', `country=<i>XX</i> [y](javascript:1)`], { fpr: 0.001, fpr_upper95: 0.002, hits: 5 });
    const load = parseRuleFile(doc.toString(), file, catalog);
    expect(load.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const md = renderRuleMarkdown({ rule: load.rule!, file }, input);
    // no HTML tag, no link, no heading or quote or list made from data
    expect(md).not.toMatch(/(?<!\\)<(script|img|b|i)\b/);
    expect(md).not.toMatch(/(?<!\\)\]\(javascript:/);
    expect(md).toContain('# \\<script>alert(1)\\</script> \\[x\\](javascript:alert(1)) \\# heading\n');
    for (const line of md.split('\n')) {
      expect(line, line).not.toMatch(/^(# (Owned|heading)|> quoted|    indented|---$|1\. list|- - nested)/);
    }
    expect(md).toContain('\\*\\*bold\\*\\* \\_em\\_');
    expect(md).toContain('\\`code\\` & \\&amp; entity');
    // table cells stay cells: the note's pipe is escaped once
    expect(md).toMatch(/\| \\<script>alert\(1\)\\<\/script> \\\[x\\\]\(javascript:alert\(1\)\) \\# heading \\\| cell break \|/);
    expect(md).toContain('| country=\\<i>XX\\</i> \\[y\\](javascript:1) | 5 |');
    // code stays code: the condition is verbatim inside its fence
    expect(md).toContain('```\nmean_interarrival_ms < 13900 and interarrival_cv < 0.1259 and static_asset_ratio < 0.05\n```');
  });
});

describe('threshold charts', () => {
  it('put thresholds on a numeric axis: 0.13 and 0.132 nearly together, 0.5 far off', async () => {
    const { xyChart } = await import('../../src/report/charts.js');
    const values = [0.13, 0.132, 0.5];
    const chart = xyChart({
      id: 't',
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      categories: values.map(String),
      xValues: values,
      series: [{ name: 'recall', values: [0.1, 0.2, 0.3], kind: 'line', axis: 'left', cls: 'line-recall', format: (x) => String(x) }],
    });
    const xs = [...chart.svg.matchAll(/<circle class="line-recall-dot" cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xs).toHaveLength(3);
    expect(xs[1]! - xs[0]!).toBeLessThan(5);
    expect(xs[2]! - xs[1]!).toBeGreaterThan(300);
  });
});
