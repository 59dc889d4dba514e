import { defineConfig } from 'vitest/config';

// Three projects, one command (`npm test`). Integration tests share one embedded AWS stack
// (DynamoDB Local + local-aws-sqs) started by the global setup, or LocalStack when
// AWS_ENDPOINT_URL is set; every test creates its own uniquely named tables and queues.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Synthesising stacks is CPU- and memory-heavy; two at a time is plenty on 2 cores.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/integration-env.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
        },
      },
    ],
  },
});
