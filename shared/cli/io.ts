/**
 * The streams and working directory a CLI command reads and writes. Commands depend on this, never
 * on the entry point (`pipeline.ts`), so the program and its commands form no import cycle.
 */

/** Where the CLI reads and writes; the process's own streams in `main`, buffers in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Progress and errors. A TTY gets a progress bar, anything else plain periodic lines. */
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
  /** Relative paths (input files, `--stack-file`) resolve against it. */
  readonly cwd: string;
  /** Aborting stops reading input; what was read is still sent, then the summary is printed. */
  readonly signal?: AbortSignal;
}
