/**
 * Templated text for offline candidates: title, description, rationale and false-positive
 * scenarios from the catalog's words and the rule's own evidence. Plain English, no jargon.
 */
import type { Catalog } from '../catalog/schema.js';
import { featuresOf, type Expr } from '../rule/ast.js';
import { english } from '../rule/english.js';
import type { RuleResult } from '../backtest/engine.js';
import type { FeatureRank, Ranking } from '../rank/types.js';

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(d)}%`);
const sentence = (s: string) => {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
};

function fmtValue(v: number | null | undefined, unit?: string): string {
  if (v === null || v === undefined) return 'n/a';
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return unit && unit !== 'ratio' && unit !== '%' ? `${n} ${unit}` : n;
}

export function titleFor(ast: Expr, catalog: Catalog): string {
  const text = `Sessions with ${english(ast, catalog)}`;
  return text.length <= 110 ? text : `${text.slice(0, 107)}...`;
}

export function descriptionFor(ast: Expr, catalog: Catalog, train: RuleResult, test: RuleResult | undefined): string {
  const lines = [`Flags sessions with ${english(ast, catalog)}.`];
  lines.push(
    `On the training window it caught ${pct(train.recall)} of labelled bots with ${pct(train.precision)} precision; ${train.counts.fp} ` +
      `of ${(train.counts.fp + train.counts.tn).toLocaleString('en-US')} people matched (false-positive rate ${pct(train.fpr, 3)}, at ` +
      `most ${pct(train.fpr_upper95, 3)} with 95% confidence).`,
  );
  if (test)
    lines.push(
      `On the later test window: recall ${pct(test.recall)}, precision ${pct(test.precision)}, false-positive rate ${pct(test.fpr, 3)} (at ` +
        `most ${pct(test.fpr_upper95, 3)}).`,
    );
  return lines.join(' ');
}

function featureReason(f: FeatureRank, catalog: Catalog): string {
  const c = catalog.get(f.feature);
  const desc = c ? sentence(c.description) : f.feature;
  if (f.quantiles) {
    const unit = c?.unit;
    return (
      `${desc} Bots ${f.direction === 'higher' ? 'run higher' : 'run lower'} here: their median is ${fmtValue(f.quantiles.bot.p50, unit)} ` +
      `against ${fmtValue(f.quantiles.human.p50, unit)} for people (the feature alone separates them with AUC ${f.auc?.toFixed(2)}).`
    );
  }
  if (f.categories?.length) {
    const top = [...f.categories].sort((a, b) => (b.lift ?? Infinity) - (a.lift ?? Infinity))[0]!;
    return `${desc} "${top.value}" is seen in ${pct(top.bot_share)} of bots and ${pct(top.human_share)} of people.`;
  }
  return desc;
}

/**
 * Why the rule's signals mean automation: each feature's separation on the train window, then,
 * when the inducer measured them (`termNotes`), what each condition adds on the validation slice
 * the search did not fit on ("removes 66 of 102 false positives (people with ...)").
 */
export function rationaleFor(ast: Expr, catalog: Catalog, ranking: Ranking, termNotes: readonly string[] = []): string {
  const feats = featuresOf(ast);
  const parts = feats.map((name) => {
    const f = ranking.features.find((x) => x.feature === name);
    return f ? featureReason(f, catalog) : sentence(catalog.get(name)?.description ?? name);
  });
  if (termNotes.length) parts.push(`What each condition adds, on the validation slice the search did not fit on: ${termNotes.join('; ')}.`);
  else if (feats.length > 1) parts.push('Each signal alone also matches some people; requiring them together is what keeps the false-positive rate low.');
  return parts.join(' ');
}

/** Concrete human populations the rule touches: the segments where labelled people matched. */
export function falsePositivesFor(ast: Expr, catalog: Catalog, test: RuleResult | undefined): string[] {
  const out: string[] = [];
  const segs = Object.entries(test?.segments ?? {})
    .filter(([, s]) => s.fp > 0)
    .sort(([, a], [, b]) => b.fp - a.fp)
    .slice(0, 3);
  for (const [k, s] of segs) {
    const [col, value] = k.split('=');
    out.push(`People in ${col} ${value}: ${s.fp} of ${s.humans.toLocaleString('en-US')} matched in the test window (${pct(s.fpr, 3)})`);
  }
  const feats = featuresOf(ast)
    .map((n) => catalog.get(n))
    .filter((f) => f !== undefined);
  for (const f of feats) {
    if (/pointer|mouse|keyboard|telemetry/i.test(f!.name + f!.description))
      out.push('People using assistive technology or privacy tools, whose browsers report no pointer or telemetry signals');
    if (/per_ip|nat|ip/i.test(f!.name)) out.push('Offices and mobile carriers that put many people behind one IP address');
    if (/request|rate|interarrival/i.test(f!.name)) out.push('Power users and people who open many tabs at once');
  }
  // people matched, but no segment says who they are (the data has no segment columns, or they
  // are spread thin): say how many, never that there were none
  const fp = test?.counts.fp ?? 0;
  if (fp > 0 && segs.length === 0) {
    const humans = fp + (test?.counts.tn ?? 0);
    out.unshift(
      `${fp.toLocaleString('en-US')} of ${humans.toLocaleString('en-US')} labelled people matched it in the test window (${pct(fp / humans, 3)}); ` +
        'no segment column tells who they are (rulegen fp on this rule lists the false-positive scenarios)',
    );
  }
  const unique = [...new Set(out)];
  return unique.length ? unique : ['Unknown: no labelled person matched it in the test window'];
}
