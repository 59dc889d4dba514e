/**
 * Progress of `pipeline send` on stderr: a progress bar on a TTY, a plain line a second otherwise.
 */

import cliProgress from 'cli-progress';
import type { SenderStats } from '../../sqs/index.ts';
import type { CliIo } from '../io.ts';

export interface Progress {
  /** Stops the updates; a bar shows the final count first. */
  stop(): void;
}

/**
 * Starts reporting `stats` (sent + failed) against `total`, when known, from `started`
 * (`performance.now()`).
 */
export function startProgress(
  io: CliIo,
  total: number | undefined,
  started: number,
  stats: () => SenderStats,
): Progress {
  const snapshot = () => {
    const { sent, failed } = stats();
    const seconds = (performance.now() - started) / 1000;
    return { done: sent + failed, rate: Math.round((sent + failed) / Math.max(seconds, 0.001)) };
  };
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr,
        format:
          total === undefined
            ? 'sending | {value} done | {rate} msgs/s'
            : 'sending |{bar}| {percentage}% | {value}/{total} | {rate} msgs/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: 0 });
    const timer = setInterval(() => {
      const { done, rate } = snapshot();
      bar.update(done, { rate });
    }, 200);
    return {
      stop() {
        clearInterval(timer);
        const { done, rate } = snapshot();
        bar.update(done, { rate });
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => {
    const { done, rate } = snapshot();
    const of = total === undefined ? '' : `/${total} (${Math.floor((done / Math.max(total, 1)) * 100)}%)`;
    const eta = total === undefined || rate === 0 ? '' : `, ETA ${Math.ceil((total - done) / rate)} s`;
    io.stderr.write(`progress: ${done}${of} done, ${rate} msgs/s${eta}\n`);
  }, 1000);
  return { stop: () => clearInterval(timer) };
}
