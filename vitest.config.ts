import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each integration test file starts its own Community Solid Servers (~4.5 s cold start, CPU-bound);
    // two at a time keeps a 2-core machine responsive.
    maxWorkers: 2,
    // Files share their worker's modules: CSS and its parsed config (src/pod/css-runner.ts) load once per worker
    // instead of once per file, which halves the suite's CPU time. Each file still starts and stops its own servers,
    // and a test that changes a global puts it back.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" line after `npm test`.
    reporters: ['default', ['json', { outputFile: 'test-output/vitest-results.json' }]],
  },
});
