import { DEFAULT_CONFIG } from './schema.js';

/** The protected population of the demo data: people on screen readers or keyboard only (synth's assistive_tech). */
export const KEYBOARD_ONLY = { name: 'keyboard_only', where: 'pointer_events = 0 and keyboard_nav_ratio > 0.5' } as const;

/**
 * The `segments:` section: commented out as init writes it, active in the demo's workspace
 * (whose synthetic data has the population).
 */
export function segmentsBlock(active: boolean): string {
  const c = active ? '' : '# ';
  return `# Segments and populations whose false-positive rate is judged on its own. data.segments above
# lists plain columns; here a column or a population (a condition in the rule language) can be
# marked protected: a rule that harms it fails the gate.
${c}segments:
${c}  - column: country
${c}  - name: ${KEYBOARD_ONLY.name}            # screen-reader and keyboard-only users: no pointer, keys to move
${c}    where: "${KEYBOARD_ONLY.where}"
${c}    protected: true
`;
}

/** rulegen.yaml as written by init: every field with its default and a comment saying why. */
export function configTemplate(): string {
  const c = DEFAULT_CONFIG;
  return `# rulegen workspace configuration. Every field has a default; this file spells them out.
# Reference: README.md, "Configuration".

data:
  table: ${c.data.table}            # DuckDB table that holds one row per session
  id: ${c.data.id}         # unique per row
  time: ${c.data.time}                 # session start (TIMESTAMP); used for the train/test split and per-day FPR
  label: ${c.data.label}            # 1 = bot, 0 = human, empty = unknown
  segments: [${c.data.segments.join(', ')}]   # FPR is also reported per value of each of these columns

split:
  # Rules are proposed from the earlier (train) part of the data and judged on the later (test)
  # part, so a rule is always measured on traffic it has not seen.
  test_fraction: ${c.split.test_fraction}       # the last 30% of the time span is the test window
  # test_from: 2026-01-10  # or: the test window starts at this date (overrides test_fraction)

gate:
  # What approve and check require of each rule, on the test window.
  max_fpr: ${c.gate.max_fpr}          # judged on the upper 95% Wilson bound of the false-positive rate
  min_precision: ${c.gate.min_precision}     # share of labelled hits that are bots
  min_support: ${c.gate.min_support}        # at least this many bots caught
  # set_max_fpr: ${c.gate.max_fpr}    # the deployed set (every approved block/challenge rule, plus the
  #                        # candidate being approved) on the upper 95% bound; default: max_fpr
  # segment_max_fpr: ${Math.min(1, 3 * c.gate.max_fpr)} # a rule fails on a protected segment value or population when the
  #                        # LOWER 95% bound of its FPR there exceeds this; default: 3 x max_fpr
  min_recall_ratio: ${c.gate.min_recall_ratio}    # test recall (overall and every test week) must be at least this share of train recall
  max_jaccard: ${c.gate.max_jaccard}         # a candidate whose hits overlap another rule's this much is a duplicate

${segmentsBlock(false)}
paths:
  # Where rule files and generated docs live, relative to this file.
  rules: ${c.paths.rules}
  candidates: ${c.paths.candidates}
  docs: ${c.paths.docs}

rank:
  top: ${c.rank.top}                # features shown by rank and sent to propose

llm:
  # provider: offline     # offline | bedrock | replay; default: bedrock when AWS credentials
  #                       # are configured, otherwise the offline inducer
  models: [${c.llm.models.join(', ')}]
  fallback: [${c.llm.fallback.join(', ')}]
  region: ${c.llm.region}
  # endpoint: https://vpce-...bedrock-runtime.us-east-1.vpce.amazonaws.com   # VPC interface endpoint
  max_concurrency: ${c.llm.max_concurrency}
  temperature: ${c.llm.temperature}
  max_tokens: ${c.llm.max_tokens}
  timeout_ms: ${c.llm.timeout_ms}          # bound on one whole call, connection to last byte
  run_timeout_ms: ${c.llm.run_timeout_ms}      # bound on the whole propose run's model calls
  retry: { mode: ${c.llm.retry.mode}, max_attempts: ${c.llm.retry.max_attempts} }
  repair_rounds: ${c.llm.repair_rounds}        # times invalid model output is sent back with its errors
  rules_per_call: ${c.llm.rules_per_call}       # rules asked for per model call
  # max_cost_usd: 2.00    # stop further calls once a run has cost this much
  # cassettes: fixtures/llm   # where replay looks for recorded responses (default: the shipped ones)
  # guardrail: { id: abc123, version: "1" }

logs:
  # How \`rulegen ingest-logs\` reads access logs and builds sessions.
  gap: ${c.logs.gap}                 # inactivity that ends a session
  key: ${c.logs.key}               # visitor key: ip+ua, ip, or (JSON lines) a field name
  tz: ${c.logs.tz}                  # time zone for the night-time share
  unlabelled: ${c.logs.unlabelled}        # sessions whose user agent declares no bot: unknown, or human (a weak label)
  max_bad_share: ${c.logs.max_bad_share}      # fail (store unchanged) past this share of malformed lines
  # hosts: [example.org]    # the site's own hosts (in-site referrers); default: inferred from the log
  # fields: { ip: remote_addr, ts: time, method: request.method, path: request.uri, status: status, bytes: size, referrer: referer, ua: agent }
  #                         # JSON lines: where each field lives (dotted paths for nesting)
`;
}
