/**
 * features.yaml after `ingest-logs`: the log features, merged with what the catalog already says.
 * An entry the user already has for a log feature is kept as written (their words win); missing
 * log features are added; entries for columns the log's sessions do not have are removed (a rule
 * could never use them) and listed, and the previous file is kept beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, YAMLSeq } from 'yaml';
import type { Feature } from '../../catalog/schema.js';
import { renderCatalogYaml } from '../../synth/catalog.js';
import { writeFileAtomic } from '../../fsutil.js';
import { logCatalog } from './features.js';

export interface CatalogMerge {
  added: string[];
  kept: string[];
  removed: string[];
  /** Kept entries whose type differed from what the log produces (the log's type now applies). */
  conflicts: { name: string; catalog: string; log: string }[];
  backup: string | null;
  text: string;
}

export function mergeLogCatalog(file: string): CatalogMerge {
  const wanted = logCatalog();
  const byName = new Map(wanted.map((f) => [f.name, f]));
  if (!existsSync(file)) return { added: wanted.map((f) => f.name), kept: [], removed: [], conflicts: [], backup: null, text: renderCatalogYaml(wanted) };
  const before = readFileSync(file, 'utf8');
  const doc = parseDocument(before);
  const seq = isSeq(doc.contents) ? doc.contents : new YAMLSeq();
  const kept: string[] = [];
  const removed: string[] = [];
  const conflicts: CatalogMerge['conflicts'] = [];
  seq.items = seq.items.filter((item) => {
    const name = isMap(item) ? item.get('name') : undefined;
    const f = typeof name === 'string' ? byName.get(name) : undefined;
    if (!f) {
      if (typeof name === 'string') removed.push(name);
      return false;
    }
    kept.push(f.name);
    if (isMap(item)) {
      const type = item.get('type');
      if (type !== f.type) conflicts.push({ name: f.name, catalog: String(type), log: f.type });
      // The user's words (label, description, unit) stay; what the data is (type, values, range)
      // and what it may be used for (leak, sensitive) come from the log's definition.
      for (const key of ['type', 'values', 'range', 'leak', 'sensitive'] as const) {
        const v = (f as Record<string, unknown>)[key];
        if (v === undefined || (key === 'leak' && v === false)) item.delete(key);
        else item.set(key, doc.createNode(v, { flow: true }));
      }
    }
    return true;
  });
  const added = wanted.filter((f) => !kept.includes(f.name));
  const addedDoc = parseDocument(renderCatalogYaml(added as Feature[]));
  if (isSeq(addedDoc.contents)) for (const item of addedDoc.contents.items) seq.items.push(item);
  doc.contents = seq as typeof doc.contents;
  if (!kept.length) doc.commentBefore = addedDoc.commentBefore;
  for (const item of seq.items) if (isMap(item) || isScalar(item)) (item as { spaceBefore?: boolean }).spaceBefore = true;
  const text = doc.toString({ lineWidth: 100, flowCollectionPadding: false });
  return { added: added.map((f) => f.name), kept, removed, conflicts, backup: removed.length ? `${file}.before-ingest-logs` : null, text };
}

/** Write the merged catalog (and the backup of the previous one when entries were removed). */
export function writeLogCatalog(file: string, merge: CatalogMerge): void {
  if (merge.backup) writeFileAtomic(merge.backup, readFileSync(file, 'utf8'));
  writeFileAtomic(file, merge.text);
}
