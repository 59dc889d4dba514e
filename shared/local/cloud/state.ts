import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { commandLineOf, isProcessAlive } from '../aws/daemons.ts';
import { LocalStateError, LocalStateErrorCode } from '../errors.ts';
import { readStateFile, writeStateFile } from '../state-file.ts';

/** The lock of a state directory, held while one `npm run local` uses it. */
export interface StateLock {
  readonly path: string;
  /** Removes the pid file if it is still this process's. Safe to call twice; synchronous, for `process.on('exit')`. */
  release(): void;
}

/**
 * Takes `<stateDir>/local.pid` for this process: one `npm run local` per state directory. A pid
 * file whose process is gone (a `kill -9`, a reboot) is stale and taken over.
 *
 * @throws LocalStateError `STATE_LOCKED` naming the pid of the process that holds it.
 */
export function acquireStateLock(stateDir: string, pid: number = process.pid): StateLock {
  mkdirSync(resolve(stateDir), { recursive: true });
  const path = join(resolve(stateDir), 'local.pid');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readPid(path);
    if (holder !== undefined && holder !== pid && isRunning(holder)) {
      throw new LocalStateError(
        LocalStateErrorCode.locked,
        path,
        `another npm run local (pid ${holder}) uses this state directory; stop it or pass another --state-dir`,
        holder,
      );
    }
    if (attempt >= 3) {
      throw new LocalStateError(LocalStateErrorCode.locked, path, 'could not be taken over', holder);
    }
    // Stale (or half-written by a process that died): take it over.
    unlinkSync(path);
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      if (readPid(path) === pid) unlinkSync(path);
    },
  };
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (a zombie's command line is empty). */
function isRunning(pid: number): boolean {
  return isProcessAlive(pid) && commandLineOf(pid).length > 0;
}

const LocalCloudStateSchema = z.object({
  /** The ports the IAM gateways had, asked for again so that queue URLs stay the same. */
  gatewayPorts: z.object({
    dynamodb: z.number().int().min(1).max(65_535).optional(),
    sqs: z.number().int().min(1).max(65_535).optional(),
  }),
});

/** `<stateDir>/local-cloud.json`: what a run of the local cloud keeps for the next. */
export type LocalCloudState = z.infer<typeof LocalCloudStateSchema>;

/** The file `readLocalCloudState` reads. */
export function localCloudStatePath(stateDir: string): string {
  return join(resolve(stateDir), 'local-cloud.json');
}

/**
 * The state the previous run left, or undefined when there is none.
 *
 * @throws LocalStateError `STATE_INVALID` when the file is not what `writeLocalCloudState` writes.
 */
export function readLocalCloudState(stateDir: string): LocalCloudState | undefined {
  return readStateFile(
    localCloudStatePath(stateDir),
    LocalCloudStateSchema,
    'is not what npm run local writes; start with --fresh',
  );
}

/** Writes `<stateDir>/local-cloud.json` atomically. */
export function writeLocalCloudState(stateDir: string, state: LocalCloudState): void {
  writeStateFile(localCloudStatePath(stateDir), LocalCloudStateSchema.parse(state));
}
