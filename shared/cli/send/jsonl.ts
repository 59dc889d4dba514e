/**
 * JSONL parsing for `pipeline send`: each non-blank line must be a contract-v1 message SQS would
 * accept. A bad line is a `BadLineError` (its number and what is wrong); a failing read, a
 * `SourceReadError`.
 */

import { type Message, validateMessage } from '../../contract/index.ts';
import { PipelineError } from '../../core/errors.ts';
import { checkEntry, messageEntry, sqsLimits, type TenantOption } from '../../sqs/index.ts';
import { SourceReadError } from '../errors.ts';
import { keyOf } from './fifo-group.ts';

/** A parsed line: the message and the key of the item it writes (for FIFO grouping). */
export interface JsonlMessage {
  readonly key: string;
  readonly message: Message;
}

/**
 * A JSONL line the batch writer (or SQS) would refuse. Internal to `send`: the command reports it
 * as a `MalformedLineError`, which also says what was sent before it.
 */
export class BadLineError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * The messages of JSONL `input` (named `name` in errors), blank lines skipped, 1-based line numbers.
 * With `tenant`, a line whose tenant SQS would refuse is a bad line too.
 */
export async function* parseLines(
  name: string,
  input: AsyncIterable<string>,
  tenant?: TenantOption,
): AsyncGenerator<JsonlMessage> {
  let line = 0;
  try {
    for await (const text of input) {
      line++;
      if (text.trim() === '') continue;
      const message = parseLine(text, line, tenant);
      yield { key: keyOf(message), message };
    }
  } catch (error) {
    if (error instanceof BadLineError || error instanceof PipelineError) throw error;
    throw new SourceReadError(name, (error as Error).message, { cause: error });
  }
}

function parseLine(text: string, line: number, tenant: TenantOption | undefined): Message {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BadLineError(line, `not valid JSON: ${(error as Error).message}`);
  }
  try {
    const message = validateMessage(json);
    checkEntry(
      messageEntry(message, {}, undefined, tenant),
      { url: '', fifo: false },
      sqsLimits.maxMessageBytes,
    );
    return message;
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    throw new BadLineError(line, `${error.code}: ${error.message}`);
  }
}
