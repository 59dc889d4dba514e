import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';

/** CloudWatch's alarm states. Only ALARM rolls a candidate back; INSUFFICIENT_DATA counts as clear (as in AppConfig). */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export const ALARM_STATES: readonly AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

/** What an alarm source could tell about a set of alarm names. */
export interface AlarmReadout {
  /** The state of every alarm that was read. */
  readonly states: ReadonlyMap<string, AlarmState>;
  /**
   * Alarms that could not be read, with why (`not found`, `not one the controller may read`,
   * `DescribeAlarms failed: …`). A name in neither map counts as not found.
   */
  readonly unknown: ReadonlyMap<string, string>;
}

/**
 * Where the rollout controller learns alarm states: CloudWatch on AWS (`CloudWatchAlarmStates`),
 * states given by hand locally. `read` may reject: the controller then treats every alarm as unknown.
 */
export interface AlarmStateSource {
  read(names: readonly string[]): Promise<AlarmReadout>;
}

/** The part of CloudWatch's DescribeAlarms request this code sends (same field names as the SDK's). */
export interface DescribeAlarmsInput {
  readonly AlarmNames: string[];
  readonly MaxRecords: number;
  readonly NextToken?: string;
}

/** The part of DescribeAlarms' response this code reads. */
export interface DescribeAlarmsOutput {
  readonly MetricAlarms?: readonly { readonly AlarmName?: string; readonly StateValue?: string }[];
  readonly NextToken?: string;
}

/** One DescribeAlarms call (`describeAlarmsWith(client)`, or a stub in tests). */
export type DescribeAlarms = (input: DescribeAlarmsInput) => Promise<DescribeAlarmsOutput>;

/** DescribeAlarms through the AWS SDK's CloudWatch client. */
export function describeAlarmsWith(client: CloudWatchClient): DescribeAlarms {
  return (input) => client.send(new DescribeAlarmsCommand(input));
}

export interface CloudWatchAlarmStatesOptions {
  readonly describeAlarms: DescribeAlarms;
  /**
   * The only names it asks CloudWatch about (the controller's IAM policy allows DescribeAlarms on
   * exactly these alarms); any other name is unknown without a request. @default any name
   */
  readonly allowed?: readonly string[];
}

/** DescribeAlarms takes at most 100 names per request. */
const NAMES_PER_REQUEST = 100;

/**
 * Alarm states from CloudWatch DescribeAlarms, asking for exactly the named alarms (`AlarmNames`,
 * metric alarms only: reading composite alarms needs DescribeAlarms on `*`). A name CloudWatch does
 * not return is `not found`.
 *
 * @example
 * new CloudWatchAlarmStates({ describeAlarms: describeAlarmsWith(new CloudWatchClient({})) });
 */
export class CloudWatchAlarmStates implements AlarmStateSource {
  private readonly describeAlarms: DescribeAlarms;
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(options: CloudWatchAlarmStatesOptions) {
    this.describeAlarms = options.describeAlarms;
    this.allowed = options.allowed && new Set(options.allowed);
  }

  async read(names: readonly string[]): Promise<AlarmReadout> {
    const states = new Map<string, AlarmState>();
    const unknown = new Map<string, string>();
    const asked = [...new Set(names)].filter((name) => {
      if (this.allowed === undefined || this.allowed.has(name)) return true;
      unknown.set(name, 'not one the controller may read (add it to the controller’s alarms and deploy)');
      return false;
    });
    for (let i = 0; i < asked.length; i += NAMES_PER_REQUEST) {
      const batch = asked.slice(i, i + NAMES_PER_REQUEST);
      let token: string | undefined;
      do {
        const page = await this.describeAlarms({
          AlarmNames: batch,
          MaxRecords: NAMES_PER_REQUEST,
          ...(token ? { NextToken: token } : {}),
        });
        for (const alarm of page.MetricAlarms ?? []) {
          if (alarm.AlarmName === undefined || !batch.includes(alarm.AlarmName)) continue;
          const state = ALARM_STATES.find((s) => s === alarm.StateValue);
          if (state) states.set(alarm.AlarmName, state);
          else unknown.set(alarm.AlarmName, `unrecognised state ${JSON.stringify(alarm.StateValue)}`);
        }
        token = page.NextToken;
      } while (token);
    }
    for (const name of asked) if (!states.has(name) && !unknown.has(name)) unknown.set(name, 'not found');
    return { states, unknown };
  }
}

/** Fixed states (tests, local runs): names not given are `not found`. */
export class StaticAlarmStates implements AlarmStateSource {
  constructor(
    private readonly states: ReadonlyMap<string, AlarmState> | Readonly<Record<string, AlarmState>>,
  ) {}

  async read(names: readonly string[]): Promise<AlarmReadout> {
    const given = this.states instanceof Map ? this.states : new Map(Object.entries(this.states));
    const states = new Map<string, AlarmState>();
    const unknown = new Map<string, string>();
    for (const name of names) {
      const state = given.get(name);
      if (state === undefined) unknown.set(name, 'not found');
      else states.set(name, state);
    }
    return { states, unknown };
  }
}
