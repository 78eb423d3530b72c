/**
 * Property-run sizes. `npm test` must stay fast and steady on a loaded 2-core CI machine (every
 * test under 10 s), so it runs a short sample; `npm run test:long` (RULEGEN_LONG_TESTS=1) runs the
 * full, long property runs by hand.
 */
export const LONG = process.env['RULEGEN_LONG_TESTS'] === '1';

/** `short` runs in `npm test`, `long` under `npm run test:long`. */
export function runs(short: number, long: number): number {
  return LONG ? long : short;
}
