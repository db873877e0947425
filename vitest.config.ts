import { defineConfig } from 'vitest/config';

// Integration tests start real HTTPS servers and child processes: give them room,
// but keep them in separate forks so a crash test cannot take the runner down.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
