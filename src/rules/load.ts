/**
 * Reading rule files from disk: one file, one folder, the paths `lint` is given, and the
 * workspace's two folders. Every loader keeps going past bad files: a problem is reported on
 * its load, never thrown. Parsing and checking the text is src/rule/file.ts's (pure).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/schema.js';
import { MAX_RULE_FILE_BYTES, readText } from '../config/yaml.js';
import { InputError, type Problem } from '../errors.js';
import { parseRuleFile, withDuplicateIds, type Rule, type RuleLoad } from '../rule/file.js';
import type { Workspace } from '../workspace.js';

export function loadRuleFile(file: string, catalog: Catalog): RuleLoad {
  let text: string;
  try {
    text = readText(file, 'the rule file', MAX_RULE_FILE_BYTES);
  } catch (e) {
    if (e instanceof InputError) return { file, problems: [...e.problems] };
    throw e;
  }
  return parseRuleFile(text, file, catalog);
}

function isRuleFileName(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !name.startsWith('.');
}

/** Every `*.yaml`/`*.yml` directly in `dir`, sorted by name; a missing folder holds no rules. */
export function ruleFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(isRuleFileName)
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

/** Load every rule file in a folder, keeping going past bad ones; ids must be unique in it. */
export function loadRuleDir(dir: string, catalog: Catalog): RuleLoad[] {
  return withDuplicateIds(ruleFilesIn(dir).map((f) => loadRuleFile(f, catalog)));
}

/** What `lint` looked at: every load, plus problems about paths that could not be read. */
export interface LintResult {
  readonly loads: readonly RuleLoad[];
  readonly problems: readonly Problem[];
}

/**
 * Load every rule file under `targets` (files or folders), keeping going across files.
 * A missing target is a problem only when it was asked for (`required`).
 */
export function lintTargets(targets: readonly string[], catalog: Catalog, required: boolean): LintResult {
  const files: string[] = [];
  const problems: Problem[] = [];
  for (const t of targets) {
    if (!existsSync(t)) {
      if (required)
        problems.push({
          severity: 'error',
          message: 'no such file or folder',
          where: { file: t },
          expected: 'a rule file or a folder of rule files',
          found: 'nothing',
        });
      continue;
    }
    if (statSync(t).isDirectory()) files.push(...ruleFilesIn(t));
    else files.push(t);
  }
  const unique = [...new Set(files)];
  return { loads: withDuplicateIds(unique.map((f) => loadRuleFile(f, catalog))), problems };
}

/**
 * The workspace's rule files, read once: `rules` (rules/) and `candidates` (candidates/), each
 * in file-name order with ids unique per folder; `all` is rules/ then candidates/. Invalid files
 * are loads without `rule`, with their problems.
 */
export interface WorkspaceRules {
  readonly rules: readonly RuleLoad[];
  readonly candidates: readonly RuleLoad[];
  readonly all: readonly RuleLoad[];
}

export function loadWorkspaceRules(ws: Workspace): WorkspaceRules {
  const rules = loadRuleDir(ws.paths.rules, ws.catalog);
  const candidates = loadRuleDir(ws.paths.candidates, ws.catalog);
  return { rules, candidates, all: [...rules, ...candidates] };
}

/** The valid rules among `loads`, optionally only those with one of `statuses`. */
export function validRules(loads: readonly RuleLoad[], statuses?: readonly string[]): Rule[] {
  return loads.flatMap((l) => (l.rule && (!statuses || statuses.includes(l.rule.status)) ? [l.rule] : []));
}
