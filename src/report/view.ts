/**
 * View models: everything the docs templates show, already formatted as text. Keeping the
 * formatting here (not in template helpers) makes a template override a matter of layout only,
 * and keeps the output deterministic: no locale, no clock except the `now` passed in.
 *
 * This module is the public entry: the rule page, the report and the measured false positives
 * live in sibling modules and are re-exported from here.
 */
import { fmtPct } from '../format.js';
import { reviewTrail } from '../review/trail.js';
import { validationOf } from './validation-view.js';
import { cell, derivedOf, docOrder, documented, gateView, iso, recordedEvidence, type DocsInput } from './view-common.js';

export { cell, docOrder, documented, recordedEvidence, type DocRule, type DocsInput } from './view-common.js';
export { measuredFpView } from './fp-view.js';
export { ruleView } from './rule-view.js';
export { reportRules, reportView } from './report-view.js';

/** The view of docs/rules/README.md. */
export function readmeView(input: DocsInput) {
  const rules = input.rules.filter((d) => d.rule.status !== 'rejected').sort(docOrder);
  return {
    gate: gateView(input.config),
    rules: rules.map((d) => {
      const e = recordedEvidence(d.rule);
      const fprUpper = e?.fpr_upper95 !== undefined ? fmtPct(e.fpr_upper95) : d.result ? `${fmtPct(d.result.fpr_upper95)} (current data)` : 'n/a';
      return {
        title: cell(d.rule.title),
        link: documented(d) ? `${d.rule.id}.md` : null,
        status: d.rule.status,
        action: d.rule.action,
        fprUpper,
        lastBacktest: e?.as_of ? iso(e.as_of) : 'not recorded',
      };
    }),
    // what fails a rule beyond its own numbers (duplicates, recall collapsed, protected harm, the set), on current data
    findings: rules.flatMap((d) => {
      const v = validationOf(input.run, d.result, input.config, derivedOf(d));
      const f = v ? [...v.findings.duplicate, ...v.findings.stability, ...v.findings.segment, ...v.findings.set] : [];
      return f.length ? [{ title: cell(d.rule.title), status: d.rule.status, items: f.map(cell) }] : [];
    }),
    rejected: input.rules
      .filter((d) => d.rule.status === 'rejected')
      .sort(docOrder)
      .map((d) => {
        const last = reviewTrail(d.rule).at(-1);
        return {
          title: cell(d.rule.title),
          condition: cell(d.rule.condition),
          reviewer: cell(last?.reviewer ?? 'unknown'),
          reason: cell(last?.note ?? 'no reason recorded'),
        };
      }),
  };
}
