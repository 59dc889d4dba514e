/**
 * The final report of `pipeline dlq redrive`: printed as lines for people or, with `--json`, as one
 * line of JSON (a stable shape scripts rely on).
 */

import { codeLabel } from './letters.ts';
import type { MoveTaskState } from './move-task.ts';
import type { MoverStats } from './mover.ts';

/** How the messages were (or would be) moved. */
export type RedriveMethod = 'move-task' | 'mover';

interface SummaryBase {
  readonly source: string;
  readonly destination: string;
  readonly method: RedriveMethod;
  readonly dryRun: boolean;
  /** `--filter` codes; `null`: every message. */
  readonly codes: readonly string[] | null;
  readonly elapsedMs: number;
  /** Stopped by Ctrl-C. */
  readonly interrupted: boolean;
}

/** A redrive SQS ran itself (`StartMessageMoveTask`). */
export interface MoveTaskSummary extends SummaryBase {
  readonly method: 'move-task';
  readonly task: MoveTaskState;
  /** The task was already running (started elsewhere or by an interrupted run) and was followed. */
  readonly attached: boolean;
}

/** A redrive by the mover (or a dry run). */
export interface MoverSummary extends SummaryBase, Omit<MoverStats, 'possiblyDuplicated'> {
  readonly method: 'mover';
  readonly possiblyDuplicated: readonly string[];
  /** Why StartMessageMoveTask was not used, when it was tried. */
  readonly fallbackReason?: string;
  /** The journal file; absent when nothing was left pending in it (the file was removed). */
  readonly journal?: string;
}

export type RedriveSummary = MoveTaskSummary | MoverSummary;

/** 0 done, 1 something stayed behind or failed, 130 interrupted. */
export function exitCodeOf(summary: RedriveSummary): number {
  if (summary.interrupted) return 130;
  if (summary.method === 'move-task') return summary.task.status === 'COMPLETED' ? 0 : 1;
  return summary.failed > 0 || summary.deletePending > 0 ? 1 : 0;
}

/** The summary as `--json` prints it (one line) or as lines for people. */
export function formatRedriveSummary(s: RedriveSummary, json: boolean): string {
  if (json) return `${JSON.stringify(s)}\n`;
  const n = (value: number) => value.toLocaleString('en-US');
  const seconds = `${(s.elapsedMs / 1000).toFixed(2)} s`;
  const route = `from ${s.source} to ${s.destination}`;
  const lines: string[] = [];
  if (s.method === 'move-task') {
    const { task } = s;
    const of = task.toMove === undefined ? '' : ` of ${n(task.toMove)}`;
    const how = s.attached ? 'the SQS message move task already running' : 'an SQS message move task';
    lines.push(
      `${s.interrupted ? 'stopped following: ' : ''}moved ${n(task.moved)}${of} message(s) ${route} with ${how} in ${seconds}: ${task.status}`,
    );
    if (task.failureReason) lines.push(`failure reason: ${task.failureReason}`);
    if (s.interrupted && task.taskHandle) {
      lines.push(
        `the task goes on in SQS; stop it with: aws sqs cancel-message-move-task --task-handle ${task.taskHandle}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
  const verb = s.dryRun ? 'dry run: would move' : `${s.interrupted ? 'interrupted: ' : ''}moved`;
  lines.push(`${verb} ${n(s.moved)} message(s) ${route} (receive → send → delete) in ${seconds}`);
  if (s.fallbackReason)
    lines.push(`StartMessageMoveTask is not available there (${s.fallbackReason}): used the mover`);
  const codes = Object.entries(s.byCode)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${codeLabel(code)} ×${n(count)}`);
  if (codes.length > 0) lines.push(`  ${codes.join(', ')}`);
  if (s.codes !== null)
    lines.push(`left in the DLQ (other codes than ${s.codes.map(codeLabel).join(', ')}): ${n(s.left)}`);
  if (s.resumed > 0) lines.push(`of which ${n(s.resumed)} sent by an interrupted run and deleted now`);
  if (s.released > 0) lines.push(`handed back ${n(s.released)} message(s) an interrupted run had hidden`);
  if (s.failed > 0) {
    const reasons = Object.entries(s.failedByReason).map(([reason, count]) => `${reason} ×${n(count)}`);
    lines.push(`failed ${n(s.failed)} (still in the DLQ): ${reasons.join(', ')}`);
  }
  if (s.deletePending > 0) {
    lines.push(
      `sent but not yet deleted from the DLQ: ${n(s.deletePending)} (run again: they are deleted, not re-sent)`,
    );
  }
  if (s.possiblyDuplicated.length > 0) {
    lines.push(
      `possibly delivered twice (an interrupted send's answer was lost): ${s.possiblyDuplicated.join(', ')}; ` +
        'the copies carry the same RedriveSourceMessageId attribute',
    );
  }
  if (s.journal) lines.push(`journal: ${s.journal}`);
  return `${lines.join('\n')}\n`;
}
