import { compileDocumentSchema, type DocumentSchemaCheck, sha256 } from './document-schema.ts';
import type { DocumentSchemaRecord, SnapshotStore } from './types.ts';

/**
 * The JSON Schema of each snapshot name, kept in the store beside its versions (item `sk = schema`):
 * set it, read it, and check documents against it. A schema is compiled before it is stored, so a
 * stored schema always compiles.
 *
 * @example
 * await schemas.set('devices', await readFile('devices.schema.json', 'utf8'), { source: 'cli' });
 * await schemas.check('devices', document); // throws InvalidSnapshotDocumentError listing every issue
 */
export class SnapshotSchemas {
  constructor(
    private readonly store: SnapshotStore,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Sets (replaces) the schema of `name` from its JSON text. Throws `InvalidDocumentSchemaError`
   * (nothing stored) when it is not JSON, names an unsupported draft or does not compile. It
   * applies to publishes that start after it is stored; versions already published are not re-checked.
   */
  async set(name: string, text: string, options: { source?: string } = {}): Promise<DocumentSchemaRecord> {
    compileDocumentSchema(name, text);
    const record: DocumentSchemaRecord = {
      name,
      schema: text,
      sha256: sha256(text),
      updatedAt: this.clock().toISOString(),
      updatedBy: options.source ?? 'unknown',
    };
    await this.store.putSchema(record);
    return record;
  }

  get(name: string): Promise<DocumentSchemaRecord | undefined> {
    return this.store.getSchema(name);
  }

  /** Removes the schema; resolves `false` when `name` had none. */
  delete(name: string): Promise<boolean> {
    return this.store.deleteSchema(name);
  }

  /** The check of `name`'s current schema (one read of the store); `undefined` when it has none. */
  async checkFor(name: string): Promise<DocumentSchemaCheck | undefined> {
    const record = await this.store.getSchema(name);
    return record === undefined ? undefined : compileDocumentSchema(name, record.schema);
  }

  /** Checks `document` against `name`'s current schema, if any; throws `InvalidSnapshotDocumentError`. */
  async check(name: string, document: unknown): Promise<void> {
    (await this.checkFor(name))?.(document);
  }
}
