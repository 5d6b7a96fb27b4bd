import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'web/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A worker keeps its loaded modules from one test file to the next: importing the server's
    // module graph afresh for each of 150 files cost minutes of the two cores. Tests share no
    // state through modules (each starts its own server, database and Redis namespace) and
    // restore what they change of the process (PATH, fake timers).
    isolate: false,
    // Most test time is spent waiting on Docker, PostgreSQL and child processes, not on the CPU:
    // two files at a time keep a 2-core machine busy (vitest's default, one fewer than the cores, runs one).
    maxWorkers: 2,
    reporters: ['default'],
  },
});
