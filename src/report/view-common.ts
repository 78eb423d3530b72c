/**
 * What every docs view shares: the input types, the text formatters (no locale, so the bytes
 * do not depend on the machine) and the documentation order of rules.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { fmtPct } from '../format.js';
import type { RuleResult } from '../backtest/engine.js';
import type { BacktestRun, Variation } from '../backtest/run.js';
import { readEvidence, type Evidence } from '../rule/evidence.js';
import type { Rule } from '../rule/file.js';
import type { ImpactReport } from '../impact/impact.js';

/** One rule file the docs know about, with its live test-window result when there is data. */
export interface DocRule {
  readonly rule: Rule;
  readonly file: string;
  readonly result?: RuleResult;
  readonly variations?: readonly Variation[];
}

/** Everything the docs are rendered from; the same input gives the same bytes. */
export interface DocsInput {
  readonly workspace: string;
  readonly config: Config;
  readonly catalog: Catalog;
  /** Every valid rule file of rules/ and candidates/, any status. */
  readonly rules: readonly DocRule[];
  /** The test-window backtest of approved and candidate rules; null without session data. */
  readonly run: BacktestRun | null;
  /** What shipping every candidate on top of the approved set changes (report only); absent without data. */
  readonly impact?: ImpactReport | null;
  readonly now: Date;
}

export const iso = (t: string | Date | null | undefined): string => (t === null || t === undefined ? '' : t instanceof Date ? t.toISOString() : String(t));
export const day = (t: string | Date | null | undefined): string => iso(t).slice(0, 10);
export const count = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x.toLocaleString('en-US'));
/** A Markdown table cell: one line, no column breaks. */
export const cell = (s: string): string =>
  s
    .replace(/\r?\n+/g, ' ')
    .replaceAll('|', '\\|')
    .trim();

export function recordedEvidence(rule: Rule): Evidence | null {
  return readEvidence(rule.backtest);
}

export function gateView(config: Config) {
  return { maxFpr: fmtPct(config.gate.max_fpr), minPrecision: fmtPct(config.gate.min_precision, 1), minSupport: String(config.gate.min_support) };
}

/** The approved rule a candidate changes: duplicates of it are expected, not findings. */
export function derivedOf(d: DocRule): string | undefined {
  return d.rule.status === 'candidate' ? d.rule.related.find((r) => r.type === 'derived')?.id : undefined;
}

const STATUS_ORDER: Record<string, number> = { approved: 0, candidate: 1, deprecated: 2, rejected: 3 };

/** Rules in documentation order: by status, then title, then id. */
export function docOrder(a: DocRule, b: DocRule): number {
  return (
    (STATUS_ORDER[a.rule.status] ?? 9) - (STATUS_ORDER[b.rule.status] ?? 9) ||
    a.rule.title.localeCompare(b.rule.title, 'en') ||
    (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0)
  );
}

/** Which rules get a page of their own under docs/rules/. */
export const documented = (d: DocRule): boolean => d.rule.status === 'approved' || d.rule.status === 'deprecated';
