/**
 * Alarm states for `pipeline snapshot rollout tick|watch`. Nothing emulates CloudWatch alarms
 * locally, so the states are given: `--alarm-state <name>=<state>` flags, and a JSON file
 * (`--alarm-states <file>`, `{ "<name>": "OK" | "ALARM" | "INSUFFICIENT_DATA" }`) read again before
 * every tick, so a watched rollout can be rolled back by editing it. Flags win over the file.
 */

import { z } from 'zod';
import {
  ALARM_STATES,
  type AlarmReadout,
  type AlarmState,
  type AlarmStateSource,
  parseJson,
} from '../../snapshots/index.ts';
import { CliError } from '../errors.ts';
import { readText } from './action.ts';

/** The `--alarm-states` file is not a JSON object of alarm names to states. */
export class InvalidAlarmStatesError extends CliError {
  readonly code = 'INVALID_ALARM_STATES';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

const StatesFileSchema = z.record(z.string().min(1), z.enum(ALARM_STATES as [AlarmState, ...AlarmState[]]));

/** Alarm states given on the command line and in a file; `load()` (re)reads the file. */
export class GivenAlarmStates implements AlarmStateSource {
  private states = new Map<string, AlarmState>();

  constructor(
    private readonly flags: readonly [string, AlarmState][],
    private readonly file: string | undefined,
  ) {
    this.states = new Map(flags);
  }

  /** Reads the file again (throws `InvalidAlarmStatesError` or `SourceReadError`), then applies the flags. */
  async load(): Promise<void> {
    const fromFile = this.file === undefined ? {} : await this.readFile(this.file);
    this.states = new Map([...Object.entries(fromFile), ...this.flags]);
  }

  async read(names: readonly string[]): Promise<AlarmReadout> {
    const states = new Map<string, AlarmState>();
    const unknown = new Map<string, string>();
    for (const name of names) {
      const state = this.states.get(name);
      if (state) states.set(name, state);
      else unknown.set(name, 'no state given (--alarm-state <name>=<state> or --alarm-states <file>)');
    }
    return { states, unknown };
  }

  private async readFile(path: string): Promise<Record<string, AlarmState>> {
    const parsed = StatesFileSchema.safeParse(parseJson(await readText(path), path));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'the file';
    throw new InvalidAlarmStatesError(
      path,
      `${where}: expected an object of alarm names to one of ${ALARM_STATES.join(', ')}`,
    );
  }
}
