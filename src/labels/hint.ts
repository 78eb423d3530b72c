/**
 * What to do when one class has no labels at all. Access logs label only the agents that declare
 * a bot (`logs.unlabelled: unknown` by default), so a new user's first `rank` or `propose` on a
 * log sees bots and no people: nothing can be measured for false positives until some sessions
 * are labelled human.
 */
export const NO_HUMANS_HINT =
  'no session is labelled human, so no false positive can be measured: for access logs set `logs.unlabelled: human` in ' +
  'rulegen.yaml and run ingest-logs again (a weak label: agents that declare no bot count as people), or label sessions with ' +
  '`rulegen relabel --where "..." --as human`';
export const NO_BOTS_HINT =
  'no session is labelled bot, so no rule can be measured for recall: label known automation with `rulegen relabel --where "..." --as bot`';

export function missingClassHint(bots: number, humans: number): string | null {
  if (humans === 0 && bots > 0) return NO_HUMANS_HINT;
  if (bots === 0 && humans > 0) return NO_BOTS_HINT;
  return null;
}
