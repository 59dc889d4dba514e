import { describe, expect, it } from 'vitest';
import { runSnapshotsDemo } from '../../../shared/local/dev/demo/snapshots.ts';

describe('npm start snapshot demo', () => {
  it('shows a routing change taking effect, a dead-lettered change, a canary and a rollback', async () => {
    // Prepare
    const lines: string[] = [];
    const routes = {
      items: {
        tableName: 'items-demo',
        partitionKey: 'pk',
        sortKey: 'sk',
        keyType: 'S',
        ops: ['put', 'delete'],
      },
    } as const;
    // Act
    const result = await runSnapshotsDemo({
      log: (line) => lines.push(line),
      routes: { items: { ...routes.items, ops: [...routes.items.ops] } },
    });
    // Assess
    expect(result).toMatchObject({
      auditRoutedBefore: true,
      auditRoutedAfter: false,
      deadLetteredCodes: ['CHANGE_REJECTED'],
      generation: 4,
      stableVersion: 2,
    });
    expect(Math.abs(result.canaryShare - 0.25)).toBeLessThan(0.05);
    expect(lines.some((line) => line.includes('audit → UNKNOWN_TABLE'))).toBe(true);
  });
});
