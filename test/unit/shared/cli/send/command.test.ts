import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { writeStackFile } from '../../../../../shared/local/resources/stack-file.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

// Nothing listens on port 9: these runs must stop before sending anything.
const queueUrl = 'http://127.0.0.1:9/123456789012/ingest';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-send-'));
  await writeFile(
    join(dir, 'bad-json.jsonl'),
    [
      '{"op":"put","item":{"pk":"a","sk":"1"}}',
      '',
      '{"op":"put","item":{"pk":"b"',
      '{"op":"put","item":{}}',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'bad-version.jsonl'),
    ['{"op":"put","item":{"pk":"a","sk":"1"}}', '{"op":"delete","key":{"pk":"a"},"version":-2}'].join('\n'),
  );
  await writeFile(join(dir, 'good.jsonl'), '{"op":"put","item":{"pk":"a","sk":"1"}}\n');
  await writeFile(
    join(dir, 'bad-tenant.jsonl'),
    [
      '{"op":"put","item":{"pk":"a","sk":"1","tenant":"acme"}}',
      '{"op":"delete","key":{"pk":"a","sk":"1"}}',
      '{"op":"put","item":{"pk":"b","sk":"1","tenant":"acme corp"}}',
    ].join('\n'),
  );
  await mkdir(join(dir, 'a-directory'));
  await mkdir(join(dir, 'other', '.local'), { recursive: true });
  await writeStackFile(
    {
      region: 'us-east-1',
      endpoints: { dynamodb: 'http://127.0.0.1:9', sqs: 'http://127.0.0.1:9' },
      queues: { orders: { url: 'http://127.0.0.1:9/123456789012/orders' } },
      tables: {},
    },
    join(dir, 'other', '.local', 'stack.json'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function send(args: string[], cwd = dir) {
  const io = memoryIo({ cwd });
  const code = await runCli(['send', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('pipeline send input errors (exit 2, nothing sent)', () => {
  it.each([
    [['--count', 'abc'], "option '--count <n>' argument 'abc' is invalid. expected an integer ≥ 1"],
    [['--count', '10', '--invalid-rate', '1.5'], 'expected a number from 0 to 1'],
    [['--count', '10', '--key-dist', 'zipf:x'], 'expected uniform or zipf:<s> with s ≥ 0'],
    [['--count', '10', '--table', 'bad table'], 'expected 1-64 characters'],
    [['--count', '10', '--bogus'], "unknown option '--bogus'"],
    [
      ['--count', '10', '--queue', 'ingest'],
      "option '--queue-url <url>' cannot be used with option '--queue <name>'",
    ],
    [[], 'nothing to send: give a JSONL file, - for stdin, or --count <n>'],
    [['good.jsonl', '--count', '5'], 'not both'],
    [
      ['good.jsonl', '--keys', '5', '--versions'],
      '--keys, --versions apply to synthetic workloads (--count) only',
    ],
    [['--count', '5', '--shuffle-versions'], '--shuffle-versions needs --versions'],
    [['--count', '5', '--fifo-groups', '4'], '--fifo-groups applies to FIFO queues only'],
    [['--count', '5', '--tenant', 'acme corp'], 'expected 1-128 letters, digits and ASCII punctuation'],
    [
      ['--count', '5', '--tenant', 'a', '--tenant-key', 'pk'],
      "option '--tenant-key <attribute>' cannot be used with option '--tenant <id>'",
    ],
    [
      ['--count', '5', '--tenant-key', 'tenant'],
      '--tenant-key tenant: synthetic items have no such attribute; use one of pk, sk, seq',
    ],
    [
      ['--count', '5', '--traceparent', `00-${'0'.repeat(32)}-${'a'.repeat(16)}-01`],
      'expected a W3C traceparent, 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>',
    ],
  ])('refuses %j', async (args, message) => {
    // Act
    const { code, out, err } = await send([...args, '--queue-url', queueUrl]);
    // Assess
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(out).toBe('');
  });

  it.each([
    ['--tenant', 'acme'],
    ['--tenant-key', 'pk'],
  ])('refuses %s for a FIFO queue, whose groups come from --fifo-groups', async (flag, value) => {
    const { code, err } = await send(['--count', '5', flag, value, '--queue-url', `${queueUrl}.fifo`]);
    expect(code).toBe(2);
    expect(err).toContain(`${flag} applies to standard queues (SQS fair queues) only`);
  });

  it('names the line of a file whose tenant SQS would refuse, and sends nothing', async () => {
    const { code, err } = await send(['bad-tenant.jsonl', '--tenant-key', 'tenant', '--queue-url', queueUrl]);
    expect(code).toBe(2);
    expect(err).toContain(
      'bad-tenant.jsonl:3: INVALID_TENANT: tenant "acme corp" of put items {"pk":"b","sk":"1"}: character U+0020',
    );
    expect(err).toContain('(nothing was sent)');
  });

  it('names the malformed line of a file and sends nothing', async () => {
    const { code, out, err } = await send(['bad-json.jsonl', '--queue-url', queueUrl]);
    expect(code).toBe(2);
    expect(err).toMatch(/bad-json\.jsonl:3: not valid JSON: .* \(nothing was sent\)/);
    expect(out).toBe('');
  });

  it('names a line the batch writer would reject, with the reason', async () => {
    const { code, err } = await send(['bad-version.jsonl', '--queue-url', queueUrl]);
    expect(code).toBe(2);
    expect(err).toContain('bad-version.jsonl:2: INVALID_VERSION: version: must be ≥ 0 (nothing was sent)');
  });

  it.each([
    ['missing.jsonl', /cannot read .*missing\.jsonl: ENOENT/],
    ['a-directory', /cannot read .*a-directory: not a regular file/],
  ])('reports an unreadable file: %s', async (file, message) => {
    const { code, err } = await send([file, '--queue-url', queueUrl]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('asks for the local stack when no stack file names the queue', async () => {
    const missing = await send(['good.jsonl']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('npm run local');

    const unknown = await send([join(dir, 'good.jsonl')], join(dir, 'other'));
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no queue named "ingest" (known: orders)');
  });

  it('prints help and exits 0', async () => {
    const io = memoryIo({ cwd: dir });
    const code = await runCli(['send', '--help'], io);
    expect(code).toBe(0);
    expect(io.out()).toContain('--key-dist <dist>');
  });
});
