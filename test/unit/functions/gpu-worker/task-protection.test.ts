import { describe, expect, it } from 'vitest';
import { EcsTaskProtection, protectionAction } from '../../../../functions/gpu-worker/task-protection.ts';

describe('protectionAction', () => {
  it.each([
    [{ enabled: false, expiresAt: 0 }, true, 'enable'],
    [{ enabled: true, expiresAt: 10_000 }, true, 'none'],
    [{ enabled: true, expiresAt: 1_500 }, true, 'enable'],
    [{ enabled: true, expiresAt: 10_000 }, false, 'disable'],
    [{ enabled: false, expiresAt: 0 }, false, 'none'],
  ] as const)('%j busy=%s → %s', (state, busy, action) => {
    // Act & Assess
    expect(protectionAction(state, busy, 1_000, 1_000)).toBe(action);
  });
});

describe('EcsTaskProtection', () => {
  it('calls the agent endpoint on busy/idle changes and renews only when expiring', async () => {
    // Prepare
    let now = 0;
    const bodies: unknown[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      expect(url).toBe('http://169.254.170.2/api/task-protection/v1/state');
      bodies.push(JSON.parse(String(init.body)));
      return new Response(JSON.stringify({ protection: {} }), { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    const protection = new EcsTaskProtection({
      agentUri: 'http://169.254.170.2/api',
      expiresInMinutes: 10,
      renewBeforeMs: 60_000,
      fetch,
      now: () => now,
    });
    // Act
    await protection.setBusy(true);
    now = 5 * 60_000;
    await protection.setBusy(true);
    now = 9.5 * 60_000;
    await protection.setBusy(true);
    await protection.setBusy(false);
    // Assess
    expect(bodies).toEqual([
      { ProtectionEnabled: true, ExpiresInMinutes: 10 },
      { ProtectionEnabled: true, ExpiresInMinutes: 10 },
      { ProtectionEnabled: false },
    ]);
  });

  it('reports a refused call and tries again on the next change', async () => {
    // Prepare
    const errors: unknown[] = [];
    let calls = 0;
    const fetch = (async () => {
      calls++;
      return new Response(JSON.stringify({ failure: { Reason: 'TASK_NOT_VALID' } }), { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    const protection = new EcsTaskProtection({
      agentUri: 'http://agent',
      fetch,
      onError: (e) => errors.push(e),
    });
    // Act
    await protection.setBusy(true);
    await protection.setBusy(true);
    // Assess
    expect(calls).toBe(2);
    expect(String(errors[0])).toContain('TASK_NOT_VALID');
  });
});
