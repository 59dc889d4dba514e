/** What `pipeline simulate --json` prints and its report draws: the source, the notes, and the result. */

import type { SimulationResult } from '../../simulator/index.ts';

export interface SimulationDocument {
  readonly source: { readonly name: string; readonly lines: number; readonly badLines: number };
  readonly cdkOut: string;
  readonly ratePerSec: number;
  readonly durationSeconds: number;
  readonly notes: readonly string[];
  readonly result: SimulationResult;
}
