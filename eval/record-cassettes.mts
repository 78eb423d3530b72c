/**
 * Writes the default suite's replay cassettes: for every case, the exact requests
 * `rulegen eval eval/suites/default.yaml --provider replay` sends, each answered by a SCRIPTED
 * model (the demo's hand-written rules, fixtures/llm/demo-cassette.mts) in the Converse wire
 * shape. They are not recorded from a live call: they pin the replay path (request building,
 * validation, backtest, metrics) byte for byte in CI. Token counts are estimates (about 3.9
 * characters a token), the latency a fixed 15 s. With AWS credentials,
 * `rulegen eval eval/suites/default.yaml --provider bedrock --record` writes real recordings to
 * the same folder instead. Re-run after changing a prompt template, the context or a case:
 *
 *   npx tsx eval/record-cassettes.mts [SUITE.yaml]
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_RULES } from '../fixtures/llm/demo-cassette.mjs';
import { RecordingProvider } from '../src/llm/replay.js';
import type { ConverseOutcome, ConverseRequest, LlmProvider } from '../src/llm/types.js';
import { loadSuite } from '../src/eval/suite.js';
import { runSuite } from '../src/eval/run.js';

/** Answers every request with the first `count` demo rules (count read from the request text). */
class ScriptedProvider implements LlmProvider {
  readonly name = 'replay' as const;
  async converse(request: ConverseRequest): Promise<ConverseOutcome> {
    const user = request.messages.map((m) => m.content.map((b) => ('text' in b ? b.text : '')).join('')).join('\n');
    const asked = Number(/Propose (\d+) new/.exec(user)?.[1] ?? DEMO_RULES.length);
    const input = { rules: DEMO_RULES.slice(0, Math.max(1, Math.min(asked, DEMO_RULES.length))) };
    const outputTokens = Math.ceil(JSON.stringify(input).length / 3.6);
    const cacheWrite = Math.ceil(JSON.stringify({ system: request.system, toolConfig: request.toolConfig }).length / 3.9);
    const inputTokens = Math.ceil(JSON.stringify(request.messages).length / 3.9);
    return {
      response: {
        output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_eval_scripted', name: 'submit_rules', input } }] } },
        stopReason: 'tool_use',
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens + cacheWrite, cacheReadInputTokens: 0, cacheWriteInputTokens: cacheWrite },
        metrics: { latencyMs: 15000 },
      },
      generator: 'scripted:demo-rules',
      latencyMs: 15000,
      attempts: 1,
    };
  }
}

const suite = loadSuite(process.argv[2] ?? join(import.meta.dirname, 'suites', 'default.yaml'));
for (const f of readdirSync(suite.cassetteDir)) if (/^[0-9a-f]{64}\.json$/.test(f)) rmSync(join(suite.cassetteDir, f));
const recorders: RecordingProvider[] = [];
const r = await runSuite(suite, {
  providers: ['replay'],
  llm: () => {
    const p = new RecordingProvider(new ScriptedProvider(), suite.cassetteDir);
    recorders.push(p);
    return p;
  },
  onStep: (m) => console.error(m),
});
for (const row of r.rows) if (row.error) console.error(`${row.case} ${row.model}: ${row.error}`);
for (const f of r.failed) console.error(`${f.case}: ${f.message}`);
console.log(`${recorders.reduce((s, p) => s + p.written.length, 0)} cassette(s) written to ${suite.cassetteDir}`);
