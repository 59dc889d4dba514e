// The public API of the sqs producer library, and the package's `./producer` export: code outside
// shared/sqs/ imports from here only.

export { checkEntry, isFifoQueueUrl } from './limits.ts';
export * from './producer.ts';
