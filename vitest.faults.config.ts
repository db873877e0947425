import { defineConfig } from 'vitest/config';

// The fault-injection suite (`npm run test:faults`): each scenario runs `auditrelay run` as a child
// process against the emulators and a local OTLP sink, and prints one JSON line of figures (records
// lost, duplicates, peak RSS). Two files at a time: the machine has two cores, and every scenario
// also runs a daemon and the emulators.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 240_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
