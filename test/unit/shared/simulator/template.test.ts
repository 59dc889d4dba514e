import { describe, expect, it } from 'vitest';
import { settingsFromTemplates, TemplateSettingsError } from '../../../../shared/simulator/index.ts';
import { writePathStack } from '../../../support/factories/write-path-template.ts';

describe('settingsFromTemplates', () => {
  it('reads the event source, function, batch writer environment, queue and routed table', () => {
    // Act
    const settings = settingsFromTemplates([writePathStack()]);
    // Assess
    expect(settings).toEqual({
      eventSource: { batchSize: 1000, maxBatchingWindowSeconds: 1, maximumConcurrency: 10 },
      lambda: {
        memoryMiB: 1024,
        timeoutSeconds: 60,
        architecture: 'arm64',
        accountConcurrency: 1000,
        writeConcurrency: 8,
        deadlineMarginMs: 1500,
      },
      queue: { visibilityTimeoutSeconds: 360, maxReceiveCount: 5 },
      table: { billingMode: 'PAY_PER_REQUEST', warmWriteUnitsPerSec: 4000 },
    });
  });

  it('reads provisioned pollers, reserved concurrency, warm and maximum throughput', () => {
    // Prepare
    const stack = writePathStack({
      eventSource: {
        ScalingConfig: undefined,
        ProvisionedPollerConfig: { MinimumPollers: 4, MaximumPollers: 40 },
      },
      function: { ReservedConcurrentExecutions: 25 },
      environment: { MAX_CONCURRENCY: '32' },
      table: {
        WarmThroughput: { WriteUnitsPerSecond: 50_000 },
        OnDemandThroughput: { MaxWriteRequestUnits: 80_000 },
      },
    });
    // Act
    const settings = settingsFromTemplates([stack]);
    // Assess
    expect(settings.eventSource).toEqual({
      batchSize: 1000,
      maxBatchingWindowSeconds: 1,
      provisionedPollers: { minimum: 4, maximum: 40 },
    });
    expect(settings.lambda).toMatchObject({ reservedConcurrency: 25, writeConcurrency: 32 });
    expect(settings.table).toEqual({
      billingMode: 'PAY_PER_REQUEST',
      warmWriteUnitsPerSec: 50_000,
      maxWriteRequestUnits: 80_000,
    });
  });

  it('reads a provisioned table’s write capacity', () => {
    // Act
    const settings = settingsFromTemplates([
      writePathStack({
        table: { BillingMode: 'PROVISIONED', ProvisionedThroughput: { WriteCapacityUnits: 300 } },
      }),
    ]);
    // Assess
    expect(settings.table).toMatchObject({ billingMode: 'PROVISIONED', provisionedWriteUnits: 300 });
  });

  it('names the stack when no function has TABLE_ROUTES', () => {
    // Prepare
    const stack = writePathStack({ environment: { TABLE_ROUTES: undefined } });
    // Act / Assess
    expect(() => settingsFromTemplates([stack])).toThrow(TemplateSettingsError);
    expect(() => settingsFromTemplates([stack])).toThrow(/WritePath: no stack holds the batch writer/);
  });

  it('names the property whose value is not a number', () => {
    // Prepare
    const stack = writePathStack({ eventSource: { BatchSize: { Ref: 'BatchSizeParameter' } } });
    // Act / Assess
    expect(() => settingsFromTemplates([stack])).toThrow(/WritePath\/Mapping\.BatchSize: expected a number/);
  });

  it('refuses a batch writer without an event source mapping', () => {
    // Prepare
    const stack = writePathStack({ eventSource: { FunctionName: { Ref: 'Other' } } });
    // Act / Assess
    expect(() => settingsFromTemplates([stack])).toThrow(/has no event source mapping/);
  });
});
