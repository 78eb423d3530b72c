/** Formatting shared by every stage's text output (terminal, Markdown, HTML views). */

/** A rate as a percentage with `digits` decimals; n/a where it is undefined (no denominator). */
export const fmtPct = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(digits)}%`);
