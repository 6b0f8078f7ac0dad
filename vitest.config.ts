import { defineConfig } from 'vitest/config';

// Three projects: unit (pure, in-memory, fast), integration (real PostgreSQL + Kafka, started
// by test/shared/services-setup.ts), e2e (real processes on loopback; also needs the services).
export default defineConfig({
  test: {
    reporters: ['default', './test/shared/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/shared/services-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The two cores are shared by Postgres, Kafka and the test; files run one at a time
          // so that they do not starve each other into timeouts.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/chaos/**/*.test.ts'],
          globalSetup: ['test/shared/services-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
