import { resolve } from 'node:path';
import type { Register } from './index.js';
import { checkText, junitXml, runCheck, summaryMarkdown } from '../../check/check.js';
import { formatProblem } from '../../errors.js';
import { writeFileAtomic } from '../../fsutil.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals, setExit }) => {
  program
    .command('check')
    .description('CI gate: lint rule files, backtest approved rules on the test window, apply the gate (exit 1 on failure)')
    .option('--junit <file>', 'write JUnit XML (a testcase per rule)')
    .option('--summary <file>', 'write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--candidates', 'also gate candidate rules', false)
    .action(async (opts: { junit?: string; summary?: string; candidates: boolean }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const c = await runCheck(ws, store, { candidates: opts.candidates, onStep: bar.step });
        bar.done();
        if (!g.quiet) for (const w of c.warnings) io.stderr(formatProblem(w) + '\n');
        if (opts.junit) writeFileAtomic(resolve(io.cwd, opts.junit), junitXml(c));
        if (opts.summary) writeFileAtomic(resolve(io.cwd, opts.summary), summaryMarkdown(c, ws.config.gate));
        io.stdout(g.json ? JSON.stringify({ passed: c.passed, rules: c.rules.map((r) => ({ ...r.result, id: r.target.id, title: r.target.title, status: r.target.status, file: r.target.file, pass: r.verdict.pass, reasons: r.verdict.reasons })) }, null, 2) + '\n' : checkText(c));
        if (!c.passed) setExit(1);
      });
    });
};
