import { describe, expect, it } from 'vitest';
import { Router } from '../../../../shared/pipeline/routing.ts';
import { deleteMessage, itemsRoutes, putMessage } from '../../../support/factories/writes.ts';

const router = new Router(itemsRoutes);

describe('Router', () => {
  it('maps the logical table to the physical one, defaulting to items', () => {
    const request = router.toWriteRequest({ op: 'put', item: { pk: 'a', sk: '1' } });
    expect(request.target.tableName).toBe('items-physical');
  });

  it('rejects tables the pipeline does not route', () => {
    expect(() => router.toWriteRequest({ ...putMessage('a'), table: 'users' })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_TABLE' }),
    );
  });

  it('rejects ops the route does not allow', () => {
    const putOnly = new Router({ items: { ...itemsRoutes.items!, ops: ['put'] } });
    expect(() => putOnly.toWriteRequest(deleteMessage('a'))).toThrow(
      expect.objectContaining({ code: 'OP_NOT_ALLOWED' }),
    );
  });

  it.each([
    ['a missing sort key', { pk: 'a' }, /item\.sk: key attribute is missing/],
    ['a number for a string key', { pk: 1, sk: '1' }, /item\.pk: must be a string, got number/],
    ['an empty key', { pk: '', sk: '1' }, /item\.pk: must not be empty/],
  ])('rejects a put with %s', (_, item, message) => {
    expect(() => router.toWriteRequest({ op: 'put', item })).toThrow(message);
  });

  it('rejects a delete key with attributes that are not keys', () => {
    expect(() => router.toWriteRequest({ op: 'delete', key: { pk: 'a', sk: '1', x: 'y' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });

  it('rejects items that set attributes the pipeline reserves', () => {
    expect(() => router.toWriteRequest(putMessage('a', { _version: 3 }))).toThrow(
      expect.objectContaining({ code: 'RESERVED_ATTRIBUTE' }),
    );
  });

  it('carries the FIFO group as the coalescing scope', () => {
    expect(router.toWriteRequest(putMessage('a'), 'group-1').scope).toBe('group-1');
  });
});
