import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { inferenceSettings } from '../../pipeline/inference/settings.ts';
import { createQueue, createTable, deleteQueue, deleteTable } from './write-path.ts';

export interface InferenceResourcesOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Makes names unique (`jobs-<suffix>`, `gpu-work-<suffix>` …). @default 8 random hex characters */
  readonly suffix?: string;
  /**
   * Receives before a gpu-work message moves to its DLQ. local-aws-sqs counts every heartbeat
   * (ChangeMessageVisibility) as a receive, so local runs need a generous one. @default 50
   */
  readonly workMaxReceiveCount?: number;
  /** gpu-work visibility timeout; lower it so a crashed worker's messages come back soon. @default 300 */
  readonly workVisibilityTimeoutSeconds?: number;
  /** @default inferenceSettings.requestsQueue.maxReceiveCount (5) */
  readonly requestsMaxReceiveCount?: number;
  /** @default 30 */
  readonly requestsVisibilityTimeoutSeconds?: number;
}

/** The GPU inference path's local resources, named as `createInferenceResources` made them. */
export interface InferenceResources {
  readonly jobsTable: string;
  readonly requestsQueueUrl: string;
  readonly requestsQueueArn: string;
  readonly requestsDlqUrl: string;
  readonly workQueueUrl: string;
  readonly workDlqUrl: string;
  /** Deletes the table and the four queues; what is already gone is skipped. */
  delete(): Promise<void>;
}

/**
 * Creates the jobs table, `inference-requests` and `gpu-work` with their DLQs the way the CDK stack
 * does (keys and TTL from `inferenceSettings`), under unique names.
 */
export async function createInferenceResources(
  options: InferenceResourcesOptions,
): Promise<InferenceResources> {
  const { dynamodb, sqs } = options;
  const suffix = options.suffix ?? randomUUID().slice(0, 8);
  const jobsTable = `jobs-${suffix}`;
  const [requestsDlq, workDlq] = await Promise.all([
    createQueue(sqs, { queueName: `inference-requests-dlq-${suffix}` }),
    createQueue(sqs, { queueName: `gpu-work-dlq-${suffix}` }),
    createTable(dynamodb, {
      tableName: jobsTable,
      partitionKey: inferenceSettings.jobsTable.partitionKey,
      ttlAttribute: inferenceSettings.jobsTable.ttlAttribute,
    }),
  ]);
  const [requests, work] = await Promise.all([
    createQueue(sqs, {
      queueName: `inference-requests-${suffix}`,
      visibilityTimeoutSeconds: options.requestsVisibilityTimeoutSeconds ?? 30,
      redrive: {
        deadLetterTargetArn: requestsDlq.arn,
        maxReceiveCount: options.requestsMaxReceiveCount ?? inferenceSettings.requestsQueue.maxReceiveCount,
      },
    }),
    createQueue(sqs, {
      queueName: `gpu-work-${suffix}`,
      visibilityTimeoutSeconds:
        options.workVisibilityTimeoutSeconds ?? inferenceSettings.workQueue.visibilityTimeoutSeconds,
      redrive: { deadLetterTargetArn: workDlq.arn, maxReceiveCount: options.workMaxReceiveCount ?? 50 },
    }),
  ]);
  return {
    jobsTable,
    requestsQueueUrl: requests.url,
    requestsQueueArn: requests.arn,
    requestsDlqUrl: requestsDlq.url,
    workQueueUrl: work.url,
    workDlqUrl: workDlq.url,
    async delete() {
      await Promise.all([
        deleteTable(dynamodb, jobsTable),
        ...[requests.url, requestsDlq.url, work.url, workDlq.url].map((url) => deleteQueue(sqs, url)),
      ]);
    },
  };
}
