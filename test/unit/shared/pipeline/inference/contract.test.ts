import { describe, expect, it } from 'vitest';
import { parseInferenceRequest, salvageJobId } from '../../../../../shared/pipeline/inference/contract.ts';
import { InvalidWorkMessageError } from '../../../../../shared/pipeline/inference/errors.ts';
import {
  jobsTableTarget,
  jobWrite,
  statusRank,
} from '../../../../../shared/pipeline/inference/job-status.ts';
import {
  encodeWorkMessage,
  parseWorkMessage,
} from '../../../../../shared/pipeline/inference/work-message.ts';
import { request, workJob } from '../../../../support/fakes/inference.ts';

describe('inference request contract', () => {
  it('accepts an inline tensor and an S3 input', () => {
    // Act
    const inline = parseInferenceRequest(JSON.stringify(request('a')));
    const s3 = parseInferenceRequest(
      JSON.stringify(request('b', { input: { s3Uri: 's3://my-bucket/in/b.json' } })),
    );
    // Assess
    expect(inline.input).toEqual({ shape: [2, 2], data: [0.1, 0.2, 0.3, 0.4] });
    expect(s3.input).toEqual({ s3Uri: 's3://my-bucket/in/b.json' });
  });

  it.each([
    [{ ...request('a'), extra: 1 }, '(root)'],
    [request('a b'), 'jobId'],
    [request('a', { model: '' }), 'model'],
    [
      request('a', { input: { shape: [2, 2], data: [1, 2, 3] } }),
      'input.data: has 3 values; shape [2, 2] needs 4',
    ],
    [request('a', { input: { shape: [0], data: [] } }), 'input.shape.0'],
    [request('a', { input: { s3Uri: 'https://example.com/x' } }), 'input'],
    [request('a', { input: { shape: [1], data: ['1'] } }), 'input'],
  ])('rejects %j, naming %s', (body, path) => {
    // Act & Assess
    expect(() => parseInferenceRequest(JSON.stringify(body))).toThrow(path);
  });

  it('rejects a body that is not JSON with a stable code', () => {
    // Act & Assess
    expect(() => parseInferenceRequest('{')).toThrow(
      expect.objectContaining({ code: 'INVALID_INFERENCE_REQUEST' }),
    );
  });

  it('salvages a usable jobId from an invalid request, and nothing from garbage', () => {
    // Act & Assess
    expect(salvageJobId(JSON.stringify({ jobId: 'order-1/photo-2', model: 7 }))).toBe('order-1/photo-2');
    expect(salvageJobId(JSON.stringify({ jobId: 'has space' }))).toBeUndefined();
    expect(salvageJobId('[1]')).toBeUndefined();
    expect(salvageJobId('nope')).toBeUndefined();
  });
});

describe('work message', () => {
  it('round-trips jobs', () => {
    // Prepare
    const jobs = [workJob('a'), { ...workJob('b'), input: { s3Uri: 's3://bucket/key' } }];
    // Act
    const parsed = parseWorkMessage('m1', encodeWorkMessage(jobs));
    // Assess
    expect(parsed.jobs).toEqual(jobs);
  });

  it('names the message and the field when a body is not a work message', () => {
    // Act & Assess
    expect(() => parseWorkMessage('m1', '{"v":2,"jobs":[]}')).toThrow(InvalidWorkMessageError);
    expect(() => parseWorkMessage('m1', '{"v":1,"jobs":[{"jobId":"a"}]}')).toThrow(
      /work message m1: jobs\.0\./,
    );
  });
});

describe('job status', () => {
  it('ranks states so that a job only moves forward and both terminal states rank equal', () => {
    // Assess
    expect(statusRank.QUEUED).toBeLessThan(statusRank.RUNNING);
    expect(statusRank.RUNNING).toBeLessThan(statusRank.DONE);
    expect(statusRank.DONE).toBe(statusRank.FAILED);
  });

  it('writes a record as a put versioned by its status rank, without undefined attributes', () => {
    // Act
    const write = jobWrite(jobsTableTarget('jobs'), {
      jobId: 'a',
      status: 'RUNNING',
      startedAt: 5,
      expiresAt: 9,
      error: undefined,
    });
    // Assess
    expect(write).toEqual({
      op: 'put',
      target: { tableName: 'jobs', partitionKey: 'jobId' },
      item: { jobId: 'a', status: 'RUNNING', startedAt: 5, expiresAt: 9 },
      version: 2,
    });
  });
});
