/** The metrics a snapshot reader with `metrics` adds when a refresh fails, by name. */
export const SNAPSHOT_READER_METRICS = {
  /** 1 per failed refresh (`Count`). */
  SnapshotRefreshFailed: 'SnapshotRefreshFailed',
  /** How old the snapshot still served is (`Seconds`). */
  SnapshotStaleAge: 'SnapshotStaleAge',
} as const;

/** The metrics the rollout controller adds per tick, by name (all `Count`). */
export const SNAPSHOT_ROLLOUT_METRICS = {
  /** A candidate's percentage was raised one step. */
  RolloutStepped: 'RolloutStepped',
  /** A candidate became stable after its bake. */
  RolloutPromoted: 'RolloutPromoted',
  /** A candidate was rolled back (an alarm in ALARM, or alarms unknown too long). */
  RolloutRolledBack: 'RolloutRolledBack',
  /** Alarms a tick could not read (missing, not allowed, CloudWatch failing): the rollout holds. */
  RolloutAlarmsUnknown: 'RolloutAlarmsUnknown',
  /** A tick lost the conditional write to a concurrent change (a person's promote or rollback): it did nothing. */
  RolloutConflicts: 'RolloutConflicts',
} as const;
