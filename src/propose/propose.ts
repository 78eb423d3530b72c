/**
 * `rulegen propose`: candidates from a provider, each validated, backtested on the test window
 * and written to candidates/ with its evidence and provenance.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { backtestTargets, evidenceBlock, workspaceRules, type Target } from '../backtest/run.js';
import { rankFeatures } from '../rank/rank.js';
import type { Ranking } from '../rank/types.js';
import type { Workspace } from '../workspace.js';
import { induce, type InducedRule } from './offline.js';
import { descriptionFor, falsePositivesFor, rationaleFor, titleFor } from './text.js';

export type ProviderName = 'offline' | 'bedrock' | 'replay';

/** True when the AWS SDK's default chain has something to work with. */
export function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean((env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) || env['AWS_PROFILE'] || env['AWS_WEB_IDENTITY_TOKEN_FILE'] || env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] || env['AWS_CONTAINER_CREDENTIALS_FULL_URI']);
}

/** The flag wins, then the config; otherwise bedrock with credentials and offline without. */
export function chooseProvider(flag: string | undefined, ws: Workspace, env: NodeJS.ProcessEnv): { provider: ProviderName; why: string } {
  const valid: ProviderName[] = ['offline', 'bedrock', 'replay'];
  if (flag !== undefined) {
    if (!valid.includes(flag as ProviderName)) throw InputError.single({ message: 'unknown provider', where: { field: '--provider' }, expected: valid.join(', '), found: flag });
    return { provider: flag as ProviderName, why: '--provider' };
  }
  if (ws.config.llm.provider) return { provider: ws.config.llm.provider, why: `llm.provider in ${ws.paths.config}` };
  if (hasAwsCredentials(env)) return { provider: 'bedrock', why: 'AWS credentials found' };
  return { provider: 'offline', why: 'no AWS credentials configured, so using the offline inducer' };
}

export interface ProposedCandidate {
  id: string;
  file: string;
  condition: string;
  title: string;
  train: InducedRule['train'];
  test: ReturnType<typeof evidenceBlock>;
}

export interface ProposeResult {
  provider: ProviderName;
  method: string;
  candidates: ProposedCandidate[];
  searched: number;
  sampleRows: number;
  seconds: number;
  dryRun: boolean;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Where a candidate with this id lives. */
export function candidateFile(ws: Workspace, id: string): string {
  return join(ws.paths.candidates, `${id}.yaml`);
}

/** Write one candidate rule file atomically, a comment line first (shared by every provider). */
export function writeCandidate(file: string, doc: Record<string, unknown>, comment: string): void {
  writeFileAtomic(file, `# ${comment}\n${stringify(doc, { lineWidth: 100 })}`);
}

export async function proposeOffline(ws: Workspace, store: Store, opts: { count: number; dryRun?: boolean; ranking?: Ranking; onStep?: (m: string) => void }): Promise<ProposeResult> {
  const t0 = performance.now();
  opts.onStep?.('ranking features on the train window');
  const ranking = opts.ranking ?? (await rankFeatures(store, ws.config, ws.catalog));
  const existing = workspaceRules(ws, { statuses: ['candidate', 'approved', 'rejected', 'deprecated'] });
  const exclude = new Set(existing.targets.map((t) => t.condition));
  const induced = await induce(store, ws.config, ws.catalog, ranking, { count: opts.count, exclude, onStep: opts.onStep });
  const method = 'greedy-conjunction';
  const targets: Target[] = induced.rules.map((r) => ({ id: randomUUID(), title: titleFor(r.ast, ws.catalog), status: 'candidate', condition: r.condition, ast: r.ast }));
  const candidates: ProposedCandidate[] = [];
  if (targets.length) {
    opts.onStep?.(`backtesting ${targets.length} candidates on the test window`);
    const run = await backtestTargets(store, ws.config, ws.catalog, targets, { window: 'test', variations: true });
    const input = sha256(JSON.stringify(ranking.features.map((f) => ({ ...f }))));
    targets.forEach((t, i) => {
      const r = induced.rules[i]!;
      const test = run.rules[i]!;
      const evidence = evidenceBlock(run, test);
      const doc = {
        id: t.id,
        title: t.title,
        status: 'candidate',
        action: 'challenge',
        level: (test.precision ?? 0) >= 0.99 ? 'high' : 'medium',
        condition: r.condition,
        description: descriptionFor(r.ast, ws.catalog, r.train, test),
        rationale: rationaleFor(r.ast, ws.catalog, ranking),
        falsepositives: falsePositivesFor(r.ast, ws.catalog, test),
        tags: ['offline', `terms-${r.terms}`],
        related: [],
        provenance: { generator: `offline:${method}`, input: `sha256:${input}`, usage: { input_tokens: 0, output_tokens: 0, cost_usd: 0 }, created: new Date().toISOString() },
        backtest: evidence,
      };
      const file = candidateFile(ws, t.id);
      if (!opts.dryRun) writeCandidate(file, doc, "Proposed by rulegen's offline inducer; review with `rulegen review`, then approve or reject.");
      candidates.push({ id: t.id, file, condition: r.condition, title: t.title, train: r.train, test: evidence });
    });
  }
  return { provider: 'offline', method, candidates, searched: induced.searched, sampleRows: induced.sampleRows, seconds: (performance.now() - t0) / 1000, dryRun: Boolean(opts.dryRun) };
}
