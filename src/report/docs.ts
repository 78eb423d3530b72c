/**
 * `rulegen docs`: docs/rules/<id>.md per approved or deprecated rule, docs/rules/README.md and
 * docs/report.html. Everything is rendered in memory first and written only when every file
 * rendered, each file atomically: a template error leaves the previous docs as they were.
 *
 * Commands that change rule files (approve, reject, deprecate) pass their planned changes as
 * an `overlay`, so the docs are rendered from the state they are about to write — before any
 * rule file is touched.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Store } from '../db/store.js';
import type { Problem } from '../errors.js';
import { removeStep, writeFileAtomic } from '../fsutil.js';
import { backtestTargets, type Target } from '../backtest/run.js';
import { impactSets, simulateImpact, type ImpactReport } from '../impact/impact.js';
import { parseRuleFile, withDuplicateIds } from '../rule/file.js';
import { ruleFilesIn } from '../rules/load.js';
import { targetOf } from '../rules/targets.js';
import type { Workspace } from '../workspace.js';
import { loadTemplates, type Templates } from './templating.js';
import { docOrder, documented, readmeView, reportView, ruleView, type DocRule, type DocsInput } from './view.js';

/** Planned rule-file contents by absolute path; null means the file is to be removed. */
export type Overlay = ReadonlyMap<string, string | null>;

export interface CollectedDocs {
  input: DocsInput;
  /** Problems of rule files that could not be loaded (they are left out of the docs). */
  problems: Problem[];
}

/**
 * Every rule file of the workspace (with `overlay` applied) and, when the workspace has
 * session data, one test-window backtest of the approved and candidate rules with threshold
 * variations — the report's charts come from it.
 */
export async function collectDocs(
  ws: Workspace,
  store: Store | null,
  opts: { now: Date; overlay?: Overlay; onStep?: (m: string) => void },
): Promise<CollectedDocs> {
  const overlay = opts.overlay ?? new Map<string, string | null>();
  const files = new Set([...ruleFilesIn(ws.paths.rules), ...ruleFilesIn(ws.paths.candidates)]);
  for (const [path, text] of overlay) {
    if (text === null) files.delete(path);
    else files.add(path);
  }
  const loads = withDuplicateIds(
    [...files].sort().map((f) => {
      const planned = overlay.get(f);
      return parseRuleFile(planned ?? readFileSync(f, 'utf8'), f, ws.catalog);
    }),
  );
  const problems = loads.flatMap((l) => l.problems);
  const valid = loads.filter((l) => l.rule).map((l) => ({ rule: l.rule!, file: l.file }));
  const live = valid.filter((d) => d.rule.status === 'approved' || d.rule.status === 'candidate');
  let run: DocsInput['run'] = null;
  let impact: ImpactReport | null = null;
  if (store && live.length && (await store.tableExists(ws.config.data.table))) {
    const targets: Target[] = live.map(({ rule, file }) => targetOf(rule, file));
    // rejected rules come along so that a candidate repeating one is marked in the docs
    const ids = new Set(targets.map((t) => t.id));
    const context: Target[] = valid.filter((d) => d.rule.status === 'rejected' && !ids.has(d.rule.id)).map(({ rule, file }) => targetOf(rule, file));
    run = await backtestTargets(store, ws.config, ws.catalog, targets, {
      window: 'test',
      variations: true,
      onStep: opts.onStep,
      context,
      configFile: ws.paths.config,
    });
    // the report's impact section: every candidate shipped on top of the approved set
    const sets = impactSets(
      targets.filter((t) => t.status === 'approved'),
      targets.filter((t) => t.status === 'candidate'),
      ws.catalog,
    );
    impact = await simulateImpact(store, ws.config, ws.catalog, sets.baseline, sets.added, { window: 'test', configFile: ws.paths.config });
  }
  const byId = new Map(run ? run.rules.map((r) => [r.id, r]) : []);
  const rules: DocRule[] = valid.map((d) => ({ ...d, result: byId.get(d.rule.id), variations: run?.variations?.[d.rule.id] }));
  return { input: { workspace: ws.dir, config: ws.config, catalog: ws.catalog, rules: rules.sort(docOrder), run, impact, now: opts.now }, problems };
}

/** The docs as text by absolute path; throws InputError (exit 2) on a template error. */
export function renderDocs(ws: Pick<Workspace, 'paths'>, input: DocsInput, templates: Templates): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(ws.paths.docs, 'rules');
  for (const d of input.rules.filter(documented)) out.set(join(dir, `${d.rule.id}.md`), templates['rule.md'].render(ruleView(d, input), `rule ${d.rule.id}`));
  out.set(join(dir, 'README.md'), templates['readme.md'].render(readmeView(input), 'the rule index'));
  out.set(join(ws.paths.docs, 'report.html'), templates['report.html'].render(reportView(input), 'the report'));
  return out;
}

/** Render one rule's page from its file alone (no data needed): what the golden test pins. */
export function renderRuleMarkdown(d: DocRule, input: DocsInput, templates: Templates = loadTemplates(undefined)): string {
  return templates['rule.md'].render(ruleView(d, input), `rule ${d.rule.id}`);
}

const UUID_MD = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.md$/i;

export interface DocsWritten {
  written: string[];
  /** Pages of rules that no longer exist (only uuid-named pages; hand-written ones stay). */
  removed: string[];
}

/** What writing `files` would change: files whose text differs, and pages of rules that are gone. */
export function docsChanges(ws: Pick<Workspace, 'paths'>, files: ReadonlyMap<string, string>): { writes: [string, string][]; removed: string[] } {
  // unchanged files are left alone so their mtime (and a reviewer's git status) stays quiet
  const writes = [...files].filter(([path, text]) => !(existsSync(path) && readFileSync(path, 'utf8') === text));
  const removed: string[] = [];
  const dir = join(ws.paths.docs, 'rules');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (UUID_MD.test(name) && !files.has(path)) removed.push(path);
    }
  }
  return { writes, removed };
}

/** Write rendered docs, each file atomically; then drop pages of rules that are gone. */
export function writeDocs(ws: Pick<Workspace, 'paths'>, files: ReadonlyMap<string, string>): DocsWritten {
  const { writes, removed } = docsChanges(ws, files);
  for (const [path, text] of writes) writeFileAtomic(path, text);
  for (const path of removed) removeStep(path);
  return { written: writes.map(([p]) => p), removed };
}

export interface DocsResult extends DocsWritten {
  files: string[];
  problems: Problem[];
}

/** Collect, render everything in memory, then write: the whole of `rulegen docs`. */
export async function generateDocs(ws: Workspace, store: Store | null, opts: { now: Date; onStep?: (m: string) => void }): Promise<DocsResult> {
  const templates = loadTemplates(ws.dir);
  const { input, problems } = await collectDocs(ws, store, opts);
  const files = renderDocs(ws, input, templates);
  return { ...writeDocs(ws, files), files: [...files.keys()], problems };
}

/** A short, stable listing of what the docs contain, for CLI output. */
export function docsSummary(ws: Workspace, r: DocsResult): string {
  const pages = r.files.filter((f) => UUID_MD.test(basename(f))).length;
  return (
    `docs: ${pages} rule page${pages === 1 ? '' : 's'}, ${join(ws.paths.docs, 'rules', 'README.md')}, ${join(ws.paths.docs, 'report.html')} ` +
    `(${r.written.length} file${r.written.length === 1 ? '' : 's'} changed${r.removed.length ? `, ${r.removed.length} removed` : ''})\n`
  );
}
