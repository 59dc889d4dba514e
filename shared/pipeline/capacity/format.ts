/** Numbers for people in the recommendations' reasons, and a clamp. */

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** A number for people: whole above 10, at most 2 decimals below. */
export function fmt(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) >= 10 ? 0 : 2 });
}

/** A share as a percentage, one decimal at most. */
export function pct(share: number): string {
  return `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })} %`;
}
