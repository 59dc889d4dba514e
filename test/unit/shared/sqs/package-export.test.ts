import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('the ./producer package export', () => {
  it('builds to plain JavaScript that Node.js imports without a TypeScript loader', () => {
    // Act: build as `npm install` (prepare) does, then import in a bare Node.js process.
    execFileSync('npm', ['run', '--silent', 'build:producer'], { cwd: root, stdio: 'pipe' });
    const script = `
      const { PipelineProducer, InvalidMessageError } = await import('sqs-dynamodb-batch-pipeline/producer');
      const { validateMessage } = await import('sqs-dynamodb-batch-pipeline/contract');
      const producer = new PipelineProducer({ queueUrl: 'http://127.0.0.1:1/000000000000/q' });
      const refused = await producer.put({}, { version: -1 }).catch((e) => e instanceof InvalidMessageError);
      await producer.close();
      console.log(JSON.stringify({ refused, valid: validateMessage({ op: 'delete', key: { pk: 'a' } }).op }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    // Assess
    expect(JSON.parse(out.trim())).toEqual({ refused: true, valid: 'delete' });
  });
});
