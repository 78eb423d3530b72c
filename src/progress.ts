/**
 * How a long stage says how far it is. The core calls this plain callback and knows nothing of
 * terminals; the CLI turns it into a throttled stderr line (src/cli/progress.ts).
 */

/**
 * `done` of `total` units (`total` null when unknown), e.g. `(40_000, 100_000, 'rows')`.
 * Calls are cheap and may be frequent: the receiver throttles.
 */
export type OnProgress = (done: number, total: number | null, unit: string) => void;
