/**
 * `rulegen release`: run the check (refuse on failure), build the bundle of every approved
 * rule with the check's evidence, and write `<out>/<version>/` — ruleset.json,
 * ruleset.schema.json and CHANGELOG.md against the previous release in `<out>` — as one
 * directory rename, so a release folder is either complete or absent.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCheck } from '../check/check.js';
import type { Store } from '../db/store.js';
import { ExternalError, GateError, InputError } from '../errors.js';
import { mkdirStep, renameStep, writeFileStep } from '../fsutil.js';
import { packageRoot } from '../package.js';
import { loadRuleset, RulesetError } from '../runtime/evaluator.js';
import type { Workspace } from '../workspace.js';
import { buildBundle, evidenceOf } from './build.js';
import { changelog } from './changelog.js';
import { bundleJsonSchema, type Bundle } from './schema.js';

export const BUNDLE_FILE = 'ruleset.json';
export const SCHEMA_FILE = 'ruleset.schema.json';
export const CHANGELOG_FILE = 'CHANGELOG.md';

/** A release folder name: it becomes a path, so no separators and no leading dot. */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;

export interface ReleaseOptions {
  version?: string;
  /** Folder of releases (absolute); default `<workspace>/releases`. */
  out?: string;
  /** The build time written into the bundle (default: SOURCE_DATE_EPOCH, else now). */
  now?: Date;
  onStep?: (m: string) => void;
}

export interface ReleaseResult {
  bundle: Bundle;
  previous: Bundle | null;
  dir: string;
  files: string[];
  changelog: string;
}

function generator(): string {
  try {
    const pj = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    return `rulegen ${pj.version ?? 'unknown'}`;
  } catch {
    return 'rulegen';
  }
}

/** Compare release versions: numeric dot-separated parts numerically, the rest as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The next version after `v`: its minor part + 1 when it is MAJOR.MINOR.PATCH, else `v.1`. */
export function nextVersion(v: string | undefined): string {
  if (v === undefined) return '1.0.0';
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? `${m[1]}.${Number(m[2]) + 1}.0` : `${v}.1`;
}

/** Every release in `out`, verified (sha256, schema), oldest first. A damaged one is an error: it names the folder. */
export function listReleases(out: string): { dir: string; bundle: Bundle }[] {
  if (!existsSync(out)) return [];
  const found: { dir: string; bundle: Bundle }[] = [];
  for (const name of readdirSync(out)) {
    const dir = join(out, name);
    const file = join(dir, BUNDLE_FILE);
    if (name.startsWith('.') || !statSync(dir).isDirectory() || !existsSync(file)) continue;
    try {
      found.push({ dir, bundle: loadRuleset(readFileSync(file, 'utf8')).bundle });
    } catch (e) {
      if (!(e instanceof RulesetError)) throw e;
      throw InputError.single({
        message: `the release ${name} cannot be read: ${e.message}`,
        where: { file },
        expected: 'a release written by rulegen release, unchanged since',
        found: e.reason,
      });
    }
  }
  return found.sort((a, b) => compareVersions(a.bundle.version, b.bundle.version));
}

function sourceDateEpoch(env: NodeJS.ProcessEnv): Date | undefined {
  const s = env['SOURCE_DATE_EPOCH'];
  return s && /^\d+$/.test(s) ? new Date(Number(s) * 1000) : undefined;
}

export async function runRelease(ws: Workspace, store: Store, opts: ReleaseOptions, env: NodeJS.ProcessEnv = {}): Promise<ReleaseResult> {
  const out = opts.out ?? join(ws.dir, 'releases');
  const releases = listReleases(out);
  const previous = releases.at(-1)?.bundle ?? null;
  const version = opts.version ?? nextVersion(previous?.version);
  if (!VERSION.test(version)) {
    throw InputError.single({
      message: 'invalid release version',
      where: { field: 'VERSION' },
      expected: 'letters, digits, dots, dashes (e.g. 1.4.0), starting with a letter or digit',
      found: version,
    });
  }
  const dir = join(out, version);
  if (existsSync(dir))
    throw InputError.single({
      message: `release ${version} already exists: releases are never rewritten`,
      where: { file: dir, field: 'VERSION' },
      expected: 'a new version',
      found: version,
    });
  if (previous && compareVersions(version, previous.version) <= 0) {
    throw InputError.single({
      message: `release ${version} is not after the latest release ${previous.version}`,
      where: { field: 'VERSION' },
      expected: `a version after ${previous.version}`,
      found: version,
    });
  }

  opts.onStep?.('checking the approved rules');
  const c = await runCheck(ws, store, { candidates: false, onStep: opts.onStep });
  if (c.invalid.length)
    throw new InputError(
      `release refused: ${c.invalid.length} invalid rule file${c.invalid.length === 1 ? '' : 's'}`,
      c.invalid.flatMap((f) => f.problems),
    );
  if (!c.passed) {
    const failing = c.rules.filter((r) => !r.verdict.pass);
    const setReasons = c.set && !c.set.pass ? c.set.reasons : [];
    const what =
      [failing.length ? `${failing.length} rule${failing.length === 1 ? '' : 's'}` : '', setReasons.length ? 'the deployed set' : '']
        .filter(Boolean)
        .join(' and ') || 'the workspace';
    throw new GateError(`release refused: rulegen check fails for ${what}`, [
      ...failing.map((r) => ({
        severity: 'error' as const,
        message: `${r.target.title}: ${r.verdict.reasons.join('; ')}`,
        where: { file: r.target.file, ruleId: r.target.id },
      })),
      ...setReasons.map((m) => ({ severity: 'error' as const, message: m })),
    ]);
  }
  const evidence = (i: number) => (c.run ? evidenceOf(c.run.window, c.run.rows, c.rules[i]!.result) : null);
  const bundle = buildBundle({
    version,
    created: opts.now ?? sourceDateEpoch(env) ?? new Date(),
    generator: generator(),
    gate: ws.config.gate,
    catalog: ws.catalog,
    rules: c.rules.map((r, i) => ({ rule: r.target.rule!, evidence: evidence(i) })),
    previous,
  });
  const log = changelog(previous, bundle);
  const files: [string, string][] = [
    [BUNDLE_FILE, JSON.stringify(bundle, null, 2) + '\n'],
    [SCHEMA_FILE, JSON.stringify(bundleJsonSchema(), null, 2) + '\n'],
    [CHANGELOG_FILE, log],
  ];
  // written into a hidden folder beside the target, then renamed: a reader never sees half a release
  const tmp = join(out, `.${version}.tmp-${process.pid}`);
  try {
    mkdirStep(out);
    mkdirStep(tmp);
    for (const [name, text] of files) writeFileStep(join(tmp, name), text, { exclusive: true, durable: true });
    renameStep(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e instanceof InputError || e instanceof ExternalError ? e : new ExternalError(`cannot write the release ${dir}: ${(e as Error).message}`);
  }
  return { bundle, previous, dir, files: files.map(([n]) => join(dir, n)), changelog: log };
}
