import { defineConfig } from 'vitest/config';

// Four projects, one command (`npm test`). Integration tests share one embedded AWS stack
// (DynamoDB Local + local-aws-sqs) started by the global setup, or LocalStack when
// AWS_ENDPOINT_URL is set; every test creates its own uniquely named tables and queues. The e2e
// suite drives a deployed pipeline through its public surfaces only: the one named by
// E2E_OUTPUTS_FILE or E2E_STACKS, else the synthesized app on the local cloud its setup starts.
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
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/support/global-setup.ts'],
          setupFiles: ['test/e2e/support/e2e-env.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Test files share one deployment (and its config snapshot): two at a time at most.
          maxWorkers: 2,
        },
      },
    ],
  },
});
