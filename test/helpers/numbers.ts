/**
 * Every number in `t` with 3+ significant digits (leading and trailing zeros do not count): the
 * numbers the "every byte sent" checks must find in the context, the templates, the tool schema,
 * the config or the model's own answers.
 */
export const significantNumbers = (t: string): string[] =>
  (t.match(/\d+(?:\.\d+)?(?:e-?\d+)?/g) ?? []).filter(
    (x) =>
      x
        .replace(/[^0-9]/g, '')
        .replace(/^0+/, '')
        .replace(/0+$/, '').length >= 3,
  );
