import { resolve } from 'node:path';
import type { Register } from './index.js';
import { checkText, failedCheck, junitXml, runCheck, summaryMarkdown, type CheckResult } from '../../check/check.js';
import type { Config } from '../../config/schema.js';
import { ReportedFailure, RulegenError, formatProblem, type Problem } from '../../errors.js';
import { writeFileAtomic } from '../../fsutil.js';
import { withWorkspaceStore } from './with-store.js';
import { ENGINE_OPTION, MAX_SCAN_OPTION, withEngine, type EngineFlags } from '../engine-option.js';

/** What an error that stopped the check says, as problems for the reports. */
function errorProblems(e: unknown): Problem[] {
  if (e instanceof RulegenError) return e.problems.length ? [...e.problems] : [{ severity: 'error', message: e.headline || e.message }];
  return [{ severity: 'error', message: `internal error: ${e instanceof Error ? e.message : String(e)}` }];
}

export const register: Register = (program, { io, globals }) => {
  program
    .command('check')
    .description(
      'CI gate: lint rule files, backtest approved rules on the test window, apply the gate to each rule and to the deployed set (exit 1 on failure)',
    )
    .option('--junit <file>', 'write JUnit XML (a testcase per rule)')
    .option('--summary <file>', 'write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--candidates', 'also gate candidate rules', false)
    .option(...ENGINE_OPTION)
    .option(...MAX_SCAN_OPTION)
    .action(async (opts: { junit?: string; summary?: string; candidates: boolean } & EngineFlags) => {
      const g = globals();
      const t0 = performance.now();
      let gate: Config['gate'] | undefined;
      let written = false;
      // CI reads these files whatever the exit code: they are written on every path out.
      const report = (c: CheckResult) => {
        written = true;
        if (opts.junit) writeFileAtomic(resolve(io.cwd, opts.junit), junitXml(c));
        if (opts.summary) writeFileAtomic(resolve(io.cwd, opts.summary), summaryMarkdown(c, gate));
      };
      try {
        await withWorkspaceStore(io, g, async (ws, store, bar) => {
          gate = ws.config.gate;
          const c = await withEngine(io, g.quiet, ws.config, store, opts, (engine, evaluator) =>
            runCheck(ws, store, { candidates: opts.candidates, onStep: bar.step, onProgress: bar.tick, evaluator, ...(engine ? { engine } : {}) }),
          );
          bar.done();
          report(c);
          if (!g.quiet) for (const w of c.warnings) io.stderr(formatProblem(w) + '\n');
          const invalid = c.invalid.map((f) => ({ file: f.file, id: f.id ?? null, problems: f.problems }));
          const set = c.set && c.run?.set ? { pass: c.set.pass, reasons: c.set.reasons, deployed: c.run.set.deployed, top: c.run.set_gate?.top ?? [] } : null;
          const rules = c.rules.map((r) => ({
            ...r.result,
            id: r.target.id,
            title: r.target.title,
            status: r.target.status,
            file: r.target.file,
            pass: r.verdict.pass,
            reasons: r.verdict.reasons,
            findings: r.verdict.findings,
            notes: r.verdict.notes,
          }));
          // which evaluator made the figures (null when nothing was backtested)
          const engine = {
            engine: c.run?.engine ?? null,
            ...(c.run?.kernel ? { kernel: c.run.kernel } : {}),
            ...(c.run?.kernel_fallback ? { kernel_fallback: c.run.kernel_fallback } : {}),
          };
          io.stdout(g.json ? JSON.stringify({ passed: c.passed, power: c.power, set, rules, invalid, ...engine }, null, 2) + '\n' : checkText(c));
          if (c.invalid.length) {
            const n = c.invalid.length;
            // the reason on stderr as any input error, but no JSON error object after the report
            throw new ReportedFailure(
              2,
              `${n} invalid rule file${n > 1 ? 's' : ''}`,
              c.invalid.flatMap((f) => f.problems),
            );
          }
          if (!c.passed) throw new ReportedFailure(1);
        });
      } catch (e) {
        if (!written) report(failedCheck(errorProblems(e), (performance.now() - t0) / 1000));
        throw e;
      }
    });
};
