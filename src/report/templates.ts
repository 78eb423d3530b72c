/**
 * The shipped Handlebars templates, as string constants: `tsc` copies no .hbs file into dist/,
 * and a constant works the same under tsx, vitest and the built CLI. A workspace may override
 * any of them with `templates/<name>.hbs` (see templating.ts). Values reach the templates
 * already formatted (view.ts): the templates place text, they do not compute.
 */

/** One approved or deprecated rule, for an operations reviewer: docs/rules/<id>.md. */
export const RULE_MD = `# {{title}}

{{#if deprecated}}
> **Deprecated** on {{deprecated.at}} by {{deprecated.reviewer}}: {{deprecated.reason}}
> This rule is kept for the record; it is no longer in force.

{{/if}}
| | |
|---|---|
| Status | {{status}} |
| Action | **{{action}}** — {{actionText}} |
| Level | {{level}} |
| Rule id | \`{{id}}\` |
| Tags | {{tagsText}} |

## What it matches

\`\`\`
{{condition}}
\`\`\`

In plain words: it matches sessions with {{english}}.

## What it catches and why

{{description}}

**Why this indicates automation:** {{rationale}}

## Evidence

{{#if evidence}}
Measured on the **{{evidence.window}}** window ({{evidence.from}} to {{evidence.to}}, {{evidence.rows}} sessions); {{evidence.source}}.

| Measure | Value |
|---|---:|
| Bots caught (true positives) | {{evidence.tp}} |
| People matched (false positives) | {{evidence.fp}} |
| Unlabelled sessions matched | {{evidence.unlabeled}} |
| Precision (share of matches that are bots) | {{evidence.precision}} |
| Recall (share of all bots caught) | {{evidence.recall}} |
| False-positive rate (share of people matched) | {{evidence.fpr}} |
| False-positive rate, upper 95% bound | {{evidence.fprUpper}} |
| Worst day | {{evidence.worstDay}} |
| Share of traffic matched | {{evidence.hitRate}} |
| Bots caught by no other approved rule | {{evidence.incremental}} |

Gate (FPR upper bound at most {{gate.maxFpr}}, precision at least {{gate.minPrecision}}, at least {{gate.minSupport}} bots caught): **{{evidence.gate}}**{{#if evidence.gateReasons}} — {{evidence.gateReasons}}{{/if}}.

{{#if evidence.segments.length}}
### By segment

| Segment | Sessions matched | False-positive rate | Upper 95% bound |
|---|---:|---:|---:|
{{#each evidence.segments}}
| {{name}} | {{hits}} | {{fpr}} | {{fprUpper}} |
{{/each}}

{{/if}}
{{#if evidence.overlap.length}}
### Overlap with other rules

{{#each evidence.overlap}}
- \`{{id}}\`{{#if title}} {{title}}{{/if}}: Jaccard {{jaccard}} of matched sessions in common
{{/each}}

{{/if}}
{{else}}
No backtest evidence has been recorded for this rule yet: run \`rulegen backtest {{id}} --update --variations\`.

{{/if}}
{{#if findings.power}}
> **Too few humans to judge:** {{findings.power}}.

{{/if}}
{{#if findings.incremental}}
Against the deployed set (approved block and challenge rules), on current data: {{findings.incremental}}.

{{/if}}
{{#if findings.duplicate.length}}
### Duplicates

{{#each findings.duplicate}}
- {{this}}
{{/each}}

{{/if}}
{{#if findings.stability.length}}
### Stability over time

{{#each findings.stability}}
- {{this}}
{{/each}}

{{/if}}
{{#if findings.segment.length}}
### Protected segments and populations

{{#each findings.segment}}
- {{this}}
{{/each}}

{{/if}}
{{#if findings.set.length}}
### The deployed set

{{#each findings.set}}
- {{this}}
{{/each}}

{{/if}}
{{#if findings.notes.length}}
### Notes (not failures)

{{#each findings.notes}}
- {{this}}
{{/each}}

{{/if}}
## Who could be matched by mistake

{{#if measuredFp}}
**Measured on the data.** {{measuredFp.source}}

| Share of false positives | Scenario | Condition | This rule |
|---:|---|---|---|
{{#each measuredFp.scenarios}}
| {{share}} | {{description}} | \`{{condition}}\` | {{status}} |
{{/each}}

{{#if measuredFp.populations.length}}
Populations named by the model from these measurements:

{{#each measuredFp.populations}}
- **{{name}}**{{#if automation}} (looks like mislabelled automation: a relabelling candidate){{/if}}: {{description}}
{{/each}}

{{/if}}
**Written with the rule** (by its author or the proposer):

{{/if}}
{{#each falsepositives}}
- {{this}}
{{/each}}

## Tuning and rollback

{{#if variations.length}}
Each threshold moved along its feature's distribution, measured on the same window. Tighter thresholds match fewer people and fewer bots.

{{#each variations}}
**{{feature}}** (current: \`{{current}}\`)

| Threshold | Recall | FPR | FPR upper 95% | Precision |
|---|---:|---:|---:|---:|
{{#each rows}}
| {{threshold}}{{#if current}} (current){{/if}} | {{recall}} | {{fpr}} | {{fprUpper}} | {{precision}} |
{{/each}}

{{/each}}
{{else}}
No threshold variations were recorded for this rule.

{{/if}}
To tune it, propose a candidate with the new threshold and \`related: [{id: {{id}}, type: derived}]\`; approving it creates a new rule, and this one stays as it is.

To roll it back, stop enforcing it at once: \`rulegen deprecate {{id}} --reason "<why>"\`. A milder first step is a derived rule with action \`log\`, which records matches without affecting anyone.

## Provenance

{{#each provenance}}
- {{name}}: {{value}}
{{/each}}
{{#if related.length}}

Related rules:
{{#each related}}
- {{type}}: \`{{id}}\`{{#if title}} {{title}}{{/if}}
{{/each}}
{{/if}}

## Review trail

{{#if trail.length}}
| When | Decision | Reviewer | Note | Gate override |
|---|---|---|---|---|
{{#each trail}}
| {{at}} | {{decision}} | {{reviewer}} | {{note}} | {{override}} |
{{/each}}
{{else}}
No review has been recorded.
{{/if}}
`;

/** Every rule, one line each: docs/rules/README.md. */
export const README_MD = `# Detection rules

Generated by \`rulegen docs\`; do not edit by hand. Gate: FPR upper 95% bound at most {{gate.maxFpr}}, precision at least {{gate.minPrecision}}, at least {{gate.minSupport}} bots caught.

{{#if rules.length}}
| Rule | Status | Action | FPR upper 95% | Last backtest |
|---|---|---|---:|---|
{{#each rules}}
| {{#if link}}[{{title}}]({{link}}){{else}}{{title}}{{/if}} | {{status}} | {{action}} | {{fprUpper}} | {{lastBacktest}} |
{{/each}}
{{else}}
No rules yet.
{{/if}}
{{#if findings.length}}

## Findings on current data

What fails a rule beyond its own false-positive rate: duplicates by behaviour, recall that collapsed after the split, harm to a protected segment or population, the deployed set.

{{#each findings}}
- **{{title}}** ({{status}}):
{{#each items}}
  - {{this}}
{{/each}}
{{/each}}
{{/if}}
{{#if rejected.length}}

## Rejected candidates

Kept in the candidates folder for the record, and shown to the next proposal as examples of what not to suggest.

| Candidate | Condition | Reviewer | Reason |
|---|---|---|---|
{{#each rejected}}
| {{title}} | \`{{condition}}\` | {{reviewer}} | {{reason}} |
{{/each}}
{{/if}}
`;

/** The review meeting's page: docs/report.html. Self-contained: inline CSS and SVG, no script. */
export const REPORT_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rulegen review report</title>
<style>
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --card: #fff; --accent: #134e7d; --bad: #b42318; --good: #1a7f37; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header.page { background: var(--accent); color: #fff; padding: 28px 40px 24px; }
header.page h1 { margin: 0 0 6px; font-size: 26px; font-weight: 650; }
header.page p { margin: 2px 0; color: #d6e4f0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 40px 60px; }
h2 { font-size: 20px; margin: 36px 0 12px; }
h3 { font-size: 18px; margin: 0 0 4px; }
section.card, .summary { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; margin: 16px 0; box-shadow: 0 1px 2px rgba(16,42,67,.05); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef2f7; padding: 1px 5px; border-radius: 4px; }
pre.condition { font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef2f7; padding: 10px 14px; border-radius: 6px; white-space: pre-wrap; margin: 10px 0 6px; }
.muted { color: var(--muted); }
.chip { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid transparent; white-space: nowrap; }
.chip.approved, .chip.pass { background: #dafbe1; color: var(--good); border-color: #aceebb; }
.chip.candidate { background: #ddf4ff; color: #0969da; border-color: #b6e3ff; }
.chip.deprecated, .chip.rejected { background: #eaeef2; color: var(--muted); border-color: #d0d7de; }
.chip.fail { background: #ffebe9; color: var(--bad); border-color: #ffcecb; }
.chip.action { background: #fff8c5; color: var(--warn); border-color: #f5e08a; }
.meta { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin: 6px 0 4px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 18px; margin-top: 14px; }
figure.chart { margin: 0; background: #fbfcfe; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; font-size: 14px; }
figure.chart svg { display: block; width: 100%; height: auto; max-width: 100%; }
details { margin-top: 8px; font-size: 13px; }
details summary { cursor: pointer; color: var(--accent); }
details table { margin-top: 6px; font-size: 12px; }
.reasons { color: var(--bad); margin: 6px 0 0; padding-left: 18px; font-size: 14px; }
.chart-svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.chart-svg .tick { font-size: 12px; fill: #52606d; }
.chart-svg .mark-label { font-size: 11px; fill: #9a6700; font-weight: 600; }
.chart-svg .axis-label { font-size: 13px; fill: #323f4b; font-weight: 600; }
.chart-svg .legend { font-size: 12.5px; fill: #323f4b; }
.chart-svg .grid { stroke: #e4e7eb; stroke-width: 1; }
.chart-svg .axis { stroke: #7b8794; stroke-width: 1; }
.chart-svg .ref { stroke: #b42318; stroke-width: 1.5; stroke-dasharray: 5 4; }
.chart-svg .ref-label { font-size: 11px; fill: #b42318; }
.chart-svg .mark { fill: #fff3c4; }
.chart-svg .split { stroke: #9a6700; stroke-width: 1.5; stroke-dasharray: 4 3; }
.notes { color: var(--warn); margin: 6px 0 0; padding-left: 18px; font-size: 14px; }
.banner { background: #fff8c5; border: 1px solid #f5e08a; border-radius: 8px; padding: 10px 14px; margin: 16px 0; }
.chip.warn, .chip.undetermined { background: #fff8c5; color: var(--warn); border-color: #f5e08a; }
.chip.protected { background: #f3e8ff; color: #6f42c1; border-color: #d8b9ff; }
.chart-svg .bar-hits { fill: #9fb3c8; }
.chart-svg .line-fpr { stroke: #c62828; stroke-width: 2; }
.chart-svg .line-fpr-dot { fill: #c62828; }
.chart-svg .line-recall { stroke: #2e7d32; stroke-width: 2; }
.chart-svg .line-recall-dot { fill: #2e7d32; }
.chart-svg .cell { stroke: #fff; stroke-width: 1; }
.chart-svg .cell-text { font-size: 11px; fill: #1f2933; }
.chart-svg .cell-text.dark { fill: #fff; }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
</style>
</head>
<body>
<header class="page">
<h1>Bot-detection rules: review report</h1>
<p>Generated {{generated}} from workspace <code style="background:transparent;color:#fff">{{workspace}}</code>.</p>
{{#if window}}<p>Test window {{window.from}} to {{window.to}}: {{window.rows}} sessions ({{window.bots}} bots, {{window.humans}} people, {{window.unlabeled}} unlabelled).</p>{{else}}<p>No session data in the workspace: charts need <code>rulegen ingest</code>.</p>{{/if}}
<p>Gate: FPR upper 95% bound at most {{gate.maxFpr}}, precision at least {{gate.minPrecision}}, at least {{gate.minSupport}} bots caught.</p>
</header>
<main>
{{#if power}}<p class="banner"><strong>Too few humans to judge:</strong> {{power}}.</p>{{/if}}
<h2>Rules at a glance</h2>
<div class="summary">
{{#if rules.length}}
<table>
<thead><tr><th></th><th>Rule</th><th>Status</th><th>Action</th><th class="num">Precision</th><th class="num">Recall</th><th class="num">FPR</th><th class="num">FPR upper 95%</th><th>Worst day</th><th>Gate</th></tr></thead>
<tbody>
{{#each rules}}
<tr><td>{{label}}</td><td><a href="#rule-{{id}}">{{title}}</a></td><td><span class="chip {{status}}">{{status}}</span></td><td>{{action}}</td><td class="num">{{precision}}</td><td class="num">{{recall}}</td><td class="num">{{fpr}}</td><td class="num">{{fprUpper}}</td><td>{{worstDay}}</td><td><span class="chip {{gateClass}}">{{gate}}</span></td></tr>
{{/each}}
</tbody>
</table>
{{else}}
<p class="muted">No approved or candidate rules.</p>
{{/if}}
</div>
{{#if set}}
<h2>The deployed set</h2>
<section class="card" id="deployed-set">
<p class="muted">Customers feel the union of the rules that reach them: every approved rule with action block or challenge (log rules are shadow rules and are not counted). The gate judges the upper 95% bound of the union's false-positive rate.</p>
<p>{{set.rules}} rules hit <strong>{{set.fp}} of {{set.humans}}</strong> people on the test window: FPR {{set.fpr}} (upper 95% bound {{set.fprUpper}}), recall {{set.recall}}. <span class="chip {{set.gate}}">set gate: {{set.gate}}</span></p>
{{#if set.reasons.length}}<ul class="reasons">{{#each set.reasons}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
{{#if set.top.length}}
<table><thead><tr><th>Rule</th><th class="num">Share of the set's false positives</th><th class="num">People only it hits</th></tr></thead>
<tbody>{{#each set.top}}<tr><td><a href="#rule-{{id}}">{{label}}</a></td><td class="num">{{share}}</td><td class="num">{{only}}</td></tr>{{/each}}</tbody></table>
{{/if}}
</section>
{{/if}}
{{#if segments}}
<h2>Segments and populations</h2>
<section class="card" id="segments">
<p class="muted">False-positive rate of each rule per population and segment value, with 95% bounds. A rule fails on a <span class="chip protected">protected</span> one when the <em>lower</em> bound exceeds {{segments.limit}}; where the bounds straddle the limit there are too few people to judge, which is never a pass. Segment values are listed where a rule hits people.</p>
{{#if segments.populations.length}}
<table><thead><tr><th>Population</th><th>Defined as</th><th class="num">People in the test window</th></tr></thead>
<tbody>{{#each segments.populations}}<tr><td>{{name}} {{#if protected}}<span class="chip protected">protected</span>{{/if}}</td><td><code>{{where}}</code></td><td class="num">{{humans}}</td></tr>{{/each}}</tbody></table>
{{/if}}
{{#if segments.rows.length}}
<table><thead><tr><th>Population or segment</th><th>Rule</th><th class="num">People</th><th class="num">Matched</th><th class="num">FPR</th><th class="num">Lower 95%</th><th class="num">Upper 95%</th><th>Judgement</th></tr></thead>
<tbody>{{#each segments.rows}}<tr><td>{{key}} {{#if protected}}<span class="chip protected">protected</span>{{/if}}</td><td>{{rule}}</td><td class="num">{{humans}}</td><td class="num">{{fp}}</td><td class="num">{{fpr}}</td><td class="num">{{lower}}</td><td class="num">{{upper}}</td><td><span class="chip {{cls}}">{{judgement}}</span></td></tr>{{/each}}</tbody></table>
{{else}}
<p class="muted">No rule matches people in any segment or population.</p>
{{/if}}
</section>
{{/if}}
{{#if impact}}
<h2>Impact</h2>
<section class="card" id="impact">
<p class="muted">What changes for customers if every candidate ships on top of the {{impact.baseline}} approved rules (test window): people blocked or challenged, with 95% bounds, and bots stopped, without and with the candidates.</p>
{{#if impact.added.length}}<p>Candidates added: {{#each impact.added}}{{this}}{{#unless @last}}; {{/unless}}{{/each}}.</p>{{else}}<p class="muted">No candidates: both scenarios are the approved set.</p>{{/if}}
<table><thead><tr><th></th><th class="num">Sessions</th><th class="num">People affected, without</th><th class="num">People affected, with</th><th class="num">Difference</th><th class="num">Bots stopped, without</th><th class="num">with</th><th class="num">Difference</th><th class="num">Blocked / challenged / logged (with)</th></tr></thead>
<tbody>
<tr><td><strong>whole window</strong></td><td class="num">{{impact.total.sessions}}</td><td class="num">{{impact.total.humansBefore}}</td><td class="num">{{impact.total.humansAfter}}</td><td class="num">{{impact.total.diffHumans}}</td><td class="num">{{impact.total.botsWithout}}</td><td class="num">{{impact.total.botsWith}}</td><td class="num">{{impact.total.diffBots}}</td><td class="num">{{impact.total.actions}}</td></tr>
{{#each impact.groups}}<tr><td>{{key}} {{#if protected}}<span class="chip protected">protected</span>{{/if}}</td><td class="num">{{sessions}}</td><td class="num">{{humansBefore}}</td><td class="num">{{humansAfter}}</td><td class="num">{{diffHumans}}</td><td class="num">{{botsWithout}}</td><td class="num">{{botsWith}}</td><td class="num">{{diffBots}}</td><td class="num">{{actions}}</td></tr>{{/each}}
</tbody></table>
<details><summary>Per day</summary>
<table><thead><tr><th>Day</th><th class="num">Sessions</th><th class="num">People affected, without</th><th class="num">with</th><th class="num">Difference</th><th class="num">Bots stopped, without</th><th class="num">with</th><th class="num">Difference</th></tr></thead>
<tbody>{{#each impact.daily}}<tr><td>{{key}}</td><td class="num">{{sessions}}</td><td class="num">{{humansBefore}}</td><td class="num">{{humansAfter}}</td><td class="num">{{diffHumans}}</td><td class="num">{{botsWithout}}</td><td class="num">{{botsWith}}</td><td class="num">{{diffBots}}</td></tr>{{/each}}</tbody></table>
</details>
{{#if impact.warnings.length}}<ul class="notes">{{#each impact.warnings}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
</section>
{{/if}}
{{#if overlap}}
<h2>Overlap between rules</h2>
<section class="card">
<p class="muted">How much two rules match the same sessions (Jaccard similarity of their hit sets on the test window: 0 = disjoint, 1 = identical). A dark cell means one of the pair adds little.</p>
<figure class="chart" id="chart-{{overlap.id}}">
<figcaption>{{overlap.title}}</figcaption>
{{{overlap.svg}}}
<details><summary>Data table</summary>
<table><thead><tr>{{#each overlap.table.head}}<th>{{this}}</th>{{/each}}</tr></thead>
<tbody>{{#each overlap.table.rows}}<tr>{{#each this}}<td>{{this}}</td>{{/each}}</tr>{{/each}}</tbody></table>
</details>
</figure>
</section>
{{/if}}
{{#if rules.length}}
<h2>Rule by rule</h2>
{{/if}}
{{#each rules}}
<section class="card" id="rule-{{id}}">
<h3>{{label}} · {{title}}</h3>
<div class="meta"><span class="chip {{status}}">{{status}}</span><span class="chip action">{{action}}</span><span class="chip {{gateClass}}">gate: {{gate}}</span>{{#if override}}<span class="chip fail">gate overridden: {{override}}</span>{{/if}}<code>{{id}}</code></div>
{{#if stage}}<p class="muted">Rollout stage: <strong>{{stage.name}}</strong> since {{stage.since}}{{#if stageHistory.length}}; history: {{#each stageHistory}}{{from}} → {{to}} on {{at}} by {{reviewer}}{{#if override}} (gate overridden: {{override}}){{/if}}{{#unless @last}}; {{/unless}}{{/each}}{{/if}}.</p>{{/if}}
<pre class="condition">{{condition}}</pre>
<p>Matches sessions with {{english}}.</p>
{{#if incremental}}<p class="muted">Against the deployed set: {{incremental}}.</p>{{/if}}
{{#if reasons.length}}<ul class="reasons">{{#each reasons}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
{{#if notes.length}}<ul class="notes">{{#each notes}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
<details class="fp"><summary>False positives: {{fp.fp}} people matched on the test window</summary>
{{#if fp.measured}}
<p>{{fp.measured.source}}</p>
<table><thead><tr><th class="num">Share of FPs</th><th>Scenario</th><th>Condition</th><th>This rule</th></tr></thead>
<tbody>{{#each fp.measured.scenarios}}<tr><td class="num">{{share}}</td><td>{{description}}</td><td><code>{{condition}}</code></td><td>{{status}}</td></tr>{{/each}}</tbody></table>
{{#if fp.measured.populations.length}}<p>Populations named by the model:</p><ul>{{#each fp.measured.populations}}<li><strong>{{name}}</strong>{{#if automation}} (looks like mislabelled automation: a relabelling candidate){{/if}}: {{description}}</li>{{/each}}</ul>{{/if}}
{{else}}
<p class="muted">No measured scenarios recorded: <code>{{fp.command}}</code> finds them (and <code>--write</code> writes measured fixes).</p>
{{/if}}
{{#if fp.segments.length}}<p>By segment (test window):</p><table><thead><tr><th>Segment</th><th class="num">False positives</th><th class="num">FPR</th></tr></thead><tbody>{{#each fp.segments}}<tr><td>{{name}}</td><td class="num">{{fp}}</td><td class="num">{{fpr}}</td></tr>{{/each}}</tbody></table>{{/if}}
<p>Written with the rule:</p><ul>{{#each fp.authored}}<li>{{this}}</li>{{/each}}</ul>
</details>
<div class="charts">
{{#each charts}}
<figure class="chart" id="chart-{{id}}">
<figcaption>{{title}}</figcaption>
{{{svg}}}
<details><summary>Data table</summary>
<table><thead><tr>{{#each table.head}}<th>{{this}}</th>{{/each}}</tr></thead>
<tbody>{{#each table.rows}}<tr>{{#each this}}<td>{{this}}</td>{{/each}}</tr>{{/each}}</tbody></table>
</details>
</figure>
{{/each}}
</div>
</section>
{{/each}}
<footer>rulegen · every chart has its numbers in the data table below it · docs/rules/ holds one page per approved rule.</footer>
</main>
</body>
</html>
`;

export const TEMPLATES = { 'rule.md': RULE_MD, 'readme.md': README_MD, 'report.html': REPORT_HTML } as const;
export type TemplateName = keyof typeof TEMPLATES;
