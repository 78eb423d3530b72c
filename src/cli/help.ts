/**
 * `--help` for every command: a few real examples, and the global options (commander lists
 * only a command's own options otherwise). Kept in one table so a new command is added in one
 * place and every command's help reads the same way.
 */
import type { Command, Option } from 'commander';

/**
 * An option's description with its default said once: commander appends "(default: …)" even
 * when the text already names the default (and "(default: false)" to every flag).
 */
export function optionDescription(option: Option): string {
  const parts = [option.description];
  if (option.argChoices && !/\bchoices\b|\|/.test(option.description)) parts.push(`(choices: ${option.argChoices.join(', ')})`);
  const def = option.defaultValue as unknown;
  const trivial = def === undefined || def === false || (Array.isArray(def) && def.length === 0);
  if (!trivial && !/\bdefault\b/i.test(option.description))
    parts.push(`(default: ${option.defaultValueDescription ?? (typeof def === 'string' ? def : JSON.stringify(def))})`);
  return parts.join(' ');
}

/** Examples per command, shown after its options. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  init: ['rulegen init my-rules', 'rulegen init .            # in the current folder'],
  synth: ['rulegen synth --sessions 200000 --days 28 --seed 7 --out data/s.parquet --catalog features.yaml'],
  ingest: [
    'rulegen ingest data/sessions-2026-01.parquet',
    'rulegen ingest --replace exports/day-*.csv   # a glob when no such file exists',
    "rulegen ingest --glob 'data/s[12].csv'       # force globbing",
  ],
  'ingest-logs': [
    'rulegen ingest-logs access.log.gz',
    'rulegen ingest-logs --replace --gap 15m --tz Europe/Paris "logs/access-*.log"',
    'rulegen ingest-logs --format jsonl --key session events.jsonl',
  ],
  rank: ['rulegen rank', 'rulegen rank --top 30 --json > ranking.json', 'rulegen rank --import shap.csv     # an importance computed elsewhere, side by side'],
  propose: [
    'rulegen propose --count 5',
    'rulegen propose --provider bedrock --model us.anthropic.claude-sonnet-4-5-20250929-v1:0 --dry-run',
    'rulegen propose --provider replay   # recorded answers, no credentials',
  ],
  lint: ['rulegen lint', 'rulegen lint candidates/7f9c2b1e.yaml'],
  sql: [
    'rulegen sql 7f9c2b1e --dialect trino',
    'rulegen sql rules/*.yaml --dialect postgres',
    'rulegen sql "requests_per_minute > 120 and static_asset_ratio < 0.05"',
  ],
  backtest: ['rulegen backtest', 'rulegen backtest 7f9c2b1e --variations', 'rulegen backtest "requests_per_minute > 120" --window all --by country'],
  impact: ['rulegen impact 7f9c2b1e', 'rulegen impact 7f9c2b1e "webdriver_flag" --json'],
  explain: ['rulegen explain 7f9c2b1e --session 123456', 'rulegen explain 7f9c2b1e --sample fp 5'],
  fp: ['rulegen fp 7f9c2b1e', 'rulegen fp 7f9c2b1e --write   # the measured fixes as derived candidates'],
  check: ['rulegen check', 'rulegen check --candidates --junit rulegen.xml --summary "$GITHUB_STEP_SUMMARY"'],
  eval: ['rulegen eval eval/suites/default.yaml', 'rulegen eval eval/suites/default.yaml --baseline eval/baselines/default.json --markdown eval.md'],
  review: ['rulegen review', 'rulegen review --json'],
  approve: [
    'rulegen approve 7f9c2b1e --reviewer alice --note "checked the NL segment"',
    'rulegen approve 7f9c2b1e --reviewer alice --override "seasonal spike, accepted by fraud ops"',
  ],
  reject: ['rulegen reject 9a8b7c6d --reviewer alice --reason "hits our own uptime monitor"'],
  deprecate: ['rulegen deprecate 7f9c2b1e --reviewer alice --reason "bot family gone since March"'],
  docs: ['rulegen docs'],
  relabel: [
    'rulegen relabel --where "login_post_count > 50 and post_share > 0.9" --as bot --reviewer alice --reason "brute-force login bots faking an old browser"',
    'rulegen relabel --where "user_agent = \'uptime-checker/2.0\'" --as unknown --reviewer bob --reason "our own monitor" --dry-run',
  ],
  runs: ['rulegen runs', 'rulegen runs --since 2026-11-01 --json'],
  release: ['rulegen release --version 1.4.0'],
  promote: ['rulegen promote 7f9c2b1e --to challenge --reviewer alice'],
  export: ['rulegen export --target sql-view --dialect trino', 'rulegen export --target json-logic'],
  demo: ['rulegen demo', 'rulegen demo --dir /tmp/rulegen-demo'],
};

/** Add the examples and the global options to every command's help. */
export function addHelp(program: Command): void {
  const settings = { showGlobalOptions: true, optionDescription };
  program.configureHelp(settings);
  for (const cmd of program.commands) {
    // settings are copied to a subcommand when it is created, so set them on each one too
    cmd.configureHelp(settings);
    const examples = EXAMPLES[cmd.name()];
    if (examples?.length) cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
  }
}
