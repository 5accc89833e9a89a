import { describe, expect, it } from 'vitest';
import { memoryAdapter, memoryInspector } from '../src/index.js';

describe('memory adapter with a fake clock', () => {
  it('leases and delays follow the injected clock', async () => {
    let now = 1_000_000;
    const adapter = memoryAdapter({ clock: { now: () => now } });
    const inspect = memoryInspector(adapter.store);
    await adapter.send('fake', [
      { id: 'a', body: 'x' },
      { id: 'b', body: 'y', delayMs: 10_000 },
    ]);
    const [a] = await adapter.receive('fake', { max: 10, leaseMs: 5_000 });
    expect(a?.id).toBe('a');
    now += 4_999;
    expect(await adapter.receive('fake', { max: 10, leaseMs: 5_000 })).toEqual([]);
    now += 1;
    const again = await adapter.receive('fake', { max: 10, leaseMs: 5_000 });
    expect(again.map((m) => [m.id, m.deliveryCount])).toEqual([['a', 2]]);
    now += 5_000;
    const later = await adapter.receive('fake', { max: 10, leaseMs: 5_000 });
    expect(later.map((m) => m.id).sort()).toEqual(['a', 'b']);
    expect(await inspect.liveCount('fake')).toBe(2);
  });
});
