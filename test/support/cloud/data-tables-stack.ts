import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { writePathSettings } from '../../../shared/pipeline/settings.ts';

/**
 * Tables a config snapshot may route writes to, as a product stack beside the write path would
 * own them: `orders` and `audit` to grant (`WritePathProps.dataTables`), `ungranted` to leave out.
 * Outputs: `OrdersTableName`, `AuditTableName`, `UngrantedTableName`.
 */
export class DataTablesStack extends Stack {
  readonly orders: Table;
  readonly audit: Table;
  readonly ungranted: Table;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'Test: data tables a write path may route to', ...props });
    this.orders = this.table('Orders');
    this.audit = this.table('Audit');
    this.ungranted = this.table('Ungranted');
  }

  private table(id: string): Table {
    const { partitionKey, sortKey } = writePathSettings.table;
    const table = new Table(this, id, {
      partitionKey: { name: partitionKey, type: AttributeType.STRING },
      sortKey: { name: sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new CfnOutput(this, `${id}TableName`, { value: table.tableName });
    return table;
  }
}
