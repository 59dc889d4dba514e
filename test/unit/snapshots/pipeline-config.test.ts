import { describe, expect, it } from 'vitest';
import { InvalidSnapshotDocumentError } from '../../../shared/snapshots/errors.ts';
import { parsePipelineConfig, routerFor } from '../../../shared/snapshots/pipeline-config.ts';

const routing = { items: { tableName: 'pipeline-items', partitionKey: 'pk', sortKey: 'sk' } };

describe('pipeline configuration schema', () => {
  it('fills in write options, key type, ops and models', () => {
    // Act
    const config = parsePipelineConfig({ routing });
    // Assess
    expect(config).toEqual({
      routing: { items: { ...routing.items, keyType: 'S', ops: ['put', 'delete'] } },
      writeOptions: { maxConcurrency: 8, deadlineMarginMs: 1500 },
      models: {},
    });
  });

  it.each([
    [{ routing: { items: { ...routing.items, tableName: 'x' } } }, 'routing.items.tableName'],
    [{ routing, writeOptions: { maxConcurrency: 0 } }, 'writeOptions.maxConcurrency'],
    [{ routing, models: { classifier: { path: 's3://m' } } }, 'models.classifier.version'],
    [{ routing: { items: { ...routing.items, ops: ['upsert'] } } }, 'routing.items.ops.0'],
    [{ routes: routing }, 'routing'],
  ])('rejects %j naming %s', (document, path) => {
    // Act
    const parse = () => parsePipelineConfig(document);
    // Assess
    expect(parse).toThrow(InvalidSnapshotDocumentError);
    expect(parse).toThrow(new RegExp(`^${path.replaceAll('.', '\\.')}:`));
  });

  it('builds one router per configuration object', () => {
    // Prepare
    const config = parsePipelineConfig({ routing });
    // Act
    const router = routerFor(config);
    // Assess
    expect(routerFor(config)).toBe(router);
    expect(router.tables).toEqual(['items']);
  });
});
