/** The metrics a snapshot reader with `metrics` adds when a refresh fails, by name. */
export const SNAPSHOT_READER_METRICS = {
  /** 1 per failed refresh (`Count`). */
  SnapshotRefreshFailed: 'SnapshotRefreshFailed',
  /** How old the snapshot still served is (`Seconds`). */
  SnapshotStaleAge: 'SnapshotStaleAge',
} as const;
