/** The `user_agent` column: a raw User-Agent string consistent with the `ua` family statement.ts draws. */
import { UA_FAMILIES } from './profile.js';

/** Raw User-Agent strings by family, with plausible version spread. */
export function userAgentSql(uVersion: string, uVariant: string): string {
  const chromeMajor = `(118 + floor(${uVersion} * 14)::BIGINT)`;
  const v = `${chromeMajor}::VARCHAR`;
  const fx = `(115 + floor(${uVersion} * 19)::BIGINT)::VARCHAR`;
  const ios = `(16 + floor(${uVersion} * 3)::BIGINT)::VARCHAR || '_' || floor(${uVariant} * 7)::BIGINT::VARCHAR`;
  const desktopOs =
    `CASE WHEN ${uVariant} < 0.7 THEN 'Windows NT 10.0; Win64; x64' WHEN ${uVariant} < 0.93 THEN 'Macintosh; Intel Mac OS X 10_15_7' ELSE 'X11; ` +
    `Linux x86_64' END`;
  const byFamily: Record<string, string> = {
    chrome: `'Mozilla/5.0 (' || ${desktopOs} || ') AppleWebKit/537.36 (KHTML, like Gecko) Chrome/' || ${v} || '.0.0.0 Safari/537.36'`,
    edge:
      `'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/' || ${v} || '.0.0.0 Safari/537.36 Edg/' || ${v} ` +
      `|| '.0.0.0'`,
    firefox: `'Mozilla/5.0 (' || ${desktopOs} || '; rv:' || ${fx} || '.0) Gecko/20100101 Firefox/' || ${fx} || '.0'`,
    safari:
      `'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.' || floor(${uVariant} * ` +
      `6)::BIGINT::VARCHAR || ' Safari/605.1.15'`,
    chrome_mobile: `'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/' || ${v} || '.0.0.0 Mobile Safari/537.36'`,
    mobile_safari:
      `'Mozilla/5.0 (' || CASE WHEN ${uVariant} < 0.85 THEN 'iPhone; CPU iPhone OS ' ELSE 'iPad; CPU OS ' END || ${ios} || ' like Mac OS X) ` +
      `AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'`,
    headless_chrome: `'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/' || ${v} || '.0.0.0 Safari/537.36'`,
    python_requests: `'python-requests/2.' || (25 + floor(${uVersion} * 8)::BIGINT)::VARCHAR || '.' || floor(${uVariant} * 3)::BIGINT::VARCHAR`,
    go_http: `CASE WHEN ${uVariant} < 0.8 THEN 'Go-http-client/1.1' ELSE 'Go-http-client/2.0' END`,
    curl: `'curl/8.' || floor(${uVersion} * 12)::BIGINT::VARCHAR || '.' || floor(${uVariant} * 2)::BIGINT::VARCHAR`,
    crawler:
      `CASE WHEN ${uVariant} < 0.55 THEN 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
      WHEN ${uVariant} < 0.8 THEN 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'
      WHEN ${uVariant} < 0.9 THEN 'Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)'
      ELSE 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 ` +
      `(Applebot/0.1; +http://www.apple.com/go/applebot)' END`,
    other:
      `CASE WHEN ${uVariant} < 0.4 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/' || ${v} ` +
      `|| '.0.0.0 Safari/537.36 OPR/' || (${chromeMajor} - 14)::VARCHAR || '.0.0.0'
      WHEN ${uVariant} < 0.7 THEN 'Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0'
      ELSE 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 ` +
      `(KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36' END`,
  };
  return `CASE ${UA_FAMILIES.map((f, i) => `WHEN ua = ${i} THEN ${byFamily[f]}`).join('\n    ')} END`;
}
