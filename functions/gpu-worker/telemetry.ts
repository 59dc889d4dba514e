import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * GPU telemetry from `nvidia-smi`: utilisation, memory, temperature, power, SM clock and the
 * clock event ("throttle") reasons bitmask. Parsing and the throttle decision are pure; the sampler
 * switches itself off when `nvidia-smi` is absent (CPU hosts, local runs).
 */

/** Clock event reason bits (NVML `nvmlClocksEventReason*`). */
export const ClockEventReason = {
  GpuIdle: 0x1n,
  ApplicationsClocksSetting: 0x2n,
  SwPowerCap: 0x4n,
  HwSlowdown: 0x8n,
  SyncBoost: 0x10n,
  SwThermalSlowdown: 0x20n,
  HwThermalSlowdown: 0x40n,
  HwPowerBrakeSlowdown: 0x80n,
  DisplayClockSetting: 0x100n,
} as const;

/** Reasons that mean heat or power is slowing the GPU down: time to run smaller batches. */
const THROTTLING =
  ClockEventReason.SwPowerCap |
  ClockEventReason.HwSlowdown |
  ClockEventReason.SwThermalSlowdown |
  ClockEventReason.HwThermalSlowdown |
  ClockEventReason.HwPowerBrakeSlowdown;

export interface GpuSample {
  readonly index: number;
  readonly name: string;
  readonly utilizationPercent?: number;
  readonly memoryUsedMiB?: number;
  readonly memoryTotalMiB?: number;
  readonly temperatureC?: number;
  readonly powerDrawW?: number;
  readonly smClockMHz?: number;
  /** Raw clock event reasons bitmask; undefined when the driver does not report it. */
  readonly clockEventReasons?: bigint;
  readonly thermalThrottled: boolean;
  readonly powerThrottled: boolean;
}

/** The fields asked for, in order. `clocks_event_reasons` is the current name (drivers ≥ 535). */
export const QUERY_FIELDS = [
  'index',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'clocks.sm',
  'clocks_event_reasons.active',
] as const;

/** Older drivers only know the deprecated name of the last field. */
export const LEGACY_QUERY_FIELDS = [...QUERY_FIELDS.slice(0, -1), 'clocks_throttle_reasons.active'] as const;

function numberOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  return value.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

function bitmaskOf(value: string | undefined): bigint | undefined {
  const text = value?.trim();
  if (!text || !/^0x[0-9a-f]+$/i.test(text)) return undefined;
  return BigInt(text);
}

/**
 * Parses `nvidia-smi --query-gpu=<QUERY_FIELDS> --format=csv,noheader,nounits` output: one line
 * per GPU. Values nvidia-smi cannot report (`[N/A]`, `[Not Supported]`) come back undefined.
 */
export function parseNvidiaSmi(output: string): GpuSample[] {
  return output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const cells = line.split(',').map((c) => c.trim());
      const index = numberOf(cells[0]);
      if (index === undefined || cells.length < QUERY_FIELDS.length) {
        throw new SyntaxError(
          `nvidia-smi line has ${cells.length} fields, expected ${QUERY_FIELDS.length}: "${line}"`,
        );
      }
      const reasons = bitmaskOf(cells[8]);
      return {
        index,
        name: cells[1] ?? '',
        utilizationPercent: numberOf(cells[2]),
        memoryUsedMiB: numberOf(cells[3]),
        memoryTotalMiB: numberOf(cells[4]),
        temperatureC: numberOf(cells[5]),
        powerDrawW: numberOf(cells[6]),
        smClockMHz: numberOf(cells[7]),
        clockEventReasons: reasons,
        thermalThrottled:
          reasons !== undefined &&
          (reasons &
            (ClockEventReason.SwThermalSlowdown |
              ClockEventReason.HwThermalSlowdown |
              ClockEventReason.HwSlowdown)) !==
            0n,
        powerThrottled:
          reasons !== undefined &&
          (reasons & (ClockEventReason.SwPowerCap | ClockEventReason.HwPowerBrakeSlowdown)) !== 0n,
      };
    });
}

/** Whether any sampled GPU is slowed by heat or power. */
export function isThrottled(samples: readonly GpuSample[]): boolean {
  return samples.some((s) => s.clockEventReasons !== undefined && (s.clockEventReasons & THROTTLING) !== 0n);
}

export type RunCommand = (file: string, args: readonly string[]) => Promise<string>;

const execFileAsync = promisify(execFile);
const defaultRun: RunCommand = async (file, args) =>
  (await execFileAsync(file, [...args], { timeout: 10_000 })).stdout;

/** What became of telemetry: on, or off and why (logged once). */
export type TelemetryState =
  | { readonly enabled: true }
  | { readonly enabled: false; readonly reason: string };

/**
 * Samples `nvidia-smi`. The first failure to start it (ENOENT: no driver, CPU host) switches
 * sampling off for good; a failing sample on a GPU host is reported and sampling goes on.
 */
export class NvidiaSmiSampler {
  private fields: readonly string[] = QUERY_FIELDS;
  private state: TelemetryState = { enabled: true };

  constructor(
    private readonly run: RunCommand = defaultRun,
    private readonly command = 'nvidia-smi',
  ) {}

  get status(): TelemetryState {
    return this.state;
  }

  /** One sample per GPU; `undefined` once telemetry is off. */
  async sample(): Promise<GpuSample[] | undefined> {
    if (!this.state.enabled) return undefined;
    try {
      return parseNvidiaSmi(await this.query());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') {
        this.state = { enabled: false, reason: `${this.command} not available (${code})` };
        return undefined;
      }
      throw error;
    }
  }

  private async query(): Promise<string> {
    const args = (fields: readonly string[]) => [
      `--query-gpu=${fields.join(',')}`,
      '--format=csv,noheader,nounits',
    ];
    try {
      return await this.run(this.command, args(this.fields));
    } catch (error) {
      const text = `${(error as { stdout?: string }).stdout ?? ''}${(error as Error).message ?? ''}`;
      // A driver older than the current field name: ask with the deprecated one from now on.
      if (this.fields === QUERY_FIELDS && /not a valid field/i.test(text)) {
        this.fields = LEGACY_QUERY_FIELDS;
        return this.run(this.command, args(this.fields));
      }
      throw error;
    }
  }
}
