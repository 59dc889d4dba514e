import { Duration, Stack } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  LogQueryVisualizationType,
  LogQueryWidget,
  Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Every graph's period: the pipeline's alarms and scaling rules look at 1-minute data too. */
const PERIOD = Duration.minutes(1);
/** Three graphs side by side on CloudWatch's 24-column grid. */
const GRAPH = { width: 8, height: 6 } as const;

/** The `EventCount` metrics of an SQS event source mapping (AWS/Lambda). */
const EVENT_COUNTS = {
  flow: ['PolledEventCount', 'InvokedEventCount', 'DeletedEventCount'],
  lost: ['FailedInvokeEventCount', 'DroppedEventCount', 'FilteredOutEventCount'],
} as const;

/** Where one emitted metric is drawn, and how its datapoints are aggregated. */
export interface MetricPlacement {
  /** Title of the graph it goes on; graphs appear in the order their first metric is placed. */
  readonly graph: string;
  /** @default Stats.SUM */
  readonly statistic?: string;
  /** Draw it against the right axis (a second unit on the same graph). @default false */
  readonly right?: boolean;
}

/** Metrics a function publishes through Powertools (EMF): one namespace, a `service` dimension. */
export interface AppMetrics<K extends string> {
  /** What the graph titles start with, e.g. `batch writer`. */
  readonly label: string;
  /** `POWERTOOLS_METRICS_NAMESPACE`. */
  readonly namespace: string;
  /** `POWERTOOLS_SERVICE_NAME` / the `serviceName` of its Metrics: the `service` dimension. */
  readonly service: string;
  /** The emitted names, as the emitting code exports them. */
  readonly names: Readonly<Record<K, string>>;
  /** A placement for every name (a `Record`: a name added to the code must be placed to compile). */
  readonly layout: Readonly<Record<K, MetricPlacement>>;
  /** Dimensions the code adds besides `service`. @default none */
  readonly dimensions?: Readonly<Record<string, string>>;
}

export interface PipelineDashboardProps {
  /**
   * The dashboard's name (dashboards are global to an account, so it carries the region).
   * @default `<stack name>-<region>`
   */
  readonly dashboardName?: string;
  /** Time range the dashboard opens with. @default Duration.hours(3) */
  readonly defaultInterval?: Duration;
}

/**
 * One CloudWatch dashboard for a stack, built in sections: a queue (messages in and out, backlog
 * and its age, dead letters), a Lambda function (invocations, errors, throttles, duration,
 * concurrency), the metrics a function's code emits, log queries. It grants nothing: a dashboard
 * only reads metrics with the viewer's own permissions.
 *
 * @example
 * const dashboard = new PipelineDashboard(this, 'Dashboard');
 * dashboard.addSection('Ingest');
 * dashboard.addQueue('ingest', writePath.queue, writePath.deadLetterQueue);
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `${stack.stackName}-${stack.region}`,
      defaultInterval: props.defaultInterval ?? Duration.hours(3),
    });
  }

  /** A full-width heading; the widgets added next sit under it. */
  addSection(title: string, description?: string): void {
    const markdown = description === undefined ? `## ${title}` : `## ${title}\n${description}`;
    this.dashboard.addWidgets(new TextWidget({ markdown, width: 24, height: description ? 2 : 1 }));
  }

  /** Graphs, three to a row. */
  addGraphs(...widgets: IWidget[]): void {
    for (let i = 0; i < widgets.length; i += 3) this.dashboard.addWidgets(...widgets.slice(i, i + 3));
  }

  /**
   * A queue's traffic (sent, received, deleted), its backlog and the age of its oldest message,
   * and the depth of its dead-letter queue.
   */
  addQueue(label: string, queue: IQueue, deadLetterQueue?: IQueue, backlog?: IMetric): void {
    const sum = { period: PERIOD, statistic: Stats.SUM };
    const max = { period: PERIOD, statistic: Stats.MAXIMUM };
    const widgets: IWidget[] = [
      graph(`${label}: messages in / out`, [
        queue.metricNumberOfMessagesSent({ ...sum, label: 'sent' }),
        queue.metricNumberOfMessagesReceived({ ...sum, label: 'received' }),
        queue.metricNumberOfMessagesDeleted({ ...sum, label: 'deleted' }),
      ]),
      graph(
        `${label}: backlog and age of the oldest message`,
        [backlog ?? queue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'visible' })],
        [queue.metricApproximateAgeOfOldestMessage({ ...max, label: 'oldest (s)' })],
      ),
    ];
    if (deadLetterQueue) {
      widgets.push(
        graph(`${label}: dead letters`, [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'in the DLQ' }),
        ]),
      );
    }
    this.addGraphs(...widgets);
  }

  /** A function's invocations, errors and throttles; its duration; its concurrency. */
  addFunction(label: string, fn: IFunction): void {
    const sum = { period: PERIOD, statistic: Stats.SUM };
    this.addGraphs(
      graph(`${label}: invocations, errors, throttles`, [
        fn.metricInvocations({ ...sum, label: 'invocations' }),
        fn.metricErrors({ ...sum, label: 'errors' }),
        fn.metricThrottles({ ...sum, label: 'throttles' }),
      ]),
      graph(`${label}: duration (ms)`, [
        fn.metricDuration({ period: PERIOD, statistic: Stats.p(50), label: 'p50' }),
        fn.metricDuration({ period: PERIOD, statistic: Stats.p(99), label: 'p99' }),
        fn.metricDuration({ period: PERIOD, statistic: Stats.MAXIMUM, label: 'max' }),
      ]),
      graph(`${label}: concurrency`, [
        fn.metric('ConcurrentExecutions', { period: PERIOD, statistic: Stats.MAXIMUM, label: 'concurrent' }),
      ]),
    );
  }

  /** The metrics a function's code emits, on the graphs their `layout` names. */
  addAppMetrics<K extends string>(metrics: AppMetrics<K>): void {
    const graphs = new Map<string, { left: IMetric[]; right: IMetric[] }>();
    for (const key of Object.keys(metrics.names) as K[]) {
      const placement = metrics.layout[key];
      const statistic = placement.statistic ?? Stats.SUM;
      const metric = new Metric({
        namespace: metrics.namespace,
        metricName: metrics.names[key],
        dimensionsMap: { service: metrics.service, ...metrics.dimensions },
        period: PERIOD,
        statistic,
        label: `${metrics.names[key]} (${statistic})`,
      });
      const slot = graphs.get(placement.graph) ?? { left: [], right: [] };
      (placement.right ? slot.right : slot.left).push(metric);
      graphs.set(placement.graph, slot);
    }
    this.addGraphs(
      ...[...graphs].map(([title, { left, right }]) => graph(`${metrics.label}: ${title}`, left, right)),
    );
  }

  /**
   * What an event source mapping with `EventCount` metrics reports (AWS/Lambda, per
   * `EventSourceMappingUUID`): events polled, invoked, failed, dropped, filtered out and deleted.
   */
  addEventSourceMetrics(label: string, mapping: IEventSourceMapping): void {
    const metric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { EventSourceMappingUUID: mapping.eventSourceMappingId },
        period: PERIOD,
        statistic: Stats.SUM,
        label: metricName,
      });
    this.addGraphs(
      graph(`${label}: events polled / invoked / deleted`, EVENT_COUNTS.flow.map(metric)),
      graph(`${label}: events failed / dropped / filtered out`, EVENT_COUNTS.lost.map(metric)),
    );
  }

  /** A Logs Insights table or chart over `logGroups`, for what the code logs but does not count. */
  addLogQuery(title: string, logGroups: readonly ILogGroup[], queryLines: readonly string[]): void {
    this.dashboard.addWidgets(
      new LogQueryWidget({
        title,
        logGroupNames: logGroups.map((group) => group.logGroupName),
        queryLines: [...queryLines],
        view: LogQueryVisualizationType.LINE,
        ...GRAPH,
      }),
    );
  }
}

function graph(title: string, left: IMetric[], right: IMetric[] = []): GraphWidget {
  return new GraphWidget({ title, left, right, ...GRAPH });
}
