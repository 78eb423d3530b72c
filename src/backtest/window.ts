/**
 * The time split moved to src/db/window.ts (a data concept, used by every stage);
 * src/propose and src/rank still import it from here.
 * @deprecated import from src/db/window.ts
 */
export * from '../db/window.js';
