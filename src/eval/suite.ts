/**
 * An evaluation suite (`rulegen eval SUITE.yaml`): cases of labelled data with ground truth, the
 * split, gate and providers each runs with, and how far a metric may move before a baseline
 * comparison calls it a regression. Schema first, type derived; parse -> normalise -> check,
 * every problem at once with file:line:col (as rulegen.yaml does).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { GateSchema, SplitSchema } from '../config/schema.js';
import { InputError, type Problem } from '../errors.js';
import { PROVIDERS, type ProviderName } from '../llm/types.js';
import { parseYaml, readText, zodProblems, type YamlSource } from '../config/yaml.js';
import { ARCHETYPES } from '../synth/archetypes.js';
import { MAX_DAYS } from '../synth/generate.js';
import { METRICS, type MetricName } from './metrics.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, _ . -');
/** A case's providers: the same names as `--provider` (src/llm/types.ts). */
export { PROVIDERS };
export type EvalProvider = ProviderName;

/** Synthetic data with the knobs a case varies; generated in DuckDB (src/synth). */
export const SynthCaseSchema = z.strictObject({
  seed: z.number().int().min(0),
  /** Sessions; eval cases are meant to be small (tens of thousands). */
  sessions: z.number().int().min(1000).max(2_000_000),
  days: z.number().int().min(2).max(MAX_DAYS),
  /** Behaviour change of the drifting bot populations from this day on (0-based; fractional allowed); null: no drift at all. */
  drift_day: z.number().min(0).nullable().optional(),
  /** Populations that drift (default: those archetypes.ts gives a drift). */
  drift_archetypes: z.array(z.string()).optional(),
  /** Extra share of labelled sessions whose label is flipped (on top of synth's own noise). */
  label_noise: z.number().min(0).max(0.5).default(0),
  /** Multiplies the share of named populations, e.g. {corporate_nat: 6} for a trap-heavy human population. */
  weights: z.record(z.string(), z.number().min(0).max(100)).default({}),
});
export type SynthCase = z.infer<typeof SynthCaseSchema>;

/** A feature file (csv, parquet, ...) with the workspace columns, and optionally a ground-truth column. */
export const FileCaseSchema = z.strictObject({
  path: z.string().min(1),
  /** features.yaml for the file (default: the synthetic catalog). */
  catalog: z.string().min(1).optional(),
  /** Ground-truth population per row, e.g. synth's `archetype`; a value is a bot population when most of its labelled rows are labelled 1. */
  truth: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
});

export const CaseSchema = z.strictObject({
  name,
  description: z.string().optional(),
  synth: SynthCaseSchema.optional(),
  file: FileCaseSchema.optional(),
  split: SplitSchema.optional(),
  gate: GateSchema.partial().optional(),
  providers: z.array(z.enum(PROVIDERS)).min(1).optional(),
  models: z.array(z.string().min(1)).min(1).optional(),
  /** Rules asked of each provider. */
  count: z.number().int().min(1).max(50).optional(),
});
export type EvalCase = z.infer<typeof CaseSchema>;

const Tolerance = z.record(z.string(), z.number().min(0));

export const SuiteSchema = z.strictObject({
  suite: name,
  /** Bumped when cases change: a baseline from another version is refused. */
  version: z.number().int().min(1),
  description: z.string().optional(),
  /** Folder of replay cassettes for this suite, relative to the suite file. */
  cassettes: z.string().min(1).default('../cassettes'),
  /** Allowed regression per metric (absolute, in the metric's unit); metrics not named may not regress at all. */
  tolerance: Tolerance.default({}),
  defaults: z
    .strictObject({
      split: SplitSchema.optional(),
      gate: GateSchema.partial().optional(),
      providers: z.array(z.enum(PROVIDERS)).min(1).default(['offline']),
      models: z.array(z.string().min(1)).min(1).optional(),
      count: z.number().int().min(1).max(50).default(5),
    })
    .default({ providers: ['offline'], count: 5 }),
  cases: z.array(CaseSchema).min(1),
});
export type Suite = z.infer<typeof SuiteSchema> & { file: string; dir: string; cassetteDir: string };

/** A case with the suite's defaults applied. */
export interface ResolvedCase {
  name: string;
  description?: string;
  synth?: SynthCase;
  file?: z.infer<typeof FileCaseSchema> & { path: string };
  split: z.infer<typeof SplitSchema>;
  gate: Partial<z.infer<typeof GateSchema>>;
  providers: EvalProvider[];
  models?: string[];
  count: number;
}

export function parseSuite(text: string, file: string): Suite {
  const src = parseYaml(text, file);
  const parsed = SuiteSchema.safeParse(src.value ?? {});
  if (!parsed.success) throw new InputError(`${file}: invalid evaluation suite`, zodProblems(src, parsed.error, SuiteSchema));
  const problems = checkSuite(parsed.data, src);
  if (problems.length) throw new InputError(`${file}: invalid evaluation suite`, problems);
  const dir = dirname(resolve(file));
  return { ...parsed.data, file: resolve(file), dir, cassetteDir: resolve(dir, parsed.data.cassettes) };
}

export function loadSuite(file: string): Suite {
  if (!existsSync(file))
    throw InputError.single({ message: 'no such suite file', where: { file }, expected: 'a suite YAML such as eval/suites/default.yaml', found: 'nothing' });
  return parseSuite(readText(file, 'the evaluation suite'), file);
}

function checkSuite(s: z.infer<typeof SuiteSchema>, src: YamlSource): Problem[] {
  const out: Problem[] = [];
  const line = (where: { line?: number }) => (where.line ? src.text.split('\n')[where.line - 1] : undefined);
  /** At the key itself when `key` (an unknown name in a mapping), else at the value. */
  const push = (path: PropertyKey[], message: string, expected?: string, found?: string, key?: string) => {
    const where = { ...(key !== undefined ? src.locateKey(path, key) : src.locate(path)), field: [...path, ...(key !== undefined ? [key] : [])].join('.') };
    out.push({ severity: 'error', message, where, expected, found, excerpt: line(where) });
  };
  const known = new Set(ARCHETYPES.map((a) => a.name));
  const seen = new Map<string, number>();
  for (const k of Object.keys(s.tolerance))
    if (!(k in METRICS)) push(['tolerance'], `unknown metric \`${k}\``, `one of ${Object.keys(METRICS).join(', ')}`, k, k);
  s.cases.forEach((c, i) => {
    if (seen.has(c.name)) push(['cases', i, 'name'], `case name "${c.name}" is used twice`, 'a unique name per case', `also case ${seen.get(c.name)! + 1}`);
    seen.set(c.name, i);
    if (Boolean(c.synth) === Boolean(c.file))
      push(
        ['cases', i],
        'a case needs exactly one of `synth` or `file`',
        'synth: {seed, sessions, days, ...} or file: {path, truth}',
        c.synth ? 'both' : 'neither',
      );
    if (c.synth) {
      for (const [k] of Object.entries(c.synth.weights))
        if (!known.has(k)) push(['cases', i, 'synth', 'weights'], `unknown population \`${k}\``, `one of ${[...known].join(', ')}`, k, k);
      (c.synth.drift_archetypes ?? []).forEach((a, j) => {
        if (!known.has(a)) push(['cases', i, 'synth', 'drift_archetypes', j], `unknown population \`${a}\``, `one of ${[...known].join(', ')}`, a);
      });
      if (c.synth.drift_day != null && c.synth.drift_day >= c.synth.days)
        push(['cases', i, 'synth', 'drift_day'], 'drift_day is past the end of the data', `a day from 0 to ${c.synth.days - 1}`, String(c.synth.drift_day));
    }
  });
  return out;
}

export function resolveCases(s: Suite): ResolvedCase[] {
  const d = s.defaults;
  return s.cases.map((c) => ({
    name: c.name,
    ...(c.description ? { description: c.description } : {}),
    ...(c.synth ? { synth: c.synth } : {}),
    ...(c.file ? { file: { ...c.file, path: resolve(s.dir, c.file.path), ...(c.file.catalog ? { catalog: resolve(s.dir, c.file.catalog) } : {}) } } : {}),
    split: c.split ?? d.split ?? { test_fraction: 0.3 },
    gate: { ...(d.gate ?? {}), ...(c.gate ?? {}) },
    providers: c.providers ?? d.providers,
    ...((c.models ?? d.models) ? { models: c.models ?? d.models } : {}),
    count: c.count ?? d.count,
  }));
}

/** The tolerance of a metric (0 when the suite names none). */
export function toleranceOf(s: Pick<Suite, 'tolerance'>, m: MetricName): number {
  return s.tolerance[m] ?? 0;
}
