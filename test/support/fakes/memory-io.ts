import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../../../shared/cli/io.ts';

/** A CliIo writing into strings, reading `stdin` from text. */
export function memoryIo(options: { cwd: string; stdin?: string }): CliIo & { out(): string; err(): string } {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  return {
    stdout: sink((t) => {
      out += t;
    }),
    stderr: sink((t) => {
      err += t;
    }),
    stdin: Readable.from([options.stdin ?? '']),
    cwd: options.cwd,
    out: () => out,
    err: () => err,
  };
}
