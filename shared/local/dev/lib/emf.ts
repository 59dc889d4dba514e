/**
 * Reads the functions' Embedded Metric Format output the way CloudWatch would: a log line that is
 * an EMF document adds each metric it names (a value or an array of values) to the totals.
 */
export class EmfTotals {
  private readonly sums = new Map<string, number>();

  /**
   * Adds the metrics of `line` when it is an EMF document; resolves whether it was one (a structured
   * log line, or anything else, is left alone).
   *
   * @example
   * const emf = new EmfTotals();
   * startLocalCloud({ …, onFunctionLog: (line) => emf.add(line) });
   * emf.get('ItemsWritten');
   */
  add(line: string): boolean {
    const metrics = emfMetrics(line);
    if (metrics === undefined) return false;
    for (const [name, value] of metrics) this.sums.set(name, (this.sums.get(name) ?? 0) + value);
    return true;
  }

  /** The sum of `name` over every document seen so far; 0 when none named it. */
  get(name: string): number {
    return this.sums.get(name) ?? 0;
  }

  /** The sums so far, as a copy. */
  snapshot(): ReadonlyMap<string, number> {
    return new Map(this.sums);
  }
}

interface EmfDocument {
  readonly _aws?: {
    readonly CloudWatchMetrics?: readonly { readonly Metrics?: readonly { Name: string }[] }[];
  };
  readonly [key: string]: unknown;
}

/** The metrics of one EMF log line, summed per name; `undefined` when the line is no EMF document. */
export function emfMetrics(line: string): Map<string, number> | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let doc: EmfDocument;
  try {
    doc = JSON.parse(text) as EmfDocument;
  } catch {
    return undefined;
  }
  const directives = doc._aws?.CloudWatchMetrics;
  if (!Array.isArray(directives)) return undefined;
  const metrics = new Map<string, number>();
  for (const directive of directives) {
    for (const { Name } of directive.Metrics ?? []) {
      const value = doc[Name];
      const values = Array.isArray(value) ? value : [value];
      const sum = values.reduce<number>(
        (total, v) => total + (Number.isFinite(Number(v)) ? Number(v) : 0),
        0,
      );
      metrics.set(Name, (metrics.get(Name) ?? 0) + sum);
    }
  }
  return metrics;
}
