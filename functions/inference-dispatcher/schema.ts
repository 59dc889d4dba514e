import type { SQSRecord } from 'aws-lambda';
import type { PipelineError } from '../../shared/core/errors.ts';
import {
  type InferenceRequest,
  parseInferenceRequest,
  salvageJobId,
} from '../../shared/pipeline/inference/contract.ts';

/** One `inference-requests` record after validation. */
export type ParsedRecord =
  | { readonly ok: true; readonly record: SQSRecord; readonly request: InferenceRequest }
  | {
      readonly ok: false;
      readonly record: SQSRecord;
      readonly error: PipelineError;
      /** Present when the body carries a usable jobId: the job then gets a FAILED record. */
      readonly jobId?: string;
      readonly model?: string;
    };

/** Validates one record's body against the request contract. */
export function parseRecord(record: SQSRecord): ParsedRecord {
  try {
    return { ok: true, record, request: parseInferenceRequest(record.body) };
  } catch (error) {
    const jobId = salvageJobId(record.body);
    return { ok: false, record, error: error as PipelineError, ...(jobId ? { jobId } : {}) };
  }
}
