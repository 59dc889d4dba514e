import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  commandLineOf,
  emulatorPaths,
  isProcessAlive,
  readEmulatorsFile,
  stopEmulatorDaemons,
} from '../../../../../shared/local/aws/daemons.ts';
import { LocalStateError } from '../../../../../shared/local/errors.ts';

describe('emulator daemons state', () => {
  let stateDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'daemons-'));
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  const record = (pid: number) =>
    writeFileSync(
      emulatorPaths(stateDir).file,
      JSON.stringify({
        region: 'us-east-1',
        dynamodb: { pid, port: 40001, endpoint: 'http://127.0.0.1:40001' },
        sqs: { pid, port: 40002, endpoint: 'http://127.0.0.1:40002' },
      }),
    );

  it('never signals a recorded pid whose command line is not its daemon (a recycled pid)', async () => {
    // Prepare: the file names this very test process.
    record(process.pid);
    // Act
    const stopped = await stopEmulatorDaemons(stateDir);
    // Assess
    expect(stopped).toEqual([]);
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(existsSync(emulatorPaths(stateDir).file)).toBe(false);
  });

  it('wipes the whole state directory on request', async () => {
    // Prepare
    mkdirSync(emulatorPaths(stateDir).dbPath, { recursive: true });
    record(process.pid);
    // Act
    await stopEmulatorDaemons(stateDir, { wipe: true });
    // Assess
    expect(existsSync(stateDir)).toBe(false);
  });

  it('rejects an emulators.json it did not write with STATE_INVALID', async () => {
    // Prepare
    writeFileSync(emulatorPaths(stateDir).file, '{"region":"us-east-1","dynamodb":{"pid":-1}}');
    // Act
    const read = readEmulatorsFile(stateDir);
    // Assess
    await expect(read).rejects.toThrow(LocalStateError);
    await expect(readEmulatorsFile(stateDir)).rejects.toThrow(
      expect.objectContaining({ code: 'STATE_INVALID' }),
    );
  });

  it('reads a process’s command line from /proc', () => {
    // Act / Assess
    expect(commandLineOf(process.pid)).toContain(process.execPath);
    expect(commandLineOf(2 ** 22 + 1)).toEqual([]);
  });
});
