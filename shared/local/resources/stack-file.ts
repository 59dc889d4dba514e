import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { StackFileError } from '../errors.ts';

const StackSchema = z.object({
  region: z.string().min(1),
  endpoints: z.object({ dynamodb: z.string().url(), sqs: z.string().url() }),
  /** Logical queue name (`ingest`, …) → its URL and its DLQ's URL. */
  queues: z.record(z.string(), z.object({ url: z.string().url(), dlqUrl: z.string().url().optional() })),
  /** Logical table name (`items`, …) → physical table name. */
  tables: z.record(z.string(), z.string().min(1)),
  /** Physical tables a config snapshot may route to (the batch writer's GRANTED_TABLES). */
  grantedTables: z.array(z.string().min(1)).optional(),
});

/** What `npm run local` started and created, for other tools (the CLI, the demo) to find. */
export type LocalStack = z.infer<typeof StackSchema>;

/** Where the stack file lives, relative to the working directory. */
export const DEFAULT_STACK_FILE = join('.local', 'stack.json');

/** Writes the stack file atomically (temp file + rename), creating `.local/` when needed. */
export async function writeStackFile(stack: LocalStack, path = DEFAULT_STACK_FILE): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(StackSchema.parse(stack), null, 2)}\n`);
  await rename(temporary, path);
}

/**
 * Reads and validates the stack file.
 *
 * @throws StackFileError when it is missing (is `npm run local` running?) or malformed.
 */
export async function readStackFile(path = DEFAULT_STACK_FILE): Promise<LocalStack> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new StackFileError(path, 'cannot be read; start the local stack with `npm run local`', { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StackFileError(path, 'is not valid JSON', { cause });
  }
  const parsed = StackSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StackFileError(path, `${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}
