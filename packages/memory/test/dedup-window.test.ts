import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../src/index.js';

const id = (n: number) => `0190a0b0-c0d0-7e00-8000-${String(n).padStart(12, '0')}`;

describe('the memory adapter forgets idempotency keys once their window has passed', () => {
  it('keeps only keys still inside the window (every key was kept for ever), and a key sent again starts a new window', async () => {
    let now = 1_000_000;
    const adapter = memoryAdapter({ clock: { now: () => now }, deduplicationWindowMs: 1_000 });
    await adapter.ensureQueue('dedup');
    const keys = () => adapter.store.queues.get('dedup')?.dedup.size;
    await adapter.send(
      'dedup',
      Array.from({ length: 500 }, (_, n) => ({ id: id(n), body: '{}', deduplicationKey: `k${n}` })),
    );
    expect(keys(), 'keys held after 500 keyed sends').toBe(500);
    now += 600;
    // Sent again inside its window: a duplicate, and its window does not move.
    const [again] = await adapter.send('dedup', [{ id: id(900), body: '{}', deduplicationKey: 'k7' }]);
    expect(again, 'k7 again, 600 ms later').toEqual({ id: id(7), duplicate: true });
    await adapter.send('dedup', [{ id: id(901), body: '{}', deduplicationKey: 'fresh' }]);
    now += 500; // the first 500 keys are past their window, 'fresh' is not
    await adapter.send('dedup', [{ id: id(902), body: '{}', deduplicationKey: 'k7' }]);
    expect(keys(), 'keys held: fresh, and k7 sent again after its window').toBe(2);
    const [late] = await adapter.send('dedup', [{ id: id(903), body: '{}', deduplicationKey: 'k7' }]);
    expect(late, 'k7 a third time, inside its new window').toEqual({ id: id(902), duplicate: true });
    now += 1_000;
    await adapter.send('dedup', [{ id: id(904), body: '{}' }]);
    expect(keys(), 'keys held once every window has passed').toBe(0);
    await adapter.close();
  });
});
