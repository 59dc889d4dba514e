import { describe, expect, it } from 'vitest';
import { attributeTenant, rawBodyTenant, tenantOption } from '../../../../../shared/cli/send/tenant.ts';

describe('tenantOption', () => {
  it('is the --tenant id, a reader of the --tenant-key attribute, or none', () => {
    expect(tenantOption({ tenant: 'acme' })).toBe('acme');
    expect(tenantOption({ tenantKey: 'pk' })).toBeTypeOf('function');
    expect(tenantOption({})).toBeUndefined();
  });
});

describe('attributeTenant', () => {
  const byTenant = attributeTenant('tenant');

  it('reads a string or number attribute of a put item or a delete key', () => {
    expect(byTenant({ op: 'put', item: { pk: 'a', tenant: 'acme' } })).toBe('acme');
    expect(byTenant({ op: 'put', item: { pk: 'a', tenant: 42 } })).toBe('42');
    expect(byTenant({ op: 'delete', key: { pk: 'a', tenant: 'acme' } })).toBe('acme');
  });

  it('leaves a delete without the attribute untagged, but refuses a put item without it (a typo)', () => {
    expect(byTenant({ op: 'delete', key: { pk: 'a' } })).toBeUndefined();
    expect(() => byTenant({ op: 'put', item: { pk: 'a' } })).toThrow('the item has no attribute "tenant"');
  });

  it.each([
    [{ id: 1 }, 'an object'],
    [null, 'null'],
    [true, 'a boolean'],
  ])('refuses an attribute holding %j', (value, kind) => {
    expect(() => byTenant({ op: 'put', item: { pk: 'a', tenant: value } })).toThrow(
      `attribute "tenant" is ${kind}; a tenant must be a string or a number`,
    );
  });
});

describe('rawBodyTenant', () => {
  it('tags a body sent invalid on purpose when it can, and leaves it untagged otherwise', () => {
    const body = JSON.stringify({ op: 'upsert', item: { pk: 'key-1', sk: 'item' } });
    expect(rawBodyTenant({ tenant: 'acme' }, body)).toBe('acme');
    expect(rawBodyTenant({ tenantKey: 'pk' }, body)).toBe('key-1');
    expect(rawBodyTenant({ tenantKey: 'tenant' }, body)).toBeUndefined();
    expect(rawBodyTenant({ tenantKey: 'pk' }, '{"op"')).toBeUndefined();
    expect(rawBodyTenant({}, body)).toBeUndefined();
  });
});
