/** The ranking: which features separate bots from people, by how much, and where they part. */
import type { FeatureType } from '../catalog/schema.js';
import type { LeakEvidence } from './leak.js';

/** Quantiles of one feature within one label; null when the label has no non-null value. */
export interface QuantileSet {
  p1: number | null;
  p5: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  p99: number | null;
}

/** One category (or boolean value) of a feature, by how much more often bots show it. */
export interface CategoryLift {
  value: string;
  /** Share of labelled bots (resp. humans) with this value, over all rows of that label. */
  bot_share: number;
  human_share: number;
  /** bot_share / human_share; null when no human has the value. */
  lift: number | null;
}

/** Statistics of one catalog feature on the train window's labelled rows. */
export interface FeatureRank {
  feature: string;
  type: FeatureType;
  /** ROC AUC of the feature as a score for "bot" (ties averaged), folded to >= 0.5; null if undefined. */
  auc: number | null;
  /** Which way bots lie: 'higher' means bots have higher values (for booleans: true more often). */
  direction: 'higher' | 'lower' | null;
  /** Kolmogorov–Smirnov statistic between the bot and human distributions. */
  ks: number | null;
  /** Information value over quantile bins (nulls as their own bin). */
  iv: number | null;
  /** Share of labelled rows where the feature is not null. */
  coverage: number;
  /** Share of nulls within bots and within humans. */
  nulls: { bot: number; human: number };
  quantiles?: { bot: QuantileSet; human: QuantileSet };
  categories?: CategoryLift[];
  /** Combined importance used for ordering (higher = more separating). */
  importance: number;
  /** An importance computed elsewhere (`rank --import`), shown side by side. */
  imported?: { importance: number; std?: number };
  /** Why a statistic is missing (all null, constant, no labelled rows, ...). */
  notes: string[];
  /** The catalog marks the feature sensitive: ranked locally, never shown to a model. */
  sensitive?: boolean;
  /** A possible label leak (separates almost perfectly), with the evidence; see leak.ts. */
  leak?: LeakEvidence;
}

export interface Ranking {
  window: { name: string; from: string; to: string; rows: number };
  bots: number;
  humans: number;
  /** Bots over labelled rows. */
  base_rate: number | null;
  /** Sorted by importance, best first. */
  features: FeatureRank[];
  warnings: string[];
  /** Features the catalog declares derived from the label's source (`leak: true`): never proposed. */
  declared_leaks?: string[];
  /** How each statistic was computed, in plain words (stable keys, for readers of --json). */
  method?: Record<string, string>;
  /** Where the scan ran, when on an explicit engine (issue 18). */
  execution?: import('../engine/types.js').EngineInfo;
}
