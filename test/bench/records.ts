import { randomUUID } from 'node:crypto';
import type { Context, SQSRecord } from 'aws-lambda';
import { createLambdaContext } from '../../shared/local/lambda/lambda-context.ts';
import { toSqsRecord } from '../../shared/local/lambda/sqs-event.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';

/** Records per Lambda batch in the write-path suites. */
export const BATCH = 1_000;
const source = { queueArn: 'arn:aws:sqs:us-east-1:123456789012:ingest', region: 'us-east-1' };

/** Lambda batches of contract-v1 puts, `bodyBytes` each, keys from `keyOf`. */
export function buildBatches(
  count: number,
  keyOf: (i: number) => string,
  bodyBytes: number,
  version?: number,
): SQSRecord[][] {
  const batches: SQSRecord[][] = [];
  for (let start = 0; start < count; start += BATCH) {
    const records: SQSRecord[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const base = JSON.stringify({
        op: 'put',
        table: 'items',
        item: { pk: keyOf(i), sk: '1', seq: i, data: '' },
        ...(version === undefined ? {} : { version }),
      });
      const body = base.replace('"data":""', `"data":"${'x'.repeat(Math.max(0, bodyBytes - base.length))}"`);
      records.push(toSqsRecord({ MessageId: randomUUID(), ReceiptHandle: `r${i}`, Body: body }, source));
    }
    batches.push(records);
  }
  return batches;
}

/** The Lambda context the batch writer gets, with its deployed timeout. */
export function lambdaContext(): Context {
  return createLambdaContext({
    functionName: 'batch-writer',
    timeoutMs: writePathSettings.function.timeoutSeconds * 1000,
    region: 'us-east-1',
  });
}
