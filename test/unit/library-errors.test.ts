import { describe, expect, it } from 'vitest';
import * as contract from '../../shared/contract/index.ts';
import { PipelineError } from '../../shared/core/errors.ts';
import * as simulator from '../../shared/simulator/index.ts';
import * as snapshots from '../../shared/snapshots/index.ts';
import * as sqs from '../../shared/sqs/index.ts';
import * as writeBatcher from '../../shared/write-batcher/index.ts';

type ErrorClass = abstract new (...args: never[]) => PipelineError;

/** The error classes a library's entry point exports, its base and the shared ones (core, contract) left out. */
function errorClasses(entry: Record<string, unknown>, exclude: readonly unknown[]): [string, ErrorClass][] {
  return Object.entries(entry).filter(
    (e): e is [string, ErrorClass] =>
      typeof e[1] === 'function' && e[1].prototype instanceof PipelineError && !exclude.includes(e[1]),
  );
}

describe('library errors', () => {
  it.each([
    ['contract', contract, contract.ContractError, []],
    ['write-batcher', writeBatcher, writeBatcher.WriteBatcherError, []],
    ['snapshots', snapshots, snapshots.SnapshotError, []],
    ['simulator', simulator, simulator.SimulatorError, []],
    // The producer entry also re-exports the contract's errors and the core ones callers catch.
    ['sqs', sqs, sqs.SqsSendError, [sqs.ContractError, sqs.InvalidMessageError, sqs.InvalidOptionError]],
  ] as const)(
    'every error %s exports extends its base, so callers can catch any of them',
    (_, entry, base, shared) => {
      // Act
      const classes = errorClasses(entry, [base, ...shared]);
      // Assess
      expect(classes.length).toBeGreaterThan(2);
      for (const [name, error] of classes)
        expect({ name, extendsBase: error.prototype instanceof base }).toEqual({ name, extendsBase: true });
      expect(base.prototype).toBeInstanceOf(PipelineError);
    },
  );

  it('keeps the codes of the errors it rebased', () => {
    // Act
    const error = new snapshots.SnapshotNotFoundError('app');
    // Assess
    expect(error).toBeInstanceOf(snapshots.SnapshotError);
    expect(error).toMatchObject({ code: 'SNAPSHOT_NOT_FOUND', name: 'SnapshotNotFoundError' });
    expect(new writeBatcher.ItemTooLargeError(500_000)).toMatchObject({ code: 'ITEM_TOO_LARGE' });
    expect(new sqs.SenderClosedError()).toMatchObject({ code: 'SENDER_CLOSED' });
    expect(new contract.UnknownTableError('x', [])).toMatchObject({ code: 'UNKNOWN_TABLE' });
  });
});
