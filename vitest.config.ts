import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'web/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most test time is spent waiting on Docker, PostgreSQL and child processes, not on the CPU:
    // two files at a time keep a 2-core machine busy (vitest's default, one fewer than the cores, runs one).
    maxWorkers: 2,
    reporters: ['default'],
  },
});
