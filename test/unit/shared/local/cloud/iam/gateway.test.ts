import { describe, expect, it } from 'vitest';
import { rewriteQueueUrls } from '../../../../../../shared/local/cloud/iam/index.ts';

const gateway = 'http://127.0.0.1:5000';

describe('rewriteQueueUrls', () => {
  it('points JSON QueueUrl, QueueUrls and queueUrls at the gateway, whatever host they named', () => {
    // Prepare
    const body = JSON.stringify({
      QueueUrl: 'http://127.0.0.1:4100/123456789012/a',
      QueueUrls: ['http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/b'],
      queueUrls: ['http://localhost:4566/000000000000/c.fifo'],
    });
    // Act
    const rewritten = JSON.parse(rewriteQueueUrls(body, gateway));
    // Assess
    expect(rewritten).toEqual({
      QueueUrl: `${gateway}/123456789012/a`,
      QueueUrls: [`${gateway}/000000000000/b`],
      queueUrls: [`${gateway}/000000000000/c.fifo`],
    });
  });

  it('points the XML <QueueUrl> elements of a query-protocol answer at the gateway', () => {
    // Prepare
    const body =
      '<?xml version="1.0"?><GetQueueUrlResponse><GetQueueUrlResult>' +
      '<QueueUrl>http://127.0.0.1:4100/123456789012/a</QueueUrl></GetQueueUrlResult></GetQueueUrlResponse>';
    // Act
    const rewritten = rewriteQueueUrls(body, gateway);
    // Assess
    expect(rewritten).toContain(`<QueueUrl>${gateway}/123456789012/a</QueueUrl>`);
  });

  it('leaves other fields alone, so a message body holding a URL keeps its MD5', () => {
    // Prepare
    const body = JSON.stringify({ Messages: [{ Body: 'http://127.0.0.1:4100/123456789012/a' }] });
    // Act
    const rewritten = rewriteQueueUrls(body, gateway);
    // Assess
    expect(rewritten).toBe(body);
  });
});
