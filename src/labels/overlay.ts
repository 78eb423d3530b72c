/**
 * Label corrections: `labels.yaml` in the workspace, written by `rulegen relabel`. Weak labels
 * lie (a login bot faking an old browser is "human" by its user agent); a reviewer who decides
 * that sessions matching a condition are automation (or people) records it here, with who and
 * why. The ingested data is never rewritten: every command that reads the sessions table sees
 * the corrected labels through a temporary view (apply.ts), and says so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Catalog } from '../catalog/schema.js';
import { compilePredicate, type CompiledQuery } from '../compile/compile.js';
import { parseYaml, readText, zodProblems } from '../config/yaml.js';
import { InputError, type Problem } from '../errors.js';
import { checkCondition } from '../rule/checks.js';
import { parseCondition } from '../rule/parser.js';
import type { Expr } from '../rule/ast.js';

export const LABELS_FILE = 'labels.yaml';

export const LABEL_VALUES = ['bot', 'human', 'unknown'] as const;
export type LabelValue = (typeof LABEL_VALUES)[number];

export const CorrectionSchema = z
  .object({
    where: z.string().min(1),
    as: z.enum(LABEL_VALUES),
    reason: z.string().min(1),
    reviewer: z.string().min(1),
    at: z.string().min(1),
  })
  .strict();
export const CorrectionsSchema = z.array(CorrectionSchema);
export type Correction = z.infer<typeof CorrectionSchema>;

/** A correction with its condition parsed, checked and compiled (bound parameters only). */
export interface CompiledCorrection extends Correction {
  ast: Expr;
  predicate: CompiledQuery;
}

/** The label column's value for a correction: 1 bot, 0 human, NULL unknown. */
export function labelValue(as: LabelValue): 1 | 0 | null {
  return as === 'bot' ? 1 : as === 'human' ? 0 : null;
}

export function labelsPath(dir: string): string {
  return join(dir, LABELS_FILE);
}

/** Parse and check one condition against the catalog; problems carry `field`. */
export function compileCorrectionCondition(where: string, catalog: Catalog, field: string): { ast: Expr; predicate: CompiledQuery } | Problem[] {
  const parsed = parseCondition(where);
  if (!parsed.ok) return [{ ...parsed.problem, where: { ...parsed.problem.where, field } }];
  const errors = checkCondition(parsed.ast, catalog).filter((f) => f.severity === 'error');
  if (errors.length) return errors.map(({ node: _n, ...p }) => ({ ...p, where: { ...p.where, field } }));
  return { ast: parsed.ast, predicate: compilePredicate(parsed.ast, catalog) };
}

/** `labels.yaml` of the workspace, checked against the catalog; [] when there is none. */
export function loadCorrections(dir: string, catalog: Catalog): CompiledCorrection[] {
  const file = labelsPath(dir);
  if (!existsSync(file)) return [];
  const src = parseYaml(readText(file, 'the label corrections'), file);
  const parsed = CorrectionsSchema.safeParse(src.value ?? []);
  if (!parsed.success) throw new InputError(`${file}: invalid label corrections`, zodProblems(src, parsed.error, CorrectionsSchema));
  const problems: Problem[] = [];
  const out: CompiledCorrection[] = [];
  parsed.data.forEach((c, i) => {
    const r = compileCorrectionCondition(c.where, catalog, `${i}.where`);
    if (Array.isArray(r)) {
      const at = src.locate([i, 'where']);
      problems.push(...r.map((p) => ({ ...p, where: { ...at, field: `${i}.where` }, excerpt: at.line ? src.text.split('\n')[at.line - 1] : undefined })));
    } else out.push({ ...c, ...r });
  });
  if (problems.length) throw new InputError(`${file}: invalid label corrections`, problems);
  return out;
}
