import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A ceiling that catches hangs; the 10 s per-test budget is reported by scripts/test.mjs.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // DuckDB instances are native and memory hungry: two workers match the 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', CI: 'true' },
  },
});
