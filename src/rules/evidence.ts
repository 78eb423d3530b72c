/**
 * Writing backtest evidence into rule files: the `backtest:` block, and nothing else of the file
 * (comments, key order) changes.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, type Document } from 'yaml';
import { evidenceBlock, type BacktestRun } from '../backtest/run.js';
import { writeFileAtomic } from '../fsutil.js';

/**
 * Write each rule's evidence into its file. Approved rules are only rewritten when
 * `updateApproved` is set; rejected and deprecated rules never.
 */
export function writeEvidence(run: BacktestRun, updateApproved: boolean): { written: string[]; skipped: string[] } {
  const written: string[] = [];
  const skipped: string[] = [];
  run.targets.forEach((t, i) => {
    if (!t.file) return;
    // Decided rules are a record: approved ones change only with --update, rejected and
    // deprecated ones never (their evidence is what the decision was made on).
    if ((t.status === 'approved' && !updateApproved) || t.status === 'rejected' || t.status === 'deprecated') {
      skipped.push(t.file);
      return;
    }
    const doc: Document = parseDocument(readFileSync(t.file, 'utf8'));
    doc.set('backtest', doc.createNode(evidenceBlock(run, run.rules[i]!)));
    writeFileAtomic(t.file, doc.toString({ lineWidth: 100 }));
    written.push(t.file);
  });
  return { written, skipped };
}
