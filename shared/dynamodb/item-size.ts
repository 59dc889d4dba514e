import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MAX_NESTING_DEPTH, NestingTooDeepError } from './errors.ts';

/** Size of one marshalled item as DynamoDB counts it, plus an estimate of its bytes on the wire. */
export interface ItemSize {
  /** DynamoDB's item size (attribute names + values), compared with the 400 KB limit. */
  readonly bytes: number;
  /** Approximate JSON bytes in a request, for the 16 MB BatchWriteItem request limit. */
  readonly wireBytes: number;
}

// Per-value JSON overhead on the wire: `{"S":""}` plus separators.
const WIRE_OVERHEAD = 10;

/**
 * Measures an item by DynamoDB's rules: names and strings in UTF-8 bytes, numbers at one byte per two
 * significant digits plus one, binary by length, 1 byte for booleans and nulls, 3 bytes plus one per
 * element for lists and maps. Throws `NestingTooDeepError` past 32 levels.
 */
export function measureItem(item: Record<string, AttributeValue>): ItemSize {
  const acc = { bytes: 0, wireBytes: 2 };
  for (const name in item) {
    const nameBytes = utf8Bytes(name);
    acc.bytes += nameBytes;
    acc.wireBytes += nameBytes + 4;
    measureValue(item[name]!, acc, 0, name);
  }
  return acc;
}

function measureValue(
  value: AttributeValue,
  acc: { bytes: number; wireBytes: number },
  depth: number,
  path: string,
) {
  acc.wireBytes += WIRE_OVERHEAD;
  if (value.S !== undefined) {
    const n = utf8Bytes(value.S);
    acc.bytes += n;
    acc.wireBytes += n;
  } else if (value.N !== undefined) {
    acc.bytes += numberBytes(value.N);
    acc.wireBytes += value.N.length;
  } else if (value.B !== undefined) {
    acc.bytes += value.B.length;
    acc.wireBytes += Math.ceil(value.B.length / 3) * 4;
  } else if (value.BOOL !== undefined || value.NULL !== undefined) {
    acc.bytes += 1;
    acc.wireBytes += 5;
  } else if (value.M !== undefined) {
    if (depth + 1 > MAX_NESTING_DEPTH) throw new NestingTooDeepError(path);
    acc.bytes += 3;
    for (const name in value.M) {
      const nameBytes = utf8Bytes(name);
      acc.bytes += nameBytes + 1;
      acc.wireBytes += nameBytes + 4;
      measureValue(value.M[name]!, acc, depth + 1, `${path}.${name}`);
    }
  } else if (value.L !== undefined) {
    if (depth + 1 > MAX_NESTING_DEPTH) throw new NestingTooDeepError(path);
    acc.bytes += 3;
    value.L.forEach((element, i) => {
      acc.bytes += 1;
      measureValue(element, acc, depth + 1, `${path}[${i}]`);
    });
  } else if (value.SS !== undefined) {
    for (const s of value.SS) acc.bytes += utf8Bytes(s);
    acc.wireBytes += acc.bytes;
  } else if (value.NS !== undefined) {
    for (const n of value.NS) acc.bytes += numberBytes(n);
  } else if (value.BS !== undefined) {
    for (const b of value.BS) acc.bytes += b.length;
  }
}

/** UTF-8 length without allocating: ASCII fast path, Buffer for the rest. */
export function utf8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

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
