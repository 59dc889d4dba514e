import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MAX_NESTING_DEPTH, NestingTooDeepError, UnsupportedValueError } from './errors.ts';

/** A marshalled item with its size as DynamoDB counts it and an estimate of its bytes on the wire. */
export interface MarshalledItem {
  readonly attributes: Record<string, AttributeValue>;
  /** DynamoDB's item size (attribute names + values), compared with the 400 KB limit. */
  readonly bytes: number;
  /** Approximate JSON bytes in a request, for the 16 MB BatchWriteItem request limit. */
  readonly wireBytes: number;
}

// Per-value JSON overhead on the wire: `{"S":""}` plus separators.
const WIRE_OVERHEAD = 10;

interface Acc {
  bytes: number;
  wireBytes: number;
}

/**
 * Marshals a JSON-shaped item (strings, numbers, booleans, null, arrays, plain objects, and
 * Uint8Array as binary) to DynamoDB attribute values and measures it in the same pass, by
 * DynamoDB's rules: names and strings in UTF-8 bytes, numbers at one byte per two significant
 * digits plus one, binary by length, 1 byte for booleans and nulls, 3 bytes plus one per element for
 * lists and maps. `undefined` attributes are left out. Throws `NestingTooDeepError` past 32 levels
 * and `UnsupportedValueError` for values DynamoDB cannot hold exactly (non-finite numbers,
 * integers beyond 2^53, functions, class instances).
 *
 * One pass instead of util-dynamodb's `marshall` plus a separate size walk: it is the hottest code
 * of the write path.
 */
export function marshalItem(item: Readonly<Record<string, unknown>>): MarshalledItem {
  const acc: Acc = { bytes: 0, wireBytes: 2 };
  const attributes = marshalMap(item, acc, 0, '');
  return { attributes, bytes: acc.bytes, wireBytes: acc.wireBytes };
}

function marshalMap(
  map: Readonly<Record<string, unknown>>,
  acc: Acc,
  depth: number,
  path: string,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const name in map) {
    const value = map[name];
    if (value === undefined) continue;
    const nameBytes = utf8Bytes(name);
    acc.bytes += nameBytes + (depth > 0 ? 1 : 0);
    acc.wireBytes += nameBytes + 4;
    const attribute = marshalValue(value, acc, depth, path ? `${path}.${name}` : name);
    // A JSON key "__proto__" is an own property; plain assignment would set the prototype instead.
    if (name === '__proto__') {
      Object.defineProperty(out, name, {
        value: attribute,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[name] = attribute;
    }
  }
  return out;
}

function marshalValue(value: unknown, acc: Acc, depth: number, path: string): AttributeValue {
  acc.wireBytes += WIRE_OVERHEAD;
  switch (typeof value) {
    case 'string': {
      const n = utf8Bytes(value);
      acc.bytes += n;
      acc.wireBytes += n;
      return { S: value };
    }
    case 'number': {
      if (!Number.isFinite(value)) throw new UnsupportedValueError(`${path} is ${value}`);
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        throw new UnsupportedValueError(
          `${path} is an integer beyond 2^53 (${value}); it cannot be stored exactly`,
        );
      }
      const text = String(value);
      acc.bytes += numberBytes(text);
      acc.wireBytes += text.length;
      return { N: text };
    }
    case 'boolean':
      acc.bytes += 1;
      acc.wireBytes += 5;
      return { BOOL: value };
    case 'object': {
      if (value === null) {
        acc.bytes += 1;
        acc.wireBytes += 5;
        return { NULL: true };
      }
      if (depth + 1 > MAX_NESTING_DEPTH) throw new NestingTooDeepError(path);
      if (Array.isArray(value)) {
        acc.bytes += 3;
        const list: AttributeValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          acc.bytes += 1;
          const element = value[i] === undefined ? null : value[i];
          list[i] = marshalValue(element, acc, depth + 1, `${path}[${i}]`);
        }
        return { L: list };
      }
      if (value instanceof Uint8Array) {
        acc.bytes += value.length;
        acc.wireBytes += Math.ceil(value.length / 3) * 4;
        return { B: value };
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new UnsupportedValueError(`${path} is a ${proto?.constructor?.name ?? 'non-plain'} object`);
      }
      acc.bytes += 3;
      return { M: marshalMap(value as Record<string, unknown>, acc, depth + 1, path) };
    }
    default:
      throw new UnsupportedValueError(`${path} is a ${typeof value}`);
  }
}

/** UTF-8 length without allocating: ASCII fast path, Buffer for the rest. */
export function utf8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

/** DynamoDB's size of a number: one byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  let digits = 0;
  let leading = true;
  let trailingZeros = 0;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c === 0x65 || c === 0x45) break; // exponent: digits after it are not significant
    if (c < 0x30 || c > 0x39) continue;
    if (leading && c === 0x30) continue;
    leading = false;
    digits++;
    trailingZeros = c === 0x30 ? trailingZeros + 1 : 0;
  }
  return Math.ceil((digits - trailingZeros) / 2) + 1;
}
