import { App, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { WritePathProps } from '../../../infra/constructs/write-path.ts';
import { cdkContext } from '../../../infra/context.ts';
import { addNagChecks } from '../../../infra/nag.ts';
import { WritePathStack } from '../../../infra/stacks/write-path-stack.ts';
import { DataTablesStack } from './data-tables-stack.ts';
import { testStackSettings, testStacks } from './test-stacks.ts';

// Composition root of the integration tests' app: the project's own WritePathStack in the variants
// the tests need, with cdk-nag checking the synth as in infra/app.ts. The integration setup
// synthesizes it with `cdk synth --app` (CDK_OUTDIR set: the app synthesizes itself at exit).
const app = new App({ context: cdkContext });
addNagChecks(app);

const settings = testStackSettings;
const common: WritePathProps = {
  timeout: Duration.seconds(settings.timeoutSeconds),
  deadlineMargin: Duration.millis(settings.deadlineMarginMs),
  visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
  maxReceiveCount: settings.maxReceiveCount,
  maxConcurrency: settings.maxConcurrency,
  tableRemovalPolicy: RemovalPolicy.DESTROY,
};
// The deployed batching window (1 s; Lambda counts it in whole seconds and needs one for batches
// over 10) with smaller batches, so a burst spreads over several invocations.
const standard: WritePathProps = { ...common, batchSize: settings.batchSize };
const snapshots = { tableRemovalPolicy: RemovalPolicy.DESTROY };

new WritePathStack(app, testStacks.standard, { writePath: standard, snapshots });
new WritePathStack(app, testStacks.fifo, { writePath: { ...common, fifo: true }, snapshots });
const data = new DataTablesStack(app, testStacks.dataTables);
new WritePathStack(app, testStacks.routed, {
  writePath: {
    ...standard,
    dataTables: [data.orders, data.audit],
    snapshotMaxAge: Duration.millis(settings.snapshotMaxAgeMs),
  },
  snapshots,
});
