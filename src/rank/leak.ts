/**
 * Possible label leaks: features that separate bots from people almost perfectly.
 *
 * A behavioural signal is noisy: some people are fast, some bots are slow, and bots come in
 * families of which one signal catches a few. A column that sorts labelled sessions almost
 * perfectly, or that puts half of all bots where no person ever is, is more likely derived
 * from the same source as the label (the user agent that labelled them, a blocklist, the
 * verdict of the system being replaced) than a signal that holds on tomorrow's traffic. rank
 * flags it with its evidence; propose leaves it out unless the catalog says `leak_ok: true`.
 *
 * A feature is flagged when either holds on the train window's labelled rows:
 * - AUC >= LEAK_AUC (0.995): fewer than 1 in 200 bot-human pairs are ordered the wrong way;
 * - "bots only": its largest region with no labelled human — the values below every human's
 *   (low tail), above every human's (high tail), the category or boolean values no human
 *   shows, or the nulls when no human's is null — holds at least LEAK_BOT_SHARE (half) of
 *   the labelled bots, and there are at least LEAK_MIN_HUMANS humans, so that "no human" is
 *   evidence (0 of 100 humans still allows up to 3.7% at 95%). One bot family behind a clean
 *   signal covers a minority of bots; a label proxy covers most of them.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Ranking } from './types.js';

export const LEAK_AUC = 0.995;
export const LEAK_BOT_SHARE = 0.5;
export const LEAK_MIN_HUMANS = 100;

/** The evidence behind a possible label leak (`FeatureRank.leak`). */
export interface LeakEvidence {
  /** Which test flagged it: 'auc' (AUC >= 0.995) and/or 'bots_only' (a human-free region holds >= half of the bots). */
  reasons: ('auc' | 'bots_only')[];
  auc: number | null;
  /** The largest region of values no labelled human has, in the rule language ("> 57", "in ('curl')", "is null"); null when every value has humans. */
  region: string | null;
  /** Share of labelled bots in that region, and bots in it. */
  bot_share: number;
  bots_covered: number;
  /** Humans in that region: 0 by construction; with the humans present, so a reader can judge it. */
  humans_covered: number;
  humans: number;
  /** The catalog marks it `leak_ok: true`: flagged, yet propose may use it. */
  leak_ok: boolean;
}

/** The region statistics the rank scan reads per feature (see queries.ts `leakSql`). */
export interface LeakRegions {
  lo: { bots: number; edge: number | null };
  hi: { bots: number; edge: number | null };
  cats: { bots: number; values: string[] };
  nulls: { bots: number };
}

const fmt = (x: number) => String(Number(x.toPrecision(6)));
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The leak verdict for one feature, or undefined when it is not suspicious. */
export function leakEvidence(
  auc: number | null,
  regions: LeakRegions | undefined,
  totals: { bots: number; humans: number },
  leakOk: boolean,
  boolean = false,
): LeakEvidence | undefined {
  const { bots, humans } = totals;
  if (bots === 0 || humans === 0) return undefined;
  const options: { bots: number; region: string }[] = [];
  if (regions) {
    if (regions.lo.bots > 0 && regions.lo.edge !== null) options.push({ bots: regions.lo.bots, region: boolean ? '= false' : `<= ${fmt(regions.lo.edge)}` });
    if (regions.hi.bots > 0 && regions.hi.edge !== null) options.push({ bots: regions.hi.bots, region: boolean ? '= true' : `>= ${fmt(regions.hi.edge)}` });
    if (regions.cats.bots > 0)
      options.push({ bots: regions.cats.bots, region: `in (${regions.cats.values.map(quote).join(', ')}${regions.cats.values.length >= 3 ? ', ...' : ''})` });
    if (regions.nulls.bots > 0) options.push({ bots: regions.nulls.bots, region: 'is null' });
  }
  options.sort((a, b) => b.bots - a.bots);
  const best = options[0];
  const reasons: LeakEvidence['reasons'] = [];
  if (auc !== null && auc >= LEAK_AUC) reasons.push('auc');
  if (best && humans >= LEAK_MIN_HUMANS && best.bots / bots >= LEAK_BOT_SHARE) reasons.push('bots_only');
  if (reasons.length === 0) return undefined;
  return {
    reasons,
    auc,
    region: best?.region ?? null,
    bot_share: best ? best.bots / bots : 0,
    bots_covered: best?.bots ?? 0,
    humans_covered: 0,
    humans,
    leak_ok: leakOk,
  };
}

/**
 * Features the ranking flags as possible label leaks that the catalog does not clear with
 * `leak_ok: true`: what propose (offline inducer and model context) must leave out.
 */
export function leakSuspects(ranking: Ranking, catalog: Catalog): string[] {
  // declared in the catalog (`leak: true`: derived from the label's own source, e.g. the user
  // agent when labels come from it) whatever it scores; measured, unless the catalog says leak_ok
  const declared = catalog.features.filter((f) => f.leak).map((f) => f.name);
  const measured = ranking.features.filter((f) => f.leak && !catalog.get(f.feature)?.leak_ok).map((f) => f.feature);
  return [...new Set([...declared, ...measured])];
}

/** Features the catalog declares derived from the label's source (`leak: true`). */
export function declaredLeaks(catalog: Catalog): string[] {
  return catalog.features.filter((f) => f.leak).map((f) => f.name);
}

/** One line of evidence for the terminal and warnings. */
export function describeLeak(feature: string, e: LeakEvidence): string {
  const parts: string[] = [];
  if (e.auc !== null) parts.push(`AUC ${e.auc.toFixed(4)}`);
  if (e.region)
    parts.push(
      `${feature} ${e.region} holds ${(100 * e.bot_share).toFixed(1)}% of bots (${e.bots_covered.toLocaleString('en-US')}) ` +
        `and ${e.humans_covered} of ${e.humans.toLocaleString('en-US')} humans`,
    );
  const use = e.leak_ok ? ' (leak_ok in the catalog: propose may use it)' : ' — propose leaves it out unless features.yaml marks it leak_ok: true';
  return `${parts.join('; ')}${use}`;
}
