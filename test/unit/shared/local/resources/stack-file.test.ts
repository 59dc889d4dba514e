import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type LocalStack,
  readStackFile,
  writeStackFile,
} from '../../../../../shared/local/resources/stack-file.ts';

const stack: LocalStack = {
  region: 'us-east-1',
  endpoints: { dynamodb: 'http://127.0.0.1:8000', sqs: 'http://127.0.0.1:9324' },
  queues: {
    ingest: {
      url: 'http://127.0.0.1:9324/123456789012/ingest-x',
      dlqUrl: 'http://127.0.0.1:9324/123456789012/dlq-x',
    },
  },
  tables: { items: 'items-x' },
};

async function tempPath(name: string): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'stack-file-')), name);
}

describe('stack file', () => {
  it('reads back what it wrote, creating the folder', async () => {
    // Prepare
    const path = await tempPath(join('.local', 'stack.json'));
    // Act
    await writeStackFile(stack, path);
    const read = await readStackFile(path);
    // Assess
    expect(read).toEqual(stack);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(stack);
  });

  it('says how to create a missing file', async () => {
    // Prepare
    const path = await tempPath('missing.json');
    // Act
    const reading = readStackFile(path);
    // Assess
    await expect(reading).rejects.toThrow(
      expect.objectContaining({ code: 'STACK_FILE', message: expect.stringContaining('npm run local') }),
    );
  });

  it('names the field that is wrong', async () => {
    // Prepare
    const path = await tempPath('bad.json');
    await writeFile(
      path,
      JSON.stringify({ ...stack, endpoints: { dynamodb: 'not a url', sqs: stack.endpoints.sqs } }),
    );
    // Act
    const reading = readStackFile(path);
    // Assess
    await expect(reading).rejects.toThrow(/endpoints\.dynamodb/);
  });
});
