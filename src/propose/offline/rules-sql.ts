/**
 * Whole rules on the sample table by SQL (`--engine sql`): what the validation slice, the whole
 * sample and the existing rules' hit columns say of a batch of conjunctions, and the coverage
 * flags the covering loop moves (`_rg_cov`, `_rg_new`). The bitmap counter (rules-bits.ts)
 * gives the same counts from memory; these statements are its reference.
 */
import type { CompiledQuery } from '../../compile/compile.js';
import type { Param, Store } from '../../db/store.js';
import type { SliceCounts } from '../covering.js';
import type { Judged, RuleCounts, SampleRule } from './bins.js';
import { COV, LBL, SAMPLE, VAL, conjSql, hit, n } from './sql.js';
import type { Term } from './types.js';

/** A rule's predicate over the sample: a conjunction, or an existing rule's hit column. */
const predOf = (r: SampleRule): CompiledQuery => ('terms' in r ? conjSql(r.terms) : { sql: `"_rg_e${r.existing}"`, parameters: [] });

/** The rule-level counts by SQL; `newScore` counts every atom over the rows flagged `_rg_new`. */
export function sqlRuleCounts(store: Store, newScore: () => Promise<SliceCounts[]>): RuleCounts {
  return {
    async onValidation(conjs: readonly (readonly Term[])[]) {
      const preds = conjs.map(conjSql);
      const rows = await store.all(
        `SELECT ${LBL} AS lbl${preds.map((p, i) => `, sum${hit(p)} AS h${i}`).join('')} FROM ${SAMPLE} WHERE ${VAL} GROUP BY ALL`,
        preds.flatMap((p) => p.parameters),
      );
      return preds.map((_, i) => {
        let tp = 0;
        let fp = 0;
        for (const r of rows) n(r['lbl']) === 1 ? (tp += n(r[`h${i}`])) : (fp += n(r[`h${i}`]));
        return { tp, fp };
      });
    },

    async onSample(conjs: readonly (readonly Term[])[]) {
      const preds = conjs.map(conjSql);
      // one row per label
      const rows = await store.all(
        `SELECT ${LBL} = 0 AS human${preds.map((p, i) => `, sum${hit(p)} AS h${i}`).join('')} FROM ${SAMPLE} GROUP BY ALL`,
        preds.flatMap((p) => p.parameters),
      );
      return preds.map((_, i) => ({
        hits: rows.reduce((t, r) => t + n(r[`h${i}`]), 0),
        humans: rows.reduce((t, r) => t + (r['human'] === true ? n(r[`h${i}`]) : 0), 0),
      }));
    },

    async judge(conjs: readonly (readonly Term[])[], existing: number): Promise<Judged[]> {
      const cols: string[] = [];
      const params: Param[] = [];
      const count = (alias: string, where: string, p: CompiledQuery) => {
        cols.push(`sum(CASE WHEN ${where} AND (${p.sql}) THEN 1 ELSE 0 END) AS ${alias}`);
        params.push(...p.parameters);
      };
      const preds = conjs.map(conjSql);
      preds.forEach((p, i) => {
        count(`vt${i}`, `${VAL} AND ${LBL} = 1`, p);
        count(`vn${i}`, `${VAL} AND ${LBL} = 1 AND NOT ${COV}`, p);
        count(`vf${i}`, `${VAL} AND ${LBL} = 0`, p);
        count(`vo${i}`, `${VAL} AND ${LBL} = 0 AND ${COV}`, p);
        cols.push(`sum${hit(p)} AS s${i}`);
        params.push(...p.parameters);
        count(`sf${i}`, `${LBL} = 0`, p);
        for (let e = 0; e < existing; e++) count(`x${i}_${e}`, `"_rg_e${e}"`, p);
      });
      const row = (await store.one(`SELECT ${cols.join(', ')} FROM ${SAMPLE}`, params))!;
      return preds.map((_, i) => ({
        valBots: n(row[`vt${i}`]),
        valNewBots: n(row[`vn${i}`]),
        valHumans: n(row[`vf${i}`]),
        valCoveredHumans: n(row[`vo${i}`]),
        hits: n(row[`s${i}`]),
        humans: n(row[`sf${i}`]),
        existing: Array.from({ length: existing }, (_, e) => n(row[`x${i}_${e}`])),
      }));
    },

    async uncoveredFitBots() {
      return n((await store.one(`SELECT count(*) AS n FROM ${SAMPLE} WHERE NOT ${VAL} AND ${LBL} = 1 AND NOT ${COV}`))?.['n']);
    },

    async resetCoverage() {
      await store.run(`UPDATE ${SAMPLE} SET ${COV} = false, "_rg_new" = false WHERE ${COV} OR "_rg_new"`);
    },

    async coverNew(rule: SampleRule) {
      const pred = predOf(rule);
      await store.run(`UPDATE ${SAMPLE} SET "_rg_new" = true WHERE NOT ${COV} AND ${LBL} = 1 AND NOT ${VAL} AND (${pred.sql})`, pred.parameters);
      const delta = await newScore();
      await store.run(`UPDATE ${SAMPLE} SET ${COV} = true, "_rg_new" = false WHERE "_rg_new"`);
      return delta;
    },

    async cover(rule: SampleRule, botsOnly: boolean) {
      const pred = predOf(rule);
      await store.run(`UPDATE ${SAMPLE} SET ${COV} = true WHERE ${botsOnly ? `${LBL} = 1 AND ` : ''}(${pred.sql})`, pred.parameters);
    },
  };
}
