/**
 * The flags of `pipeline dlq inspect` and `pipeline dlq redrive`: their parsed shapes and the parsers
 * commander runs on their values (a bad value is exit status 2, naming the flag and what it expects).
 */

import { InvalidArgumentError } from 'commander';
import { NO_ERROR_CODE } from './letters.ts';

/** The flags that name the dead-letter queue. */
export interface DlqQueueFlags {
  /** The DLQ's URL; excludes `--dlq`. */
  readonly queue?: string;
  /** Logical queue name in the stack file (`ingest`, `config-changes`, `inference-requests`) whose DLQ is meant. */
  readonly dlq?: string;
  readonly stackFile: string;
}

export interface InspectFlags extends DlqQueueFlags {
  readonly samples: number;
  readonly showBody?: boolean;
  readonly bodyChars: number;
  readonly limit: number;
  readonly visibilityTimeout: number;
  readonly json?: boolean;
}

export interface RedriveFlags extends DlqQueueFlags {
  /** Destination queue URL; defaults to the DLQ's source queue. */
  readonly to?: string;
  readonly filter?: CodeFilter;
  /** Messages per second. */
  readonly rate?: number;
  readonly dryRun?: boolean;
  /** Always use the receive → send → delete mover, never StartMessageMoveTask. */
  readonly mover?: boolean;
  readonly journal?: string;
  readonly visibilityTimeout: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** The `ErrorCode`s a redrive moves (`NO_ERROR_CODE` for messages without one). */
export interface CodeFilter {
  readonly codes: readonly string[];
}

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Parser of `--filter code=X[,Y…]`: upper-case `ErrorCode`s, or `none` for messages without one. */
export function codeFilter(value: string): CodeFilter {
  const match = /^code=(.*)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected code=<CODE>[,<CODE>…] (e.g. code=UNKNOWN_TABLE,none)');
  const codes = match[1]!.split(',').map((code) => code.trim());
  const bad = codes.find((code) => code !== NO_ERROR_CODE && !CODE.test(code));
  if (bad !== undefined) {
    throw new InvalidArgumentError(
      `"${bad}" is not an ErrorCode: expected upper-case letters, digits and _ (e.g. INVALID_JSON), ` +
        `or ${NO_ERROR_CODE} for messages SQS moved after maxReceiveCount`,
    );
  }
  return { codes: [...new Set(codes)] };
}

/** Parser of `--rate <n>` or `--rate <n>/s`: messages per second, more than 0. */
export function ratePerSecond(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/s)?\s*$/.exec(value);
  const rate = Number(match?.[1]);
  if (!match || !Number.isFinite(rate) || rate <= 0) {
    throw new InvalidArgumentError('expected messages per second, more than 0 (e.g. 50 or 50/s)');
  }
  return rate;
}

/** Parser of an integer flag in `min..max`. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    }
    return parsed;
  };
}
