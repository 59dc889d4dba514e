/**
 * A workload sample for `pipeline advise`: one JSON object per line, each
 *
 * - a contract-v1 message (`{ "op": "put", … }`), as `pipeline send` reads them;
 * - a message with the time it was sent: `{ "sentAt": <epoch ms | ISO 8601>, "message": { … } }`;
 * - a read the application makes: `{ "sentAt"?: …, "read": { "table"?: "items", "key": { … } } }`.
 *
 * Timestamps give the sample's rate and burstiness; reads give the read/write ratio.
 */

import { z } from 'zod';
import { type Message, validateMessage } from '../../contract/index.ts';
import { PipelineError } from '../../core/errors.ts';
import { SampleLineError } from './errors.ts';

export type SampleRecord =
  | {
      readonly line: number;
      readonly at?: number;
      readonly kind: 'write';
      readonly message: Message;
      readonly bodyBytes: number;
    }
  | {
      readonly line: number;
      readonly at?: number;
      readonly kind: 'read';
      readonly table?: string;
      readonly key: Readonly<Record<string, string | number>>;
    };

const sentAt = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), 'must be epoch milliseconds or an ISO 8601 time'),
]);

const EnvelopeSchema = z.strictObject({ sentAt, message: z.unknown() });
const ReadSchema = z.strictObject({
  sentAt: sentAt.optional(),
  read: z.strictObject({
    table: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional(),
    key: z.record(z.string().min(1), z.union([z.string(), z.number()])),
  }),
});

/** One line of a sample; throws `SampleLineError` (with the line number) for a line it cannot use. */
export function parseSampleLine(text: string, line: number): SampleRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SampleLineError(line, `not valid JSON: ${(error as Error).message}`);
  }
  if (json !== null && typeof json === 'object' && 'read' in json) {
    const read = ReadSchema.safeParse(json);
    if (!read.success) throw new SampleLineError(line, issueText('read line', read.error));
    const { table, key } = read.data.read;
    return { line, ...timeOf(read.data.sentAt), kind: 'read', ...(table ? { table } : {}), key };
  }
  let value = json;
  let at: { at?: number } = {};
  if (json !== null && typeof json === 'object' && 'sentAt' in json) {
    const envelope = EnvelopeSchema.safeParse(json);
    if (!envelope.success) throw new SampleLineError(line, issueText('envelope', envelope.error));
    value = envelope.data.message;
    at = timeOf(envelope.data.sentAt);
  }
  try {
    const message = validateMessage(value);
    return { line, ...at, kind: 'write', message, bodyBytes: Buffer.byteLength(JSON.stringify(message)) };
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    throw new SampleLineError(line, `${error.code}: ${error.message}`, { cause: error });
  }
}

function timeOf(value: number | string | undefined): { at?: number } {
  if (value === undefined) return {};
  return { at: typeof value === 'number' ? value : Date.parse(value) };
}

function issueText(what: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${what} ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}
