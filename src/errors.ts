/**
 * One error hierarchy for the whole tool. Every error knows the exit code it maps to, so the
 * CLI (src/cli/main.ts) is the only place that turns errors into exit codes.
 */

/** Where a problem is: a file, and optionally a 1-based line/column, a field path or a rule id. */
export interface Location {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  ruleId?: string;
}

/** One finding: what failed, what was expected, what was found, an excerpt of the input. */
export interface Problem {
  severity: 'error' | 'warning';
  message: string;
  where?: Location;
  expected?: string;
  found?: string;
  excerpt?: string;
}

export function formatLocation(where: Location | undefined): string {
  if (!where) return '';
  let s = where.file ?? '';
  if (where.line !== undefined) s += `:${where.line}${where.column !== undefined ? `:${where.column}` : ''}`;
  if (where.field) s += `${s ? ' ' : ''}(${where.field})`;
  if (where.ruleId) s += `${s ? ' ' : ''}[rule ${where.ruleId}]`;
  return s;
}

export function formatProblem(p: Problem): string {
  const loc = formatLocation(p.where);
  const lines = [`${loc ? loc + ': ' : ''}${p.severity}: ${p.message}`];
  if (p.expected !== undefined) lines.push(`  expected: ${p.expected}`);
  if (p.found !== undefined) lines.push(`  found:    ${p.found}`);
  if (p.excerpt) lines.push(...p.excerpt.split('\n').map((l) => `  | ${l}`));
  return lines.join('\n');
}

export class RulegenError extends Error {
  /** Exit code this error maps to: 1 gate/check failed, 2 bad usage or input, 3 external failure. */
  readonly exitCode: number = 1;
  /** The one-line summary, without the problems. */
  readonly headline: string;
  constructor(
    headline: string,
    readonly problems: readonly Problem[] = [],
  ) {
    // The message carries every problem so that a plain `error.message` is already complete.
    super([headline, ...problems.map(formatProblem)].filter(Boolean).join('\n'));
    this.headline = headline;
    this.name = new.target.name;
  }
  /** Human-readable text: the headline followed by every problem. */
  describe(): string {
    return this.message;
  }
}

/** Bad usage or bad input (a file, a flag, a rule): exit 2. */
export class InputError extends RulegenError {
  override readonly exitCode = 2;
  static single(p: Omit<Problem, 'severity'>): InputError {
    return new InputError('', [{ severity: 'error', ...p }]);
  }
}

/** A gate or check failed: exit 1. */
export class GateError extends RulegenError {
  override readonly exitCode = 1;
}

/** A model provider, the disk or another external system failed: exit 3. */
export class ExternalError extends RulegenError {
  override readonly exitCode = 3;
}

/**
 * The command ran and has printed its whole report (stdout, the --json document included); its
 * verdict is a failure: a gate failed (exit 1) or a file in the batch did not load (exit 2).
 * The CLI adds no JSON error object after the report, and on stderr only the reason, if the
 * command gave one (an empty headline and no problems: nothing more is printed).
 */
export class ReportedFailure extends RulegenError {
  constructor(
    override readonly exitCode: 1 | 2,
    headline = '',
    problems: readonly Problem[] = [],
  ) {
    super(headline, problems);
  }
}
