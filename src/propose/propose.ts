/**
 * `rulegen propose`: candidates from a provider, each validated, backtested on the test window
 * and written to candidates/ with its evidence and provenance.
 */
import type { OnProgress } from '../progress.js';
import { createHash, randomUUID } from 'node:crypto';
import { resolveWindow } from '../db/window.js';
import { quoteIdent, type Store } from '../db/store.js';
import { InputError } from '../errors.js';
import { backtestTargets, evidenceBlock, type Target } from '../backtest/run.js';
import { PROVIDERS, type ProviderName } from '../llm/types.js';
import type { Evidence } from '../rule/evidence.js';
import { candidateDocument, candidateFile, writeCandidate, type CandidateDocument } from '../rules/candidate.js';
import { conditionTarget, workspaceRules } from '../rules/targets.js';
import type { Ranking } from '../rank/types.js';
import type { Workspace } from '../workspace.js';
import { induce, type InducedRule, type NoiseFloor } from './offline.js';
import { descriptionFor, falsePositivesFor, rationaleFor, titleFor } from './text.js';
import { NO_HUMANS_HINT } from '../labels/hint.js';
import { applyGate, gatePower, powerMessage } from '../backtest/gate.js';
import type { RuleResult } from '../backtest/engine.js';
import { refineAnalysis, refineEvidence, refineResult, type RefineRound } from '../fp/refine.js';
import type { Expr } from '../rule/ast.js';
import { english } from '../rule/english.js';
import type { Evaluator } from '../backtest/engine-types.js';
import { rankCached } from '../rank/cache.js';

export type { ProviderName } from '../llm/types.js';

/** True when the AWS SDK's default chain has something to work with. */
export function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    (env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) ||
    env['AWS_PROFILE'] ||
    env['AWS_WEB_IDENTITY_TOKEN_FILE'] ||
    env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] ||
    env['AWS_CONTAINER_CREDENTIALS_FULL_URI'],
  );
}

/** The flag wins, then the config; otherwise bedrock with credentials and offline without. */
export function chooseProvider(flag: string | undefined, ws: Workspace, env: NodeJS.ProcessEnv): { provider: ProviderName; why: string } {
  if (flag !== undefined) {
    // the CLI's --provider has these as choices; this guards the other callers
    if (!(PROVIDERS as readonly string[]).includes(flag))
      throw InputError.single({ message: 'unknown provider', where: { field: '--provider' }, expected: PROVIDERS.join(', '), found: flag });
    return { provider: flag as ProviderName, why: '--provider' };
  }
  if (ws.config.llm.provider) return { provider: ws.config.llm.provider, why: `llm.provider in ${ws.paths.config}` };
  if (hasAwsCredentials(env)) return { provider: 'bedrock', why: 'AWS credentials found' };
  return { provider: 'offline', why: 'no AWS credentials configured, so using the offline inducer' };
}

/** A candidate as every provider reports it: where it was written and its evidence on the test window. */
export interface CandidateReport {
  id: string;
  file: string;
  condition: string;
  title: string;
  test: Evidence;
  /** `--refine`: the rounds this candidate went through (also in its provenance). */
  refine?: RefineRound[];
}

/** An offline candidate: also what the inducer measured on the train window. */
export interface ProposedCandidate extends CandidateReport {
  train: InducedRule['train'];
  /** What each condition adds on the validation slice, in words (the inducer's term notes). */
  terms?: string[];
}

export interface ProposeResult {
  provider: 'offline';
  method: string;
  candidates: ProposedCandidate[];
  searched: number;
  sampleRows: number;
  seconds: number;
  dryRun: boolean;
  /** Why fewer candidates than asked for, duplicates skipped, features left out: one sentence each (offline). */
  notes?: string[];
  /** Rules not proposed because their hits repeat an existing rule's (offline). */
  skipped?: { condition: string; duplicate_of: string; jaccard: number }[];
  /** Features the inducer left out, and why (sensitive, label leak). */
  excluded?: { feature: string; reason: string }[];
  /** Said once when the test window has too few labelled humans for any rule to pass the gate. */
  power?: string;
  /** The labels' noise floor as the search saw it (offline); when `binding`, the notes say it once. */
  noise_floor?: NoiseFloor;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export async function proposeOffline(
  ws: Workspace,
  store: Store,
  opts: {
    count: number;
    dryRun?: boolean;
    ranking?: Ranking;
    refine?: number;
    onStep?: (m: string) => void;
    onProgress?: OnProgress;
    /** `--engine kernel|sql`: how the inducer confirms and the candidates are backtested. */
    evaluator?: Evaluator;
  },
): Promise<ProposeResult> {
  const t0 = performance.now();
  opts.onStep?.('ranking features on the train window');
  const ranking = opts.ranking ?? (await rankCached(store, ws.config, ws.catalog));
  const existing = workspaceRules(ws, { statuses: ['candidate', 'approved', 'rejected', 'deprecated'] });
  const exclude = new Set(existing.targets.map((t) => t.condition));
  const induced = await induce(store, ws.config, ws.catalog, ranking, {
    count: opts.count,
    exclude,
    onStep: opts.onStep,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.evaluator ? { evaluator: opts.evaluator } : {}),
  });
  const method = 'covering';
  const notes = [...induced.notes];
  // the inducer's notes already name the rules skipped as repeats of existing ones (induced.skipped)
  const power = await testWindowPower(store, ws);
  if (power && induced.rules.length === 0) notes.unshift(`found nothing that can pass the gate: ${power}`);
  const targets: Target[] = induced.rules.map((r) => conditionTarget(randomUUID(), titleFor(r.ast, ws.catalog), 'candidate', r.condition, r.ast));
  const candidates: ProposedCandidate[] = [];
  const docs: (OfflineDoc & { doc: CandidateDocument })[] = [];
  const taken = new Set<string>();
  if (targets.length) {
    opts.onStep?.(`backtesting ${targets.length} candidates on the test window`);
    const run = await backtestTargets(store, ws.config, ws.catalog, targets, {
      window: 'test',
      variations: true,
      ...(opts.evaluator ? { evaluator: opts.evaluator } : {}),
    });
    const input = sha256(JSON.stringify(ranking.features.map((f) => ({ ...f }))));
    targets.forEach((t, i) => {
      const r = induced.rules[i]!;
      const test = run.rules[i]!;
      const evidence = evidenceBlock(run, test);
      const doc = candidateDocument({
        id: t.id,
        title: t.title,
        action: 'challenge',
        level: (test.precision ?? 0) >= 0.99 ? 'high' : 'medium',
        condition: r.condition,
        description: descriptionFor(r.ast, ws.catalog, r.train, test),
        rationale: rationaleFor(r.ast, ws.catalog, ranking, r.term_notes),
        falsepositives: falsePositivesFor(r.ast, ws.catalog, test),
        tags: ['offline', `terms-${r.terms}`],
        provenance: {
          generator: `offline:${method}`,
          input: `sha256:${input}`,
          usage: { input_tokens: 0, output_tokens: 0, cost_usd: 0 },
          created: new Date().toISOString(),
        },
        backtest: evidence,
      });
      docs.push({ doc, ast: r.ast, result: test });
      candidates.push({ id: t.id, file: candidateFile(ws, t.id), condition: r.condition, title: t.title, train: r.train, test: evidence, terms: r.term_notes });
    });
    if (opts.refine) {
      for (const c of exclude) taken.add(c);
      for (const c of candidates) taken.add(c.condition);
      for (let i = 0; i < docs.length; i++) {
        const rounds = await refineOffline(ws, store, docs[i]!, opts.refine, taken, opts.onStep);
        if (rounds)
          candidates[i] = {
            ...candidates[i]!,
            condition: String(docs[i]!.doc['condition']),
            title: String(docs[i]!.doc['title']),
            test: docs[i]!.doc.backtest!,
            refine: rounds,
          };
      }
    }
    if (!opts.dryRun)
      for (const d of docs)
        writeCandidate(candidateFile(ws, d.doc.id), d.doc, "Proposed by rulegen's offline inducer; review with `rulegen review`, then approve or reject.");
  }
  return {
    provider: 'offline',
    method,
    candidates,
    searched: induced.searched,
    sampleRows: induced.sampleRows,
    seconds: (performance.now() - t0) / 1000,
    dryRun: Boolean(opts.dryRun),
    notes,
    skipped: induced.skipped,
    excluded: induced.excluded,
    ...(power ? { power } : {}),
    ...(induced.floor ? { noise_floor: induced.floor } : {}),
  };
}

/** The power sentence when the test window cannot judge the gate (too few labelled humans), else null. */
export async function testWindowPower(store: Store, ws: Workspace): Promise<string | null> {
  const w = await resolveWindow(store, ws.config, 'test');
  const r = await store.one<{ n: number }>(
    `SELECT count(*) AS n FROM ${quoteIdent(ws.config.data.table)} WHERE ${w.where} AND ${quoteIdent(ws.config.data.label)} = 0`,
    w.parameters,
  );
  const p = gatePower(Number(r?.n ?? 0), ws.config.gate.max_fpr);
  if (p.reachable) return null;
  return `${powerMessage(p, ws.config.gate.max_fpr)}${p.humans === 0 ? `; ${NO_HUMANS_HINT}` : ''}`;
}

interface OfflineDoc {
  doc: Record<string, unknown>;
  ast: Expr;
  result: RuleResult;
}

/**
 * `propose --refine N` with the offline provider: while the candidate fails the gate on the
 * test window, at most `rounds` times, take the best measured modification of `rulegen fp` on
 * the train window (src/fp/refine.ts) that no rule already has, backtest it on the test window
 * and make it the candidate; each round goes into `provenance.refine` with the evidence that
 * triggered it. Returns the rounds, or undefined when the candidate passed or nothing was found.
 */
export async function refineOffline(
  ws: Workspace,
  store: Store,
  d: OfflineDoc,
  rounds: number,
  taken: Set<string>,
  onStep?: (m: string) => void,
): Promise<RefineRound[] | undefined> {
  const done: RefineRound[] = [];
  const notes: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const verdict = applyGate(d.result, ws.config.gate);
    if (verdict.pass) break;
    onStep?.(`refine round ${round}: measuring the false positives of ${String(d.doc['condition'])}`);
    const { report, refinements } = await refineAnalysis(store, ws.config, ws.catalog, d.ast);
    const next = refinements.find((x) => !taken.has(x.condition));
    if (!next) {
      notes.push(
        `round ${round}: no measured modification keeps 95% of the true ` +
          `positives${report.fp === 0 ? ' (no false positives on the train window)' : ''}; refining stopped`,
      );
      break;
    }
    taken.add(next.condition);
    const run = await backtestTargets(
      store,
      ws.config,
      ws.catalog,
      [conditionTarget(String(d.doc['id']), String(d.doc['title']), 'candidate', next.condition, next.ast)],
      { window: 'test', variations: true },
    );
    const result = run.rules[0]!;
    const from = String(d.doc['condition']);
    done.push({
      round,
      generator: 'offline:fp-refine',
      from,
      to: next.condition,
      change: next.change,
      evidence: refineEvidence(d.result, verdict.reasons, report.scenarios),
      result: refineResult(result, applyGate(result, ws.config.gate)),
    });
    d.ast = next.ast;
    d.result = result;
    d.doc['condition'] = next.condition;
    d.doc['title'] = titleFor(next.ast, ws.catalog);
    d.doc['description'] =
      `${descriptionForTest(next.ast, ws.catalog, result)} Refined from \`${from}\` (${next.change}), which ` +
      `removed ${pctOf(next.window.fp_cut)} of its false positives on the train window and kept ${pctOf(next.window.tp_kept)} of its true ` +
      `positives.`;
    d.doc['falsepositives'] = falsePositivesFor(next.ast, ws.catalog, result);
    d.doc['backtest'] = evidenceBlock(run, result);
  }
  if (!done.length && !notes.length) return undefined;
  const prov = d.doc['provenance'] as Record<string, unknown>;
  prov['refine'] = [...((prov['refine'] as RefineRound[] | undefined) ?? []), ...done];
  if (notes.length) prov['refine_notes'] = notes;
  const tags = d.doc['tags'] as string[];
  if (done.length && !tags.includes('refined')) tags.push('refined');
  return done;
}

const pctOf = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

function descriptionForTest(ast: Expr, catalog: Workspace['catalog'], test: RuleResult): string {
  return (
    `Flags sessions with ${english(ast, catalog)}. On the test window: recall ${pctOf(test.recall)}, precision ${pctOf(test.precision)}, ` +
    `false-positive rate ${pctOf(test.fpr)} (at most ${pctOf(test.fpr_upper95)} with 95% confidence).`
  );
}
