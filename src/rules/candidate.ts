/**
 * Candidate rule files: one typed builder for the document every generator writes (the offline
 * inducer, the model path, `rulegen fp`), and the one way to write it into candidates/.
 * The builder fixes the key order a reviewer reads (DESIGN.md's rule file) and the status.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Evidence } from '../rule/evidence.js';
import type { RuleFile } from '../rule/file.js';
import { writeFileAtomic } from '../fsutil.js';
import type { Workspace } from '../workspace.js';

/** A candidate as written: a rule file with status candidate, no review and no rollout yet. */
export type CandidateDocument = Omit<RuleFile, 'status' | 'review' | 'rollout' | 'backtest'> & { status: 'candidate'; backtest?: Evidence };

/** The fields a generator supplies; `tags` and `related` default to none. */
export type CandidateFields = Omit<CandidateDocument, 'status' | 'tags' | 'related'> & Partial<Pick<CandidateDocument, 'tags' | 'related'>>;

export function candidateDocument(f: CandidateFields): CandidateDocument {
  return {
    id: f.id,
    title: f.title,
    status: 'candidate',
    action: f.action,
    level: f.level,
    condition: f.condition,
    description: f.description,
    rationale: f.rationale,
    falsepositives: f.falsepositives,
    tags: f.tags ?? [],
    related: f.related ?? [],
    ...(f.provenance ? { provenance: f.provenance } : {}),
    ...(f.backtest ? { backtest: f.backtest } : {}),
  };
}

export function candidateFile(ws: Workspace, id: string): string {
  return join(ws.paths.candidates, `${id}.yaml`);
}

/** Write one candidate rule file atomically, a comment line first. */
export function writeCandidate(file: string, doc: CandidateDocument, comment: string): void {
  writeFileAtomic(file, `# ${comment}\n${stringify(doc, { lineWidth: 100 })}`);
}
