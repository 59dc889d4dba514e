import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// `npm start` and `npm run demo:inference` as a user runs them: child processes that start their own
// emulators and deploy the synthesized app (the run's fresh cdk.out, so nothing synthesizes here),
// writing their outputs into a temporary directory instead of .local/.

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const tsxCli = join(projectRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** Each run starts its own emulators and functions: on 2 shared cores that can take minutes. */
const RUN_TIMEOUT_MS = 300_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a demo entry point with the Node that runs the tests; resolves when it exits. */
function runDemo(entry: string, localDir: string): Promise<Run> {
  // The integration worker points the SDK at the shared emulators: the demo starts its own.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_ENDPOINT_URL_')),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [tsxCli, entry, '--local-dir', localDir, '--assembly', inject('cloudAssemblyDir')],
      { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The value printed after a summary row's label. */
function row(stdout: string, label: string): string | undefined {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(label));
  return line?.slice(line.indexOf(label) + label.length).trim();
}

describe('npm start', () => {
  let localDir: string;
  let run: Run;

  beforeAll(async () => {
    localDir = await mkdtemp(join(tmpdir(), 'npm-start-'));
    run = await runDemo('shared/local/dev/start.ts', localDir);
  }, RUN_TIMEOUT_MS);

  afterAll(async () => {
    await rm(localDir, { recursive: true, force: true });
  });

  it('passes every check and exits 0', () => {
    // Assess
    expect(run.stdout).toContain('all checks passed');
    // stderr in the failure message says why not.
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
  });

  it('deploys every stack from the assembly and writes the outputs and stack files', async () => {
    // Assess
    const outputs = JSON.parse(await readFile(join(localDir, 'outputs.json'), 'utf8'));
    const stack = JSON.parse(await readFile(join(localDir, 'stack.json'), 'utf8'));
    expect(Object.keys(outputs).sort()).toEqual(['GpuInference', 'WritePath']);
    expect(stack.queues.ingest.url).toBe(outputs.WritePath.IngestQueueUrl);
    expect(run.stdout).toMatch(/^not emulated: .*AWS::CloudWatch::Alarm ×\d+/m);
  });

  it('summarises the write path from its metrics, DLQ and table, and checks the final state', () => {
    // Assess
    expect(row(run.stdout, 'messages sent')).toBe('2656');
    expect(Number(row(run.stdout, 'Lambda invocations'))).toBeGreaterThan(0);
    expect(Number(row(run.stdout, 'items written (DynamoDB writes)'))).toBeGreaterThanOrEqual(600);
    expect(row(run.stdout, 'rejected → DLQ')).toBe('6 (DLQ holds 6)');
    expect(row(run.stdout, 'retryable failures')).toBe('0');
    expect(Number(row(run.stdout, 'conditional writes'))).toBeGreaterThan(0);
    expect(row(run.stdout, 'items in table (incl. tombstones)')).toBe('600');
    expect(run.stdout).toContain(
      'check: table state as the workload implies (500 profiles, 50 at version 6, 50 tombstones); 6 dead-lettered',
    );
  });

  it('shows a routing change taking effect on the batch writer, a dead-lettered change, a canary and a rollback', () => {
    // Assess
    const changed =
      /→ version (\d+): routes items, audit, maxConcurrency 16; config-changes DLQ: CHANGE_REJECTED/.exec(
        run.stdout,
      );
    const canary = /canary: version \d+ at 25% → ([\d.]+)% of 1,000 callers/.exec(run.stdout);
    const rollback = /rollback: generation \d+, everyone on version (\d+) \(candidate none\)/.exec(
      run.stdout,
    );
    expect(run.stdout).toContain('before any change: an `audit` write → DLQ UNKNOWN_TABLE');
    expect(changed).not.toBeNull();
    expect(run.stdout).toContain('batch writer after the change: audit message written');
    expect(Math.abs(Number(canary?.[1]) - 25)).toBeLessThan(5);
    expect(rollback?.[1]).toBe(changed?.[1]);
  });

  it('takes inference requests to DONE through the scale-from-zero path, equal to the reference', () => {
    // Assess
    expect(run.stdout).toMatch(/before: \S+ desired 0/);
    expect(run.stdout).toMatch(/after: \S+ desired [1-9]/);
    expect(run.stdout).toContain('24 DONE, 2 FAILED, 2 request(s) in the DLQ');
    expect(run.stdout).toContain('check: every job DONE and equal to the reference');
  });

  it('ends with the IAM line: no call refused', () => {
    // Assess
    expect(run.stdout).toMatch(/^IAM: \d+ calls allowed, 0 denied, over \d+ roles/m);
  });
});

describe('npm run demo:inference', () => {
  it(
    'runs the inference demo alone, on the GpuInference stack and the stack it depends on, and exits 0',
    async () => {
      // Prepare
      const localDir = await mkdtemp(join(tmpdir(), 'demo-inference-'));
      try {
        // Act
        const run = await runDemo('shared/local/dev/demo/inference.ts', localDir);
        // Assess
        const outputs = JSON.parse(await readFile(join(localDir, 'outputs.json'), 'utf8'));
        expect(Object.keys(outputs).sort()).toEqual(['GpuInference', 'WritePath']);
        expect(run.stdout).not.toContain('Config snapshots');
        expect(run.stdout).toContain('check: every job DONE and equal to the reference');
        expect(run.stdout).toMatch(/^IAM: \d+ calls allowed, 0 denied/m);
        expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
      } finally {
        await rm(localDir, { recursive: true, force: true });
      }
    },
    RUN_TIMEOUT_MS,
  );
});
