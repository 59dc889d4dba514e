/**
 * How `pipeline snapshot` prints pointers, manifests and diffs for people.
 */

import type { DiffEntry, Manifest, Pointer } from '../../snapshots/index.ts';

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
