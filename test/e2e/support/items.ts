/** Contract-v1 messages for the default `items` table (`pk`/`sk`), and waiting for their effect. */

import { done, eventually, notYet } from './poll.ts';
import { getItem } from './tables.ts';

type Fields = Readonly<Record<string, unknown>>;

/** `{ op: 'put', item: { pk, sk: '1', …fields }, version? }`. */
export function put(pk: string, fields: Fields = {}, version?: number, table?: string) {
  return {
    op: 'put',
    ...(table === undefined ? {} : { table }),
    item: { pk, sk: '1', ...fields },
    ...(version === undefined ? {} : { version }),
  };
}

/** `{ op: 'delete', key: { pk, sk: '1' }, version? }`. */
export function del(pk: string, version?: number, table?: string) {
  return {
    op: 'delete',
    ...(table === undefined ? {} : { table }),
    key: { pk, sk: '1' },
    ...(version === undefined ? {} : { version }),
  };
}

/** Resolves with the item `pk`/`sk: '1'` once `holds(item)`; throws with the last one seen after the deadline. */
export function waitForItem(
  tableName: string,
  pk: string,
  holds: (item: Record<string, unknown> | undefined) => boolean,
  what: string,
): Promise<Record<string, unknown> | undefined> {
  return eventually(
    async () => {
      const item = await getItem(tableName, { pk, sk: '1' });
      return holds(item) ? done(item) : notYet(item);
    },
    { what: `${what} (${tableName} pk=${pk.slice(0, 80)})` },
  );
}
