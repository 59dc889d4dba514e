import { mulberry32 } from '../../../shared/core/random.ts';

/**
 * Seeded pseudo-random JSON of at least `bytes` bytes: device-like entries drawn from a 2,000-word
 * vocabulary, so it compresses like real configuration (about 4:1 with gzip), not trivially.
 * Used by the integration tests and `test/bench/snapshots.ts`.
 */
export function pseudoRandomDocument(bytes: number, seed = 42): Record<string, unknown> {
  const random = mulberry32(seed);
  const words = Array.from({ length: 2000 }, () => Math.floor(random() * 1e9).toString(36));
  const pick = () => words[Math.floor(random() * words.length)]!;
  const entries: Record<string, unknown> = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const entry = {
      id: `device-${i}`,
      model: pick(),
      firmware: `${Math.floor(random() * 10)}.${Math.floor(random() * 100)}`,
      threshold: Math.round(random() * 1e6) / 1e3,
      tags: [pick(), pick()],
      enabled: random() < 0.5,
    };
    const key = `k${i.toString(36)}`;
    entries[key] = entry;
    size += JSON.stringify(entry).length + key.length + 4;
  }
  return { entries };
}
