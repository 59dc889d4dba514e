/**
 * The progress bar of `pipeline dlq redrive` on stderr: only on a TTY, never with `--json` or
 * `--quiet` (scripts read the summary, not the bar).
 */

import cliProgress from 'cli-progress';
import type { CliIo } from '../io.ts';

export interface ProgressSnapshot {
  readonly done: number;
  /** Messages expected, when known (the DLQ's approximate depth at the start). */
  readonly total?: number;
}

export interface Progress {
  /** Stops the updates; the bar shows the final count first. */
  stop(): void;
}

/** Shows `snapshot()` every 200 ms under `label` while the redrive runs. */
export function startProgress(
  io: CliIo,
  label: string,
  snapshot: () => ProgressSnapshot,
  enabled: boolean,
): Progress {
  if (!enabled || !io.stderr.isTTY) return { stop: () => {} };
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr,
      format: `${label} |{bar}| {value}/{total} | {rate} msgs/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const update = () => {
    const { done, total } = snapshot();
    const seconds = (performance.now() - started) / 1000;
    bar.setTotal(Math.max(total ?? done, done));
    bar.update(done, { rate: Math.round(done / Math.max(seconds, 0.001)) });
  };
  bar.start(Math.max(snapshot().total ?? 0, 0), 0, { rate: 0 });
  const timer = setInterval(update, 200);
  return {
    stop() {
      clearInterval(timer);
      update();
      bar.stop();
    },
  };
}
