/**
 * Rule files (`rules/<id>.yaml`, `candidates/<id>.yaml`): the zod schema of DESIGN.md's
 * YAML, and a parser that parses, normalises and checks a file's text (reading files is
 * src/rules/load.ts's), returning every problem with its
 * file:line:column instead of stopping at the first. Problems inside the condition point at
 * the offending token in the file, not just at the `condition:` key.
 */
import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { Catalog } from '../catalog/schema.js';
import { MAX_RULE_FILE_BYTES, parseYaml, zodProblems, type YamlSource } from '../config/yaml.js';
import { InputError, type Location, type Problem } from '../errors.js';
import type { Expr } from './ast.js';
import { EvidenceSchema } from './evidence.js';
import { checkCondition, hasErrors, type Finding } from './checks.js';
import { excerptAt, lineColumn, parseCondition, type Span, type Spans } from './parser.js';
import { print } from './printer.js';

export const RULE_STATUSES = ['candidate', 'approved', 'rejected', 'deprecated'] as const;
export const RULE_ACTIONS = ['log', 'challenge', 'block'] as const;
export const RULE_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const RELATION_TYPES = ['derived', 'similar', 'obsolete'] as const;

// YAML 1.2 reads an unquoted timestamp as a string; a hand-edited file may still hold a Date.
const isoTime = z.union([z.string().min(1), z.date()]);
/** C0/C1 control characters other than tab and newline: invisible in reviews, NUL truncates in C tools. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const text = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .superRefine((s, ctx) => {
    const m = CONTROL.exec(s);
    if (m)
      ctx.addIssue({
        code: 'custom',
        message: `contains the control character U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at character ${m.index + 1}`,
        input: s,
      });
  });

export const RelatedSchema = z.strictObject({ id: z.uuid(), type: z.enum(RELATION_TYPES) });

export const ProvenanceSchema = z.looseObject({
  generator: z.string().min(1),
  prompt: z.string().optional(),
  input: z.string().optional(),
  usage: z.looseObject({ input_tokens: z.number().optional(), output_tokens: z.number().optional(), cost_usd: z.number().optional() }).optional(),
  created: isoTime.optional(),
});

export const ReviewSchema = z.looseObject({
  decision: z.enum(['approved', 'rejected', 'deprecated']),
  reviewer: z.string().min(1),
  at: isoTime,
  note: z.string().nullable().optional(),
  override: z.string().nullable().optional(),
});

export const ROLLOUT_STAGES = ['shadow', 'challenge', 'block'] as const;

/**
 * Staged rollout (rulegen promote): the stage caps the rule's action (shadow: evaluated and
 * logged, never acted on); `since` is when it entered the stage; `history` every promotion.
 * Absent: the rule acts in full, as before staged rollout existed.
 */
export const RolloutSchema = z.strictObject({
  stage: z.enum(ROLLOUT_STAGES),
  since: isoTime,
  history: z
    .array(
      z.looseObject({
        from: z.enum(ROLLOUT_STAGES),
        to: z.enum(ROLLOUT_STAGES),
        at: isoTime,
        reviewer: z.string().min(1),
        override: z.string().nullable().optional(),
      }),
    )
    .optional(),
});

export const RuleFileSchema = z.strictObject({
  id: z.uuid('must be a UUID such as 7f9c2b1e-3d4a-4c5b-9e6f-0a1b2c3d4e5f'),
  title: text,
  status: z.enum(RULE_STATUSES),
  action: z.enum(RULE_ACTIONS),
  level: z.enum(RULE_LEVELS),
  condition: text,
  description: text,
  rationale: text,
  falsepositives: z.array(text).min(1, 'name at least one population that could match, or "Unknown"'),
  tags: z.array(text).default([]),
  related: z.array(RelatedSchema).default([]),
  provenance: ProvenanceSchema.optional(),
  // Evidence that every backtest rewrites (rule/evidence.ts: one schema for writer and readers).
  backtest: EvidenceSchema.optional(),
  review: ReviewSchema.optional(),
  rollout: RolloutSchema.optional(),
});

/** A rule file as written, after zod defaults. */
export type RuleFile = z.infer<typeof RuleFileSchema>;

/** A loaded rule: `ast` is the source of truth and `condition` is always `print(ast)`. */
export type Rule = Readonly<RuleFile & { ast: Expr }>;

/** The outcome of loading one file: `rule` is present exactly when no problem is an error. */
export interface RuleLoad {
  readonly file: string;
  readonly rule?: Rule;
  readonly problems: readonly Problem[];
  /** Where the file's `id` is (for problems that span files, like duplicate ids). */
  readonly idAt?: Location;
  readonly id?: string;
}

/**
 * Map offsets in a scalar's value back to the file. The value's non-blank characters occur
 * in the source in order whatever the scalar style (plain, quoted, block, folded), so a
 * greedy walk aligns them; past an escape it cannot follow it gives up (undefined).
 */
function aligner(src: string, startOffset: number, value: string): (offset: number) => number | undefined {
  const map: number[] = [];
  let j = startOffset;
  let lost = false;
  return (offset) => {
    while (!lost && map.length <= offset && map.length < value.length) {
      const ch = value[map.length]!;
      if (/\s/.test(ch)) {
        map.push(j);
        continue;
      }
      let k = j;
      while (k < src.length && src[k] !== ch) k++;
      if (k >= src.length) {
        lost = true;
        break;
      }
      map.push(k);
      j = k + 1;
    }
    if (offset >= value.length) return map.length === value.length && value.length ? (map[value.length - 1] ?? startOffset) + 1 : undefined;
    return map[offset];
  };
}

function offsetOf(text: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return off + column - 1;
}

/** Turns condition-relative spans into file locations with an excerpt of the file. */
function conditionLocator(src: YamlSource, condition: string): (span: Span | undefined) => Pick<Problem, 'where' | 'excerpt'> {
  const at = src.locate(['condition']);
  const start = at.line !== undefined && at.column !== undefined ? offsetOf(src.text, at.line, at.column) : undefined;
  const align = start !== undefined ? aligner(src.text, start, condition) : () => undefined;
  return (span) => {
    const off = span ? align(span.start) : undefined;
    const fileOffset = off ?? start;
    if (fileOffset === undefined) return { where: { ...at, field: 'condition' } };
    const { line, column } = lineColumn(src.text, fileOffset);
    const width = span ? Math.max(1, span.end - span.start) : 1;
    return { where: { file: src.file, line, column, field: 'condition' }, excerpt: excerptAt(src.text, fileOffset, width) };
  };
}

function conditionProblems(src: YamlSource, condition: string, catalog: Catalog): { ast?: Expr; problems: Problem[] } {
  const locate = conditionLocator(src, condition);
  const parsed = parseCondition(condition);
  if (!parsed.ok) {
    return { problems: [{ ...parsed.problem, message: `invalid condition: ${parsed.problem.message}`, ...locate(parsed.span) }] };
  }
  const spans: Spans = parsed.spans;
  const problems = checkCondition(parsed.ast, catalog).map(({ node, ...p }: Finding): Problem => ({ ...p, ...locate(node ? spans.get(node) : undefined) }));
  return { ast: parsed.ast, problems };
}

function sortByPlace(problems: Problem[]): Problem[] {
  const key = (p: Problem) => (p.where?.line ?? Number.MAX_SAFE_INTEGER) * 1e6 + (p.where?.column ?? 0);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => key(a.p) - key(b.p) || a.i - b.i)
    .map((x) => x.p);
}

function withRuleId(problems: Problem[], id: string | undefined): Problem[] {
  if (!id) return problems;
  return problems.map((p) => ({ ...p, where: { ...p.where, ruleId: id } }));
}

/** Parse, normalise and check one rule file's text. Never throws on bad input. */
export function parseRuleFile(text: string, file: string, catalog: Catalog): RuleLoad {
  let src: YamlSource;
  try {
    src = parseYaml(text, file, MAX_RULE_FILE_BYTES);
  } catch (e) {
    if (e instanceof InputError) return { file, problems: [...e.problems] };
    throw e;
  }
  const problems: Problem[] = [];
  const raw = src.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      file,
      problems: [
        {
          severity: 'error',
          message: 'a rule file must be a YAML mapping',
          where: { file, line: 1, column: 1 },
          expected: 'id, title, status, action, level, condition, …',
          found: raw === null || raw === undefined ? 'an empty document' : Array.isArray(raw) ? 'a list' : typeof raw,
        },
      ],
    };
  }
  const parsed = RuleFileSchema.safeParse(raw);
  if (!parsed.success) problems.push(...zodProblems(src, parsed.error, RuleFileSchema));
  const rawId = (raw as Record<string, unknown>)['id'];
  const id = parsed.success ? parsed.data.id : typeof rawId === 'string' ? rawId : undefined;

  // The condition is checked even when other fields are wrong: report everything at once.
  const condition = (raw as Record<string, unknown>)['condition'];
  let ast: Expr | undefined;
  if (typeof condition === 'string' && condition.trim()) {
    const c = conditionProblems(src, condition, catalog);
    ast = c.ast;
    problems.push(...c.problems);
  }
  if (parsed.success) {
    const stem = basename(file, extname(file));
    if (/\.ya?ml$/i.test(file) && stem !== parsed.data.id) {
      problems.push({
        severity: 'warning',
        message: 'the file name does not match the rule id',
        where: src.locate(['id']),
        expected: `${parsed.data.id}${extname(file)}`,
        found: basename(file),
      });
    }
  }
  // Reading order: a reviewer fixes a file top to bottom.
  const all = withRuleId(sortByPlace(problems), id);
  const idAt = src.locate(['id']);
  if (!parsed.success || !ast || hasErrors(all)) return { file, problems: all, idAt, id };
  const rule: Rule = Object.freeze({ ...parsed.data, condition: print(ast), ast });
  return { file, rule, problems: all, idAt, id };
}

/** A problem on every file whose rule id was already used by an earlier file. */
export function duplicateIdProblems(loads: readonly RuleLoad[]): Map<RuleLoad, Problem> {
  const first = new Map<string, RuleLoad>();
  const out = new Map<RuleLoad, Problem>();
  for (const l of loads) {
    if (!l.id) continue;
    const prev = first.get(l.id);
    if (!prev) {
      first.set(l.id, l);
      continue;
    }
    out.set(l, {
      severity: 'error',
      message: `rule id ${l.id} is also used by ${prev.file}`,
      where: { ...(l.idAt ?? { file: l.file }), ruleId: l.id },
      expected: 'a unique id per rule',
      found: l.id,
    });
  }
  return out;
}

/** Attach duplicate-id errors to their loads (dropping `rule` from those). */
export function withDuplicateIds(loads: readonly RuleLoad[]): RuleLoad[] {
  const dups = duplicateIdProblems(loads);
  return loads.map((l) => {
    const p = dups.get(l);
    if (!p) return l;
    const { rule: _rule, ...rest } = l;
    return { ...rest, problems: [...l.problems, p] };
  });
}
