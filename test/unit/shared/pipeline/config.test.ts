import { describe, expect, it } from 'vitest';
import { parsePipelineConfig, pipelineConfigParser, routerFor } from '../../../../shared/pipeline/config.ts';
import { InvalidSnapshotDocumentError, RouteNotGrantedError } from '../../../../shared/snapshots/errors.ts';

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

  it('accepts routes to granted tables only, naming the table and the path of the first other one', () => {
    // Prepare
    const parse = pipelineConfigParser(['pipeline-items', 'orders-table']);
    const orders = { ...routing.items, tableName: 'orders-table' };
    const audit = { ...routing.items, tableName: 'audit-table' };
    // Act
    const granted = parse({ routing: { ...routing, orders } });
    const refuse = () => parse({ routing: { ...routing, orders, audit } });
    // Assess
    expect(Object.keys(granted.routing)).toEqual(['items', 'orders']);
    expect(refuse).toThrow(RouteNotGrantedError);
    expect(refuse).toThrow(
      /^routing\.audit\.tableName: table "audit-table" is not one the pipeline may write/,
    );
    expect(() => refuse()).toThrow(
      expect.objectContaining({ code: 'ROUTE_NOT_GRANTED', tableName: 'audit-table' }),
    );
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
