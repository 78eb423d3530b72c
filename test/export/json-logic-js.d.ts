// json-logic-js ships no types; the tests use one function of it.
declare module 'json-logic-js' {
  const jsonLogic: { apply(logic: unknown, data?: unknown): unknown; truthy(value: unknown): boolean };
  export default jsonLogic;
}
