/**
 * `rulegen relabel`: record one label correction in labels.yaml after measuring what it changes.
 * Nothing is relabelled by itself: a person names the condition, the label, the reason and
 * themselves, and the file (reviewed like rules, in git) is the record.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseDocument, YAMLSeq } from 'yaml';
import type { Catalog } from '../catalog/schema.js';
import type { Config } from '../config/schema.js';
import { quoteIdent, type Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { compileCorrectionCondition, labelsPath, type Correction, type LabelValue } from './overlay.js';

export interface RelabelOptions {
  where: string;
  as: LabelValue;
  reason: string;
  reviewer: string;
  dryRun?: boolean;
  now?: Date;
}

export interface RelabelResult {
  correction: Correction;
  matched: number;
  /** Labels of the matched sessions before this correction (after earlier corrections). */
  before: { bot: number; human: number; unknown: number };
  changed: number;
  written: boolean;
  file: string;
}

function required(value: string, flag: string): void {
  if (!value.trim()) throw InputError.single({ message: `${flag} is empty`, where: { field: flag }, expected: 'a non-empty value', found: '""' });
}

export async function relabel(store: Store, dir: string, config: Config, catalog: Catalog, opts: RelabelOptions): Promise<RelabelResult> {
  required(opts.reason, '--reason');
  required(opts.reviewer, '--reviewer');
  const compiled = compileCorrectionCondition(opts.where, catalog, '--where');
  if (Array.isArray(compiled)) throw new InputError('invalid --where condition', compiled);
  if (!(await store.tableExists(config.data.table)))
    throw InputError.single({
      message: `no ${config.data.table} table in the workspace database`,
      expected: 'sessions loaded with `rulegen ingest` or `rulegen ingest-logs`',
      found: 'an empty database',
    });
  const label = quoteIdent(config.data.label);
  const target = opts.as === 'bot' ? 1 : opts.as === 'human' ? 0 : null;
  const r = (await store.one<Record<string, number>>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE ${label} = 1) AS bot, count(*) FILTER (WHERE ${label} = 0) AS human, count(*) FILTER ` +
      `(WHERE ${label} IS NULL) AS unknown
     FROM ${quoteIdent(config.data.table)} WHERE ${compiled.predicate.sql}`,
    compiled.predicate.parameters,
  ))!;
  const before = { bot: Number(r['bot']), human: Number(r['human']), unknown: Number(r['unknown']) };
  const matched = Number(r['n']);
  if (matched === 0)
    throw InputError.single({
      message: 'the condition matches no session; nothing recorded',
      where: { field: '--where' },
      expected: 'a condition that matches the sessions to relabel',
      found: opts.where,
    });
  const changed = matched - (target === 1 ? before.bot : target === 0 ? before.human : before.unknown);
  const correction: Correction = {
    where: opts.where.trim(),
    as: opts.as,
    reason: opts.reason.trim(),
    reviewer: opts.reviewer.trim(),
    at: (opts.now ?? new Date()).toISOString(),
  };
  const file = labelsPath(dir);
  if (!opts.dryRun) writeFileAtomic(file, appendCorrection(existsSync(file) ? readFileSync(file, 'utf8') : '', correction));
  return { correction, matched, before, changed, written: !opts.dryRun, file };
}

const HEADER = ` Label corrections, applied by every command that reads the sessions (the data itself is never
 rewritten). Written by \`rulegen relabel\`; review changes to this file like rule changes.
 Where several corrections match a session, the last one wins.`;

/** The file's text with one more correction at the end (comments and earlier entries kept). */
export function appendCorrection(text: string, c: Correction): string {
  const doc = parseDocument(text || '[]');
  if (!text.trim()) doc.commentBefore = HEADER;
  const seq = doc.contents instanceof YAMLSeq ? doc.contents : new YAMLSeq();
  const item = doc.createNode(c);
  if (seq.items.length) (item as { spaceBefore?: boolean }).spaceBefore = true;
  seq.items.push(item);
  seq.flow = false;
  doc.contents = seq as typeof doc.contents;
  return doc.toString({ lineWidth: 100 });
}
