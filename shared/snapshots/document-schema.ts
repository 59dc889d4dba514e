import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type DocumentIssue, InvalidDocumentSchemaError, InvalidSnapshotDocumentError } from './errors.ts';

/** The drafts a snapshot's JSON Schema may declare in `$schema` (none: 2020-12). */
export const SUPPORTED_SCHEMA_DRAFTS = {
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
  '07': 'http://json-schema.org/draft-07/schema',
} as const;

/** Largest schema text stored: it is one item of the snapshots table (DynamoDB's limit is 400 KB). */
export const MAX_SCHEMA_BYTES = 300_000;

/** Issues listed in an error's message; `issues` holds them all. */
const ISSUES_IN_MESSAGE = 5;

/**
 * Options shared by both drafts: report every issue, refuse unknown keywords (a typo such as
 * `requierd` would otherwise check nothing), and leave `format` unchecked — ajv-formats is not a
 * dependency, so a `format` is accepted and ignored rather than half-checked.
 */
const AJV_OPTIONS = {
  allErrors: true,
  strictSchema: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  validateFormats: false,
  logger: false,
} as const;

/** Checks one document; throws `InvalidSnapshotDocumentError` listing every issue. */
export type DocumentSchemaCheck = (document: unknown) => void;

const compiled = new Map<string, DocumentSchemaCheck>();

/**
 * Compiles a snapshot's JSON Schema (draft 2020-12, or draft-07 when `$schema` says so). Throws
 * `InvalidDocumentSchemaError` for text that is not JSON, a draft it does not support, or a schema
 * ajv refuses. Compiled checks are kept by the schema's hash, so a warm Lambda compiles once.
 */
export function compileDocumentSchema(snapshot: string, text: string): DocumentSchemaCheck {
  const key = `${snapshot}\u0000${sha256(text)}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) {
    throw new InvalidDocumentSchemaError(
      snapshot,
      `is ${Buffer.byteLength(text)} bytes; the limit is ${MAX_SCHEMA_BYTES}`,
    );
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (cause) {
    throw new InvalidDocumentSchemaError(snapshot, `is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (
    typeof schema !== 'boolean' &&
    (typeof schema !== 'object' || schema === null || Array.isArray(schema))
  ) {
    throw new InvalidDocumentSchemaError(snapshot, 'must be a JSON object (or true/false)');
  }
  let validate: ValidateFunction;
  try {
    validate = ajvFor(snapshot, schema).compile(schema as object | boolean);
  } catch (cause) {
    if (cause instanceof InvalidDocumentSchemaError) throw cause;
    throw new InvalidDocumentSchemaError(snapshot, (cause as Error).message, { cause });
  }
  const check: DocumentSchemaCheck = (document) => {
    if (validate(document)) return;
    const issues = (validate.errors ?? []).map(issueOf);
    throw schemaViolation(snapshot, issues);
  };
  if (compiled.size >= 32) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, check);
  return check;
}

/** sha256 (hex) of a schema's text, as the store records it. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function ajvFor(snapshot: string, schema: unknown): Ajv | Ajv2020 {
  const declared =
    typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  const draft = typeof declared === 'string' ? declared.replace(/#$/, '') : declared;
  if (draft === undefined || draft === SUPPORTED_SCHEMA_DRAFTS['2020-12']) return new Ajv2020(AJV_OPTIONS);
  if (draft === SUPPORTED_SCHEMA_DRAFTS['07']) return new Ajv(AJV_OPTIONS);
  throw new InvalidDocumentSchemaError(
    snapshot,
    `$schema ${JSON.stringify(declared)} is not supported; use ${Object.values(SUPPORTED_SCHEMA_DRAFTS).join(' or ')} (or leave it out for 2020-12)`,
  );
}

/** One ajv error as a path and a message; a missing or extra property is named in the path. */
function issueOf(error: ErrorObject): DocumentIssue {
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty !== undefined) {
    return { path: `${error.instancePath}/${escapeKey(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    return {
      path: `${error.instancePath}/${escapeKey(params.additionalProperty)}`,
      message: 'is not allowed by the schema',
    };
  }
  return { path: error.instancePath, message: error.message ?? error.keyword };
}

function schemaViolation(snapshot: string, issues: readonly DocumentIssue[]): InvalidSnapshotDocumentError {
  const [first, ...rest] = issues.length > 0 ? issues : [{ path: '', message: 'is invalid' }];
  const listed = rest
    .slice(0, ISSUES_IN_MESSAGE - 1)
    .map((issue) => `; ${issue.path || '(root)'}: ${issue.message}`)
    .join('');
  const more =
    rest.length > ISSUES_IN_MESSAGE - 1 ? `; and ${rest.length - (ISSUES_IN_MESSAGE - 1)} more` : '';
  return new InvalidSnapshotDocumentError(
    first!.path,
    `${first!.message}${listed}${more} (JSON Schema of snapshot "${snapshot}")`,
    { issues },
  );
}

function escapeKey(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
