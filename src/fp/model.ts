/**
 * `rulegen fp --provider bedrock|replay` (issue 16, item 4): the measured FP analysis goes to a
 * model as aggregates only (outgoing.ts, the same privacy rules as propose); the model names the
 * human populations in plain English and proposes modified rules. Each modification is
 * untrusted input: zod-validated, its condition parsed and checked against the catalog the model
 * was shown, refused when it equals the rule or an existing rule, then backtested on the
 * analysis window and the test window like the offline modifications. Invalid ones go back in a
 * bounded repair turn; what stays invalid is reported.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Store } from '../db/store.js';
import { InputError, type Problem } from '../errors.js';
import { loadPrompt, sha256 } from '../llm/prompts.js';
import { canonicalJson } from '../llm/replay.js';
import type { ConverseRequest, LlmProvider } from '../llm/types.js';
import { workspaceRules } from '../rules/targets.js';
import type { Expr } from '../rule/ast.js';
import { checkCondition } from '../rule/checks.js';
import { parseCondition } from '../rule/parser.js';
import { print } from '../rule/printer.js';
import { modelCatalog, excerpt } from '../propose/outgoing.js';
import { buildRequest, converseTool, makeProvider, type ModelProviderName, type ToolCallReport } from '../propose/model.js';
import type { Workspace } from '../workspace.js';
import { measureModifications, type Effect, type FpReport } from './fp.js';
import { fpForModel, ruleSendable, type FpContext } from './outgoing.js';
import { FP_TOOL, fpAnalysisTool, FpModificationSchema, MAX_FP_MODIFICATIONS, MAX_POPULATIONS, PopulationSchema, type FpModificationAnswer } from './schema.js';

export const FP_PROMPT = 'fp-analysis';
/** The user turn: the whole context is in the system prompt (cached). */
export const FP_USER =
  'Analyse the false positives of the rule above: name the human populations, then propose modified rules that exclude them. Call submit_fp_analysis once.';

export interface Population {
  name: string;
  description: string;
  scenarios: number[];
  automation: boolean;
}

/** A model's modification, validated and measured. */
export interface ModelModification {
  title: string;
  condition: string;
  ast: Expr;
  change: string;
  reasoning: string;
  populations: string[];
  window: Effect;
  test: Effect;
  keeps_tp: boolean;
}

export interface InvalidModification {
  index: number;
  condition: string | null;
  problems: string[];
}

export interface FpModelResult {
  provider: ModelProviderName;
  model: string;
  generator: string | null;
  /** `fp-analysis@<version> sha256:<hash of the rendered prompt>`. */
  prompt: string;
  /** sha256 of the canonical JSON of the context sent. */
  input: string;
  populations: Population[];
  modifications: ModelModification[];
  invalid: InvalidModification[];
  call: ToolCallReport | null;
  /** Dry run: the request exactly as it would be sent. */
  request?: ConverseRequest;
}

export interface FpModelOptions {
  provider: ModelProviderName;
  model?: string;
  dryRun?: boolean;
  record?: boolean;
  llm?: LlmProvider;
  onNote?: (m: string) => void;
}

const problemText = (p: Problem): string =>
  `${p.where?.field ? `${p.where.field}: ` : ''}${p.message}${p.expected ? ` (expected ${p.expected}${p.found ? `, found ${p.found}` : ''})` : ''}`;

/** Validate one modification against the catalog the model was shown; a problem list or the parsed AST. */
export function validateModification(
  raw: unknown,
  i: number,
  shown: Catalog,
  taken: ReadonlyMap<string, string>,
): { ok: true; m: FpModificationAnswer; ast: Expr; condition: string } | { ok: false; invalid: InvalidModification } {
  const cond = typeof (raw as { condition?: unknown } | null)?.condition === 'string' ? excerpt((raw as { condition: string }).condition, 600) : null;
  const bad = (problems: string[]) => ({ ok: false as const, invalid: { index: i + 1, condition: cond, problems } });
  const parsed = FpModificationSchema.safeParse(raw);
  if (!parsed.success) return bad(parsed.error.issues.slice(0, 10).map((x) => `modifications.${i}.${x.path.map(String).join('.')}: ${x.message}`));
  const p = parseCondition(parsed.data.condition);
  if (!p.ok) return bad([`modifications.${i}.condition: invalid condition: ${p.problem.message}`]);
  const findings = checkCondition(p.ast, shown);
  if (findings.length) return bad(findings.map(({ node: _n, ...f }) => `modifications.${i}.condition: ${problemText(f as Problem)}`));
  const condition = print(p.ast);
  const holder = taken.get(condition);
  if (holder !== undefined) return bad([`modifications.${i}.condition: the same condition as ${holder}; propose a different modification`]);
  return { ok: true, m: parsed.data, ast: p.ast, condition };
}

/**
 * Ask a model about `report` (the offline analysis of `ast`, already run), validate and measure
 * its modifications. The rule must be one a model may see (no sensitive feature).
 */
export async function analyseWithModel(
  ws: Workspace,
  store: Store,
  report: FpReport,
  rule: { title: string; ast: Expr },
  opts: FpModelOptions,
): Promise<FpModelResult> {
  if (!ruleSendable(rule.ast, ws.catalog))
    throw InputError.single({
      message: 'the rule uses a sensitive feature or a category value not on the catalog list; it is not sent to a model',
      where: { field: '--provider' },
      expected: 'a rule over features a model may see, or --provider offline',
      found: print(rule.ast),
    });
  const model = opts.model ?? ws.config.llm.models[0];
  if (!model)
    throw InputError.single({
      message: 'no model configured',
      where: { field: 'llm.models' },
      expected: 'a Bedrock model or inference-profile id',
      found: 'none',
    });
  const context: FpContext = fpForModel(report, ws.catalog, ws.config, rule);
  const template = loadPrompt(FP_PROMPT, ws.paths.prompts);
  const system = template.render(context as unknown as Record<string, unknown>);
  const input = sha256(canonicalJson(context));
  const prompt = `${template.ref} sha256:${sha256(`${system}\n\n${FP_USER}`)}`;
  const base: FpModelResult = { provider: opts.provider, model, generator: null, prompt, input, populations: [], modifications: [], invalid: [], call: null };
  if (opts.dryRun) return { ...base, request: buildRequest(ws, model, system, [{ role: 'user', content: [{ text: FP_USER }] }], fpAnalysisTool()) };

  const shown = modelCatalog(ws.catalog);
  const taken = new Map<string, string>([[report.condition, 'the rule itself']]);
  for (const m of report.modifications) taken.set(m.condition, `an offline modification (${m.change})`);
  for (const t of workspaceRules(ws, { statuses: ['candidate', 'approved', 'rejected', 'deprecated'] }).targets)
    if (!taken.has(t.condition)) taken.set(t.condition, `${t.status} rule ${t.id}`);
  const populations: Population[] = [];
  const accepted: { m: FpModificationAnswer; ast: Expr; condition: string }[] = [];
  let invalid: InvalidModification[] = [];
  const provider = opts.llm ?? (await makeProvider(ws, opts.provider, { record: opts.record }));
  const call = await converseTool({
    ws,
    provider,
    model,
    system,
    user: FP_USER,
    tool: fpAnalysisTool(),
    note: opts.onNote,
    accept: (raw) => {
      const obj = raw as { populations?: unknown; modifications?: unknown } | null;
      if (!obj || typeof obj !== 'object' || Array.isArray(obj))
        return { problems: ['the input must be an object {"populations": [...], "modifications": [...]}'] };
      const problems: string[] = [];
      const extra = Object.keys(obj).filter((k) => k !== 'populations' && k !== 'modifications');
      if (extra.length) problems.push(`unknown field(s) ${excerpt(extra.slice(0, 5).join(', '), 120)}: only populations and modifications`);
      // populations: kept from the first answer that has valid ones (a repair may resend them)
      if (Array.isArray(obj.populations) && populations.length === 0) {
        obj.populations.slice(0, MAX_POPULATIONS).forEach((p, i) => {
          const v = PopulationSchema.safeParse(p);
          if (v.success) populations.push({ ...v.data, scenarios: v.data.scenarios.filter((n) => n <= report.scenarios.length) });
          else problems.push(...v.error.issues.slice(0, 5).map((x) => `populations.${i}.${x.path.map(String).join('.')}: ${x.message}`));
        });
      } else if (obj.populations !== undefined && !Array.isArray(obj.populations)) problems.push('populations must be an array');
      if (populations.length === 0 && !problems.length) problems.push('populations: name at least one human population');
      const mods = obj.modifications === undefined ? [] : obj.modifications;
      if (!Array.isArray(mods)) return { problems: [...problems, 'modifications must be an array'] };
      invalid = [];
      mods.slice(0, Math.max(0, MAX_FP_MODIFICATIONS - accepted.length)).forEach((raw, i) => {
        const v = validateModification(raw, i, shown, taken);
        if (!v.ok) {
          invalid.push(v.invalid);
          return;
        }
        taken.set(v.condition, `modification ${i + 1} of your answer`);
        accepted.push(v);
      });
      return { problems: [...problems, ...invalid.flatMap((x) => x.problems)] };
    },
  });
  const measured = await measureModifications(
    store,
    ws.config,
    ws.catalog,
    rule.ast,
    accepted.map((a) => a.ast),
    report.window.name as 'train' | 'test' | 'all',
  );
  const modifications: ModelModification[] = accepted.map((a, i) => ({
    title: a.m.title,
    condition: a.condition,
    ast: a.ast,
    change: a.m.change,
    reasoning: a.m.reasoning,
    populations: a.m.populations,
    ...measured[i]!,
  }));
  return { ...base, generator: call.generator, populations, modifications, invalid, call };
}
