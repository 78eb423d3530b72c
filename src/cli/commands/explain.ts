/** `rulegen explain RULE|ID|EXPR --session ID... | --sample tp|fp|fn [N]`: why a rule fired, or did not. */
import { InputError, formatProblem } from '../../errors.js';
import { explainSessions } from '../../explain/explain.js';
import { formatExplain } from '../../explain/format.js';
import { WINDOWS, type WindowName } from '../../db/window.js';
import { resolveRuleArg } from '../../rules/resolve.js';
import { openWorkspace } from '../../workspace.js';
import { withWorkspaceStore } from './with-store.js';
import { Option } from 'commander';
import type { Register } from './index.js';

const KINDS = ['tp', 'fp', 'fn'] as const;
type Kind = (typeof KINDS)[number];

/** `--sample fp` or `--sample fp 20` (commander gives the optional count as the next words). */
export function parseSample(words: readonly string[] | undefined): { kind: Kind; n: number } | undefined {
  if (!words || words.length === 0) return undefined;
  const [kind, count, ...rest] = words;
  if (!KINDS.includes(kind as Kind) || rest.length)
    throw InputError.single({
      message: 'invalid --sample',
      where: { field: '--sample' },
      expected: 'tp, fp or fn, optionally followed by a count (e.g. --sample fp 10)',
      found: words.join(' '),
    });
  const n = count === undefined ? 5 : Number(count);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw InputError.single({
      message: 'invalid --sample count',
      where: { field: '--sample' },
      expected: 'a whole number from 1 to 1000',
      found: String(count),
    });
  return { kind: kind as Kind, n };
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('explain')
    .description('why a rule fired for a session (or did not): each term with the value, threshold and margin')
    .argument('<rule>', 'a rule file, a rule id or a condition expression')
    .option('--session <ids...>', 'session ids to explain')
    .option('--sample <kind...>', 'a deterministic sample instead: tp, fp or fn, then optionally how many (default 5)')
    .addOption(new Option('--window <w>', 'window of --sample: train | test | all').choices(WINDOWS).default('test'))
    .option('--show-sensitive', 'show the values of features the catalog marks sensitive', false)
    .action(async (arg: string, opts: { session?: string[]; sample?: string[]; window: WindowName; showSensitive: boolean }) => {
      const g = globals();
      const sample = parseSample(opts.sample);
      if (sample && opts.session?.length)
        throw InputError.single({ message: '--session and --sample exclude each other', where: { field: '--sample' }, expected: 'one of them', found: 'both' });
      if (!sample && !opts.session?.length)
        throw InputError.single({
          message: 'which sessions?',
          where: { field: '--session' },
          expected: '--session ID... or --sample tp|fp|fn [N]',
          found: 'neither',
        });
      const ws = openWorkspace(g.workspace);
      const r = resolveRuleArg(arg, ws, io.cwd);
      if (r.kind === 'error') throw new InputError('cannot explain: the rule does not resolve', r.problems);
      if (!g.quiet) for (const p of r.warnings) io.stderr(formatProblem(p) + '\n');
      const ast = r.kind === 'rule' ? r.rule.ast : r.ast;
      await withWorkspaceStore(
        io,
        g,
        async (_ws, store) => {
          const result = await explainSessions(store, ws.config, ws.catalog, ast, {
            ...(sample ? { sample: { ...sample, window: opts.window } } : { sessions: opts.session }),
            showSensitive: opts.showSensitive,
          });
          if (r.kind === 'rule') result.rule = { id: r.rule.id, title: r.rule.title };
          io.stdout(g.json ? JSON.stringify(result, null, 2) + '\n' : formatExplain(result, ws.catalog));
        },
        { ws },
      );
    });
};
