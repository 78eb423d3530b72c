#!/usr/bin/env node
// Sessionize an Apache combined-format access log in DuckDB, for bench/quality.mjs --data apache.
// Requests are keyed by client IP + user agent; a gap of more than 30 minutes starts a new
// session. Features are behavioural only; the label comes from the user agent by the npm package
// isbot, as `rulegen ingest-logs` labels (PROVENANCE.md: "self-declared crawlers can be recognised
// from the user agent (the npm package isbot)"), and nothing derived from the user agent is a
// feature (it would leak the label). The label is weak: a bot that fakes a browser is a "human".
// An earlier hand-written pattern (bot|crawl|spider|...) missed declared agents that isbot knows
// (an empty agent "-", Ezooms, feed fetchers such as LiveJournal, SiteExplorer, portscout) and
// labelled them human: on the test window 11 of the 77 "humans" in the tree's best bot leaf had
// the agent "-" alone.
// Usage: node bench/apache_sessions.mjs LOG OUT.csv FEATURES.yaml
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { isbot } from 'isbot';

const LINE = '^(\\S+) \\S+ \\S+ \\[([^\\]]+)\\] "(\\S+) (\\S+)[^"]*" (\\d{3}) (\\S+) "([^"]*)" "([^"]*)"';
// DuckDB needs a constant pattern for regexp_extract with group names: a quoted literal of our own constant
const lit = (x) => `'${x.replaceAll("'", "''")}'`;
const STATIC = '(?i)\\.(css|js|png|jpe?g|gif|ico|svg|woff2?|ttf|eot|map)(\\?|$)';

export const FEATURES = [
  ['requests', 'number', 'requests', 'Requests in the session.'],
  ['duration_s', 'number', 'seconds', 'Time from the first to the last request of the session.'],
  ['request_rate', 'number', 'requests/min', 'Requests per minute over the session (at least one minute).'],
  ['static_asset_ratio', 'number', 'share', 'Share of requests for images, scripts, stylesheets or fonts.'],
  ['empty_referrer_ratio', 'number', 'share', 'Share of requests without a referrer.'],
  ['distinct_path_share', 'number', 'share', 'Distinct paths as a share of requests.'],
  ['error_ratio', 'number', 'share', 'Share of requests answered with a 4xx or 5xx status.'],
  ['head_share', 'number', 'share', 'Share of HEAD requests.'],
  ['night_share', 'number', 'share', 'Share of requests between midnight and 6 am UTC.'],
  ['mean_bytes', 'number', 'bytes', 'Average response size.'],
  ['robots_txt_fetched', 'boolean', null, 'The session asked for /robots.txt.'],
];

export async function sessionize(log, csv) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(
    `CREATE TABLE raw AS SELECT line FROM read_csv($1, columns = {'line': 'VARCHAR'}, delim = '\t', quote = '', escape = '', header = false, ` +
      `auto_detect = false)`,
    [log],
  );
  await c.run(
    `CREATE TABLE req AS SELECT m['ip'] AS ip, strptime(m['t'], '%d/%b/%Y:%H:%M:%S %z')::TIMESTAMP AS t, m['method'] AS method, m['path'] AS path,
       m['status']::INTEGER AS status, TRY_CAST(m['bytes'] AS BIGINT) AS bytes, m['ref'] AS ref, m['ua'] AS ua
     FROM (SELECT regexp_extract(line, ${lit(LINE)}, ['ip', 't', 'method', 'path', 'status', 'bytes', 'ref', 'ua']) AS m FROM raw) WHERE m['ip'] <> ''`,
  );
  // the label of every distinct agent, from isbot (its patterns use look-arounds DuckDB's RE2 lacks)
  const uas = (await c.runAndReadAll(`SELECT DISTINCT ua FROM req ORDER BY ua`)).getRowObjectsJS().map((r) => r.ua);
  await c.run(`CREATE TABLE ua_label (ua VARCHAR, bot INTEGER)`);
  const app = await c.createAppender('ua_label');
  for (const ua of uas) {
    app.appendVarchar(ua);
    app.appendInteger(isbot(ua) ? 1 : 0);
    app.endRow();
  }
  app.closeSync();
  await c.run(
    `CREATE TABLE s AS SELECT *, sum(new) OVER (PARTITION BY ip, ua ORDER BY t, path ROWS UNBOUNDED PRECEDING) AS sn FROM (
      SELECT *, CASE WHEN lag(t) OVER (PARTITION BY ip, ua ORDER BY t, path) IS NULL OR t - lag(t) OVER (PARTITION BY ip, ua ORDER BY t, path) ` +
      `> INTERVAL 30 MINUTE THEN 1 ELSE 0 END AS new FROM req)`,
  );
  await c.run(
    `CREATE TABLE sessions AS SELECT md5(ip || '|' || ua || '|' || sn::VARCHAR) AS session_id, min(t) AS ts,
       any_value(bot) AS label,
       count(*) AS requests,
       date_diff('second', min(t), max(t)) AS duration_s,
       count(*) / greatest(date_diff('second', min(t), max(t)) / 60.0, 1.0) AS request_rate,
       avg(CASE WHEN regexp_matches(path, $1) THEN 1.0 ELSE 0.0 END) AS static_asset_ratio,
       avg(CASE WHEN ref IN ('-', '') THEN 1.0 ELSE 0.0 END) AS empty_referrer_ratio,
       count(DISTINCT path) / count(*) AS distinct_path_share,
       avg(CASE WHEN status >= 400 THEN 1.0 ELSE 0.0 END) AS error_ratio,
       avg(CASE WHEN method = 'HEAD' THEN 1.0 ELSE 0.0 END) AS head_share,
       avg(CASE WHEN hour(t) < 6 THEN 1.0 ELSE 0.0 END) AS night_share,
       avg(coalesce(bytes, 0)) AS mean_bytes,
       bool_or(path = '/robots.txt') AS robots_txt_fetched
     FROM s JOIN ua_label USING (ua) GROUP BY ip, ua, sn`,
    [STATIC],
  );
  const r = await c.runAndReadAll(`SELECT count(*) AS n, sum(label) AS bots, min(ts)::VARCHAR AS lo, max(ts)::VARCHAR AS hi FROM sessions`);
  const stats = r.getRowObjectsJS()[0];
  await c.run(`COPY (SELECT * FROM sessions ORDER BY ts, session_id) TO '${csv.replaceAll("'", "''")}' (HEADER)`);
  c.closeSync();
  return { sessions: Number(stats.n), bots: Number(stats.bots), from: stats.lo, to: stats.hi };
}

export function catalogYaml() {
  return FEATURES.map(
    ([name, type, unit, d]) => `- name: ${name}\n  type: ${type}\n${unit ? `  unit: ${unit}\n` : ''}  description: ${JSON.stringify(d)}\n`,
  ).join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [log, csv, yaml] = process.argv.slice(2);
  const s = await sessionize(log, csv);
  if (yaml) writeFileSync(yaml, catalogYaml());
  console.log(JSON.stringify(s));
}
