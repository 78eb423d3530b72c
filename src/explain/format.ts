/**
 * Plain-English explain output, in the catalog's words (the English renderer), one block per
 * session: each term with the session's value and how far it was from the threshold, then
 * for a miss the terms that stopped the rule.
 */
import type { Catalog, Feature } from '../catalog/schema.js';
import { english, featureLabel, formatNumber, valueText } from '../rule/english.js';
import { parseCondition } from '../rule/parser.js';
import type { ExplainResult, Outcome, SessionExplanation, TermExplanation } from './explain.js';

const OUTCOME: Record<Outcome, string> = {
  tp: 'HIT, a true positive (labelled bot)',
  fp: 'HIT, a false positive (labelled human)',
  fn: 'MISSED, a false negative (labelled bot)',
  tn: 'not hit, a true negative (labelled human)',
  hit: 'HIT (unlabelled)',
  miss: 'not hit (unlabelled)',
};

function termWords(t: TermExplanation, catalog: Catalog): string {
  const parsed = parseCondition(t.condition);
  return parsed.ok ? english(parsed.ast, catalog) : t.condition;
}

/** A value in the feature's words: "180 requests per minute", "2% static assets", "yes", "'chrome'". */
export function valueWords(f: Feature | undefined, v: TermExplanation['value']): string {
  if (v === null || v === undefined) return 'unknown (no value)';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return `'${v}'`;
  return f && f.type === 'number' ? valueText(f, v) : formatNumber(v);
}

/** |margin| in the feature's unit ("25 requests per minute", "3%"). */
function marginWords(f: Feature | undefined, m: number): string {
  const a = Math.abs(m);
  return f && f.type === 'number' ? valueText(f, a) : formatNumber(a);
}

function termLine(t: TermExplanation, catalog: Catalog): string {
  const f = catalog.get(t.feature);
  const words = termWords(t, catalog);
  const mark = t.held ? 'holds' : 'fails';
  const need = t.wanted ? '' : ' (the rule excludes it)';
  const subject = f ? featureLabel(f) : t.feature;
  let value: string;
  if (t.hidden) value = `${subject} hidden (sensitive; --show-sensitive shows it)`;
  else if (t.value === null || t.value === undefined) value = `${subject} unknown: a condition on a missing value is false`;
  else {
    const v = valueWords(f, t.value);
    // "180 requests per minute" already names the feature; "session duration 3 seconds" needs the subject
    value = f && f.type === 'number' && v.includes(featureLabel(f)) ? v : typeof t.value === 'boolean' ? `${subject}: ${v}` : `${subject} ${v}`;
    if (t.margin !== null) {
      if (t.margin === 0) value += t.held ? ', exactly at the threshold' : ', exactly at the threshold (not past it)';
      else value += t.held ? `, ${marginWords(f, t.margin)} past the threshold` : `, ${marginWords(f, t.margin)} short of the threshold`;
    }
  }
  return `  [${mark}] ${words}${need} — ${value}`;
}

function stopLine(t: TermExplanation, catalog: Catalog): string {
  const f = catalog.get(t.feature);
  const words = termWords(t, catalog);
  if (!t.wanted) return `${words} held, and the rule excludes it${!t.hidden && t.margin !== null ? ` (by ${marginWords(f, t.margin)})` : ''}`;
  if (t.hidden) return `${words} (value hidden)`;
  if (t.value === null || t.value === undefined) return `${words} (no value)`;
  return t.margin !== null ? `${words} (short by ${marginWords(f, t.margin)})` : `${words} (was ${valueWords(f, t.value)})`;
}

export function formatSession(s: SessionExplanation, catalog: Catalog): string {
  const lines = [`session ${s.id} (${s.time.slice(0, 10)}, ${s.window} window): ${OUTCOME[s.outcome]}`];
  for (const t of s.terms) lines.push(termLine(t, catalog));
  if (!s.hit) {
    const stops = s.stopped_by.map((i) => stopLine(s.terms[i]!, catalog));
    lines.push(`  stopped by: ${stops.join('; ')}`);
  }
  return lines.join('\n');
}

export function formatExplain(r: ExplainResult, catalog: Catalog): string {
  const parsed = parseCondition(r.condition);
  const head = [
    r.rule ? `rule ${r.rule.id}: ${r.rule.title}` : `condition: ${r.condition}`,
    `  sessions with ${parsed.ok ? english(parsed.ast, catalog) : r.condition}`,
  ];
  if ('sample' in r.request)
    head.push(
      `  sample: ${r.sessions.length} ${{ tp: 'true positives', fp: 'false positives', fn: 'missed bots' }[r.request.sample]} on ` +
        `the ${r.request.window} window (by hash of the session id)`,
    );
  const body = r.sessions.length ? r.sessions.map((s) => formatSession(s, catalog)) : ['no session of that kind in the window'];
  const tail: string[] = [];
  if (r.hidden_features.length) tail.push(`values of sensitive features hidden: ${r.hidden_features.join(', ')} (--show-sensitive shows them)`);
  if (r.disagreements.length) tail.push(`warning: the compiled SQL and the reference evaluator disagree on ${r.disagreements.join(', ')}`);
  return [head.join('\n'), ...body, ...tail].join('\n\n') + '\n';
}
