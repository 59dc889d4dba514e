/**
 * Reads the functions' Embedded Metric Format output the way CloudWatch would: intercepts stdout,
 * sums every metric of every EMF document, and keeps JSON log lines out of the demo's output.
 */
export interface EmfCapture {
  /** Sum of each metric over every EMF document seen so far. */
  readonly totals: Map<string, number>;
  restore(): void;
}

export function captureEmf(options: { passLogs?: boolean } = {}): EmfCapture {
  const totals = new Map<string, number>();
  const original = process.stdout.write.bind(process.stdout);
  let partial = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    const kept = lines.filter((line) => !consume(line, totals, options.passLogs ?? false));
    if (kept.length === 0) return true;
    return (original as (c: string, ...r: unknown[]) => boolean)(`${kept.join('\n')}\n`, ...rest);
  }) as typeof process.stdout.write;
  return {
    totals,
    restore() {
      process.stdout.write = original;
    },
  };
}

function consume(line: string, totals: Map<string, number>, passLogs: boolean): boolean {
  if (!line.startsWith('{')) return false;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return false;
  }
  const aws = doc._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
  if (!aws?.CloudWatchMetrics) return !passLogs; // a structured log line
  for (const directive of aws.CloudWatchMetrics) {
    for (const { Name } of directive.Metrics) {
      const value = doc[Name];
      const sum = Array.isArray(value)
        ? value.reduce((a: number, b: number) => a + b, 0)
        : Number(value ?? 0);
      totals.set(Name, (totals.get(Name) ?? 0) + sum);
    }
  }
  return true;
}
