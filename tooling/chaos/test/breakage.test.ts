import { createMemoryStore, memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { ackOnReceive, testOnlyBreakage } from '../src/breakage.js';

describe('ackOnReceive (test-only breakage)', () => {
  it('acks deliveries of the broken job type inside receive, and hides it from the worker', async () => {
    const adapter = memoryAdapter({ store: createMemoryStore() });
    await adapter.ensureQueue('broken-queue');
    await adapter.send('broken-queue', [
      { id: 'h', body: '{}', attributes: { 'bg-type': 'chaos.healthy' } },
      { id: 'f', body: '{}', attributes: { 'bg-type': 'chaos.flaky' } },
    ]);
    const broken = ackOnReceive(adapter, 'chaos.healthy');
    const got = await broken.receive('broken-queue', { max: 10, leaseMs: 60_000 });
    expect(got.map((m) => m.id).sort()).toEqual(['f', 'h']);
    // Only the flaky job is still stored (in flight): the healthy one is gone already.
    expect(await adapter.stats('broken-queue')).toMatchObject({ ready: 0, inFlight: 1, delayed: 0 });
    const healthy = got.find((m) => m.id === 'h');
    if (!healthy) throw new Error('no healthy delivery');
    // The worker sees nothing wrong: extend and ack of the acked delivery succeed.
    await expect(broken.extend('broken-queue', healthy.handle, 30_000)).resolves.toMatchObject({ handle: healthy.handle });
    await expect(broken.ack('broken-queue', healthy.handle)).resolves.toBeUndefined();
    await adapter.close();
  });

  it('is off unless named, and refuses an unknown name', () => {
    expect(testOnlyBreakage(undefined)).toBeUndefined();
    expect(testOnlyBreakage('')).toBeUndefined();
    expect(testOnlyBreakage('ack-on-receive')).toBe('ack-on-receive');
    expect(() => testOnlyBreakage('ack-early')).toThrow(/unknown breakage/);
  });
});
