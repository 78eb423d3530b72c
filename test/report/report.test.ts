/**
 * docs/report.html in a real browser: Debian's chromium driven by playwright-core. The page
 * must load with no console error and no request beyond its own file (self-contained), and
 * every chart must be present with a non-zero size, a title, axis labels and a data table.
 * A full-page screenshot goes to test-output/report.png for a person to look at.
 *
 * If chromium is missing this test FAILS (scripts/test.mjs and .ci/run install it): a skipped
 * browser test would prove nothing.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/db/store.js';
import { collectDocs, renderDocs } from '../../src/report/docs.js';
import { loadTemplates } from '../../src/report/templating.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { exampleWorkspace } from '../helpers/workspace.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let ws: string;
let browser: Browser | undefined;
/** Rule cards the report must show: the approved rules (2 since 3b0d6c2e was deprecated) and every candidate proposed. */
let cards = 0;

beforeAll(async () => {
  ws = await exampleWorkspace();
  const p = await runCli(['-C', ws, '--quiet', 'propose', '--provider', 'offline', '--count', '3'], ws);
  expect(p.code, p.stderr).toBe(0);
  const d = await runCli(['-C', ws, 'docs'], ws);
  expect(d.code, d.stderr).toBe(0);
  const { readdirSync } = await import('node:fs');
  const candidates = readdirSync(join(ws, 'candidates')).filter((f) => f.endsWith('.yaml')).length;
  expect(candidates).toBeGreaterThanOrEqual(1);
  cards = 2 + candidates;
});

afterAll(async () => {
  await browser?.close();
});

describe('docs/report.html', () => {
  it('is one self-contained page: inline CSS and SVG, no script, no external asset', () => {
    const html = readFileSync(join(ws, 'docs/report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).toContain('<style>');
    // 3 approved rules and 3 candidates, every one charted, plus the overlap heat map
    expect(html.match(/<section class="card" id="rule-/g)).toHaveLength(cards);
    expect(html).toContain('data-chart="overlap"');
  });

  it('is deterministic for the same inputs and the same `now`', async () => {
    const w = openWorkspace(ws);
    const store = await Store.open(w.paths.db);
    try {
      const now = new Date('2026-02-01T00:00:00Z');
      const a = renderDocs(w, (await collectDocs(w, store, { now })).input, loadTemplates(ws));
      const b = renderDocs(w, (await collectDocs(w, store, { now })).input, loadTemplates(ws));
      expect([...a.keys()]).toEqual([...b.keys()]);
      for (const [k, v] of a) expect(b.get(k), k).toBe(v);
      expect(a.get(join(w.paths.docs, 'report.html'))).toContain('Generated 2026-02-01T00:00:00.000Z');
    } finally {
      store.close();
    }
  });

  it('renders in headless Chromium: no console error, every chart visible with a title, axis labels and a data table', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with apt-get install -y chromium (scripts/test.mjs does it as root)`).toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(join(ws, 'docs/report.html')).href;
    await page.goto(url, { waitUntil: 'load' });

    const charts = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          id: f.id,
          caption: f.querySelector('figcaption')?.textContent?.trim() ?? '',
          svgTitle: svg?.querySelector('title')?.textContent?.trim() ?? '',
          axisLabels: svg ? [...svg.querySelectorAll('.axis-label')].map((t) => t.textContent?.trim() ?? '') : [],
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: svg ? svg.querySelectorAll('rect, polyline, circle').length : 0,
          tableRows: f.querySelectorAll('details table tbody tr').length,
        };
      }),
    );
    // the overlap heat map, a daily chart per rule card and at least one trade-off chart per rule
    expect(charts.length).toBeGreaterThanOrEqual(13);
    expect(charts.filter((c) => c.id.startsWith('chart-daily-'))).toHaveLength(cards);
    expect(charts.filter((c) => c.id.startsWith('chart-tradeoff-')).length).toBeGreaterThanOrEqual(cards);
    expect(charts.filter((c) => c.id === 'chart-overlap')).toHaveLength(1);
    for (const c of charts) {
      expect(c.width, `${c.id} width`).toBeGreaterThan(100);
      expect(c.height, `${c.id} height`).toBeGreaterThan(100);
      expect(c.caption, c.id).not.toBe('');
      expect(c.svgTitle, c.id).toBe(c.caption);
      expect(c.axisLabels.length, `${c.id} axis labels`).toBeGreaterThanOrEqual(2);
      expect(c.axisLabels.every((l) => l.length > 0)).toBe(true);
      expect(c.marks, `${c.id} draws something`).toBeGreaterThan(0);
      expect(c.tableRows, `${c.id} data table`).toBeGreaterThan(0);
    }
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/report.png', fullPage: true });
    copyFileSync(join(ws, 'docs/report.html'), 'test-output/report.html');
    expect(existsSync('test-output/report.png')).toBe(true);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => u !== url)).toEqual([]);
  });
});
