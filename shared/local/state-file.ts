import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { LocalStateError, LocalStateErrorCode } from './errors.ts';

/**
 * Reads a JSON state file the local tooling wrote, checked against `schema`; undefined when there
 * is none.
 *
 * @throws LocalStateError `STATE_INVALID` naming the file and `hint` when it is not what `schema` says.
 */
export function readStateFile<T>(path: string, schema: z.ZodType<T>, hint: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return schema.parse(JSON.parse(text));
  } catch (cause) {
    throw new LocalStateError(LocalStateErrorCode.invalid, path, hint, undefined, { cause });
  }
}

/** Writes `value` as JSON to `path` atomically (a temporary file, then a rename), creating its folder. */
export function writeStateFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, path);
}
