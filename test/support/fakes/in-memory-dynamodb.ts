import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type Put,
  PutItemCommand,
  TransactWriteItemsCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

type Fault = (
  command: BatchWriteItemCommand | PutItemCommand | TransactWriteItemsCommand,
  call: number,
) => Error | 'unprocessed-half' | undefined;

/**
 * An in-memory stand-in for DynamoDBClient's `send` (BatchWriteItem, and the version-guarded
 * PutItem and TransactWriteItems of puts only), for unit tests and the CPU-per-record benchmark. Key schema: `pk` + `sk`.
 * A failed version guard returns the stored item when asked (`ReturnValuesOnConditionCheckFailure:
 * ALL_OLD`), as DynamoDB does: on the ConditionalCheckFailedException, or in the cancellation reason.
 */
export class InMemoryDynamoDb {
  readonly tables = new Map<string, Map<string, Record<string, unknown>>>();
  readonly calls: Array<{ name: string; items: number }> = [];
  fault: Fault | undefined;

  get client(): DynamoDBClient {
    return { send: (command: unknown) => this.send(command) } as unknown as DynamoDBClient;
  }

  item(table: string, pk: string, sk = '1'): Record<string, unknown> | undefined {
    return this.tables.get(table)?.get(`${pk}\u0000${sk}`);
  }

  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof BatchWriteItemCommand) return this.batchWrite(command);
    if (command instanceof PutItemCommand) return this.putItem(command);
    if (command instanceof TransactWriteItemsCommand) return this.transactWrite(command);
    throw new Error(`InMemoryDynamoDb does not implement ${(command as object).constructor.name}`);
  }

  private batchWrite(command: BatchWriteItemCommand): BatchWriteItemCommandOutput {
    const requestItems = command.input.RequestItems ?? {};
    const count = Object.values(requestItems).reduce((n, list) => n + list.length, 0);
    this.calls.push({ name: 'BatchWriteItem', items: count });
    const fault = this.fault?.(command, this.calls.length);
    if (fault instanceof Error) throw fault;
    const unprocessed: Record<string, WriteRequest[]> = {};
    for (const [table, requests] of Object.entries(requestItems)) {
      requests.forEach((request, i) => {
        if (fault === 'unprocessed-half' && i % 2 === 1) {
          unprocessed[table] = [...(unprocessed[table] ?? []), request];
          return;
        }
        if (request.PutRequest?.Item) this.store(table, request.PutRequest.Item);
        else if (request.DeleteRequest?.Key) this.table(table).delete(keyString(request.DeleteRequest.Key));
      });
    }
    return {
      UnprocessedItems: unprocessed,
      // As DynamoDB: capacity only when asked, one unit per item here.
      ...(asked(command.input.ReturnConsumedCapacity)
        ? { ConsumedCapacity: [{ TableName: 'x', CapacityUnits: count }] }
        : {}),
      $metadata: {},
    };
  }

  private putItem(command: PutItemCommand) {
    this.calls.push({ name: 'PutItem', items: 1 });
    const fault = this.fault?.(command, this.calls.length);
    if (fault instanceof Error) throw fault;
    const { TableName, Item } = command.input;
    if (!this.guardHolds(command.input as Put)) {
      throw Object.assign(new Error('The conditional request failed'), {
        name: 'ConditionalCheckFailedException',
        ...this.oldItem(command.input as Put),
      });
    }
    this.store(TableName!, Item!);
    return {
      ...(asked(command.input.ReturnConsumedCapacity)
        ? { ConsumedCapacity: { TableName, CapacityUnits: 1 } }
        : {}),
      $metadata: {},
    };
  }

  private transactWrite(command: TransactWriteItemsCommand) {
    const actions = command.input.TransactItems ?? [];
    this.calls.push({ name: 'TransactWriteItems', items: actions.length });
    // Faults apply per action, as DynamoDB reports them: IAM refuses the whole request; throttling
    // and validation cancel the transaction with a reason for that action (as a failed guard does).
    const faults = actions.map((action) => this.fault?.(new PutItemCommand(action.Put!), this.calls.length));
    const denied = faults.find((f) => f instanceof Error && f.name === 'AccessDeniedException');
    if (denied) throw denied;
    const reasons = actions.map((action, i) => {
      const fault = faults[i];
      if (fault instanceof Error) {
        if (fault.name === 'ValidationException') return { Code: 'ValidationError', Message: fault.message };
        return { Code: 'ThrottlingError', Message: fault.message };
      }
      return this.guardHolds(action.Put!)
        ? { Code: 'None' }
        : {
            Code: 'ConditionalCheckFailed',
            Message: 'The conditional request failed',
            ...this.oldItem(action.Put!),
          };
    });
    // All or nothing: one failing action cancels the transaction.
    if (reasons.some((reason) => reason.Code !== 'None')) {
      throw Object.assign(new Error('Transaction cancelled'), {
        name: 'TransactionCanceledException',
        CancellationReasons: reasons,
      });
    }
    for (const action of actions) this.store(action.Put!.TableName!, action.Put!.Item!);
    return {
      ...(asked(command.input.ReturnConsumedCapacity)
        ? { ConsumedCapacity: [{ TableName: 'x', CapacityUnits: 2 * actions.length }] }
        : {}),
      $metadata: {},
    };
  }

  /** The version guard: `#v` names the version attribute, `:v` holds the incoming version. */
  private guardHolds(put: Put): boolean {
    const existing = this.table(put.TableName!).get(keyString(put.Item!));
    const stored = existing?.[put.ExpressionAttributeNames?.['#v'] ?? '_version'];
    const next = Number(put.ExpressionAttributeValues?.[':v']?.N);
    return !(typeof stored === 'number' && !(stored < next));
  }

  /** `{ Item }` of the stored item when the put asks for ALL_OLD on a failed condition, else nothing. */
  private oldItem(put: Put): { Item?: Record<string, AttributeValue> } {
    const existing = this.table(put.TableName!).get(keyString(put.Item!));
    return put.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing
      ? { Item: marshall(existing) }
      : {};
  }

  private store(table: string, item: Record<string, AttributeValue>): void {
    this.table(table).set(keyString(item), unmarshall(item));
  }

  private table(name: string): Map<string, Record<string, unknown>> {
    const table = this.tables.get(name) ?? new Map<string, Record<string, unknown>>();
    this.tables.set(name, table);
    return table;
  }
}

const asked = (mode: string | undefined) => mode !== undefined && mode !== 'NONE';

function keyString(item: Record<string, AttributeValue>): string {
  return `${item.pk?.S ?? item.pk?.N}\u0000${item.sk?.S ?? item.sk?.N}`;
}

/** An error shaped like the SDK's, for stubbed faults. */
export function awsError(name: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(name), {
    name,
    $metadata: { httpStatusCode },
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
  });
}
