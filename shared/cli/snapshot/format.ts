/**
 * How `pipeline snapshot` prints pointers, manifests and diffs for people.
 */

import {
  type DiffEntry,
  type Manifest,
  nextMoveAt,
  type Pointer,
  type RolloutOutcome,
  rolloutPhase,
  type TickResult,
} from '../../snapshots/index.ts';

/** `name: stable 3, candidate 4 at 10% of region=eu (generation 7)`. */
export function describePointer(pointer: Pointer): string {
  const { candidate } = pointer;
  const staged = candidate
    ? `, candidate ${candidate.version} at ${candidate.percentage}%${candidate.match ? ` of ${formatMatch(candidate.match)}` : ''}`
    : '';
  return `${pointer.name}: stable ${pointer.stable}${staged} (generation ${pointer.generation})`;
}

/** One row of `snapshot list`: version, role, creation time, size, chunks, hash, source. */
export function describeManifest(manifest: Manifest, pointer: Pointer | undefined): string {
  const role =
    manifest.version === pointer?.stable
      ? 'stable'
      : manifest.version === pointer?.candidate?.version
        ? 'candidate'
        : '';
  return [
    String(manifest.version).padStart(6),
    role.padEnd(9),
    manifest.createdAt,
    formatBytes(manifest.bytes).padStart(9),
    `${manifest.chunkCount} chunk${manifest.chunkCount === 1 ? ' ' : 's'}`.padStart(10),
    manifest.sha256.slice(0, 12),
    manifest.source,
  ].join('  ');
}

/** One line of `snapshot diff`: `+` added, `-` removed, `~` changed. */
export function formatDiff(entry: DiffEntry): string {
  switch (entry.kind) {
    case 'added':
      return `+ ${entry.path}: ${short(entry.after)}`;
    case 'removed':
      return `- ${entry.path}: ${short(entry.before)}`;
    case 'changed':
      return `~ ${entry.path}: ${short(entry.before)} → ${short(entry.after)}`;
  }
}

/** `512 B`, `1.5 KB`, `2.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatMatch(match: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(match)
    .map(([k, values]) => `${k}=${values.join('|')}`)
    .join(' & ');
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}

/**
 * The lines about an automated rollout and the last one that ended (none for a pointer without
 * either): `rollout: stepping …`, `alarms unknown since …`, `last rollout: …`.
 */
export function describeRollout(pointer: Pointer): string[] {
  const lines: string[] = [];
  const candidate = pointer.candidate;
  const strategy = candidate?.strategy;
  if (candidate && strategy) {
    const step =
      strategy.growth === 'linear' ? `+${strategy.stepPercent}%` : `×${1 + strategy.stepPercent / 100}`;
    const alarms = strategy.alarms.length === 0 ? 'no alarms' : `alarms ${strategy.alarms.join(', ')}`;
    const phase = rolloutPhase(candidate);
    const next = phase === 'baking' ? 'promotion' : 'next step';
    lines.push(
      `rollout: ${phase} at ${candidate.percentage}%, ${strategy.growth} ${step} every ${formatDuration(strategy.everyMs)}, ` +
        `bake ${formatDuration(strategy.bakeMs)}, ${alarms}; started ${strategy.startedAt}, ` +
        `${next} at ${nextMoveAt({ ...candidate, strategy }).toISOString()} if every alarm stays clear`,
    );
    if (strategy.alarmsUnknownSince) {
      lines.push(
        `alarms unknown since ${strategy.alarmsUnknownSince}: the rollout holds, and rolls back if they stay unknown`,
      );
    }
  }
  if (pointer.lastRollout) lines.push(`last rollout: ${describeOutcome(pointer.lastRollout)}`);
  return lines;
}

/** `version 4 rolled back at 30% (alarm errors in ALARM) at … by rollout-controller`. */
export function describeOutcome(outcome: RolloutOutcome): string {
  const alarms = outcome.alarms?.join(', ');
  const why = {
    baked: 'after its bake',
    alarm: `alarm ${alarms} in ALARM`,
    'alarms-unknown': `alarm ${alarms} could not be read`,
    manual: 'by hand',
    superseded: 'replaced by a newer publish',
  }[outcome.reason];
  return `version ${outcome.version} ${outcome.outcome} at ${outcome.percentage}% (${why}) at ${outcome.at} by ${outcome.by}`;
}

/** One line for what a controller tick did. */
export function describeTick(result: TickResult): string {
  const { name, action, pointer } = result;
  const unknown = [...result.unknownAlarms].map(([alarm, why]) => `${alarm}: ${why}`).join('; ');
  switch (action.kind) {
    case 'advance':
      return `${name}: candidate at ${action.to}% (was ${action.from}%; generation ${pointer?.generation})`;
    case 'promote':
      return `${name}: candidate ${action.version} promoted after its bake: stable ${action.version} (generation ${pointer?.generation})`;
    case 'rollback':
      return `${name}: candidate ${action.version} rolled back (${action.reason === 'alarm' ? `alarm ${action.alarms.join(', ')} in ALARM` : `alarm ${action.alarms.join(', ')} could not be read`}): stable ${pointer?.stable} (generation ${pointer?.generation})`;
    case 'hold':
      return `${name}: holding, alarms unknown since ${action.since} (${unknown}); rolls back at ${action.rollbackAt}`;
    case 'resume':
      return `${name}: every alarm readable again; the rollout goes on`;
    case 'conflict':
      return `${name}: the pointer moved to generation ${action.actualGeneration ?? '?'} during the tick; nothing done`;
    case 'none':
      return action.reason === 'no-rollout'
        ? `${name}: no automated rollout`
        : `${name}: waiting; next move at ${action.nextAt}`;
  }
}

/** `90s`, `5m`, `1h30m`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec ? `${sec}s` : ''}`;
}
