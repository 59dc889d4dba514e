import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireStateLock,
  localCloudStatePath,
  readLocalCloudState,
  writeLocalCloudState,
} from '../../../../../shared/local/cloud/state.ts';
import { LocalStateError } from '../../../../../shared/local/errors.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('the state directory lock', () => {
  let stateDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'local-state-'));
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('writes this process’s pid to local.pid and removes it on release', () => {
    // Act
    const lock = acquireStateLock(stateDir);
    // Assess
    expect(readFileSync(join(stateDir, 'local.pid'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('refuses a second run while the first one lives, naming its pid', () => {
    // Prepare
    const first = acquireStateLock(stateDir);
    // Act
    const second = () => acquireStateLock(stateDir, process.pid + 100_000);
    // Assess
    expect(second).toThrow(LocalStateError);
    expect(second).toThrow(expect.objectContaining({ code: 'STATE_LOCKED', pid: process.pid }));
    expect(second).toThrow(`pid ${process.pid}`);
    first.release();
  });

  it('takes over a pid file whose process is gone', () => {
    // Prepare
    writeFileSync(join(stateDir, 'local.pid'), `${deadPid()}\n`);
    // Act
    const lock = acquireStateLock(stateDir);
    // Assess
    expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a pid file a crash left empty', () => {
    // Prepare
    writeFileSync(join(stateDir, 'local.pid'), '');
    // Act
    const lock = acquireStateLock(stateDir);
    // Assess
    expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('leaves a lock another run took over alone on release', () => {
    // Prepare
    const lock = acquireStateLock(stateDir);
    writeFileSync(lock.path, '4242\n');
    // Act
    lock.release();
    // Assess
    expect(readFileSync(lock.path, 'utf8')).toBe('4242\n');
  });
});

describe('the local cloud state file', () => {
  let stateDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'local-state-'));
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('keeps the gateway ports for the next run', () => {
    // Act
    writeLocalCloudState(stateDir, { gatewayPorts: { dynamodb: 40001, sqs: 40002 } });
    // Assess
    expect(readLocalCloudState(stateDir)).toEqual({ gatewayPorts: { dynamodb: 40001, sqs: 40002 } });
  });

  it('is absent before the first run', () => {
    // Act / Assess
    expect(readLocalCloudState(stateDir)).toBeUndefined();
  });

  it('rejects a file it did not write with STATE_INVALID', () => {
    // Prepare
    writeFileSync(localCloudStatePath(stateDir), '{"gatewayPorts":{"sqs":"x"}}');
    // Act
    const read = () => readLocalCloudState(stateDir);
    // Assess
    expect(read).toThrow(expect.objectContaining({ code: 'STATE_INVALID' }));
    expect(read).toThrow(/--fresh/);
  });
});
