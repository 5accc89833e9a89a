import { createQueue } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import type { BootPhase } from '../src/boot-phases.js';
import { healthyJob } from '../src/jobs.js';
import { traceAdapter } from '../src/trace-adapter.js';

describe('traceAdapter', () => {
  it('marks the first ensureQueue and receive, reports every delivery, and leaves the rest to the adapter', async () => {
    const marks: BootPhase[] = [];
    const received: string[] = [];
    const inner = memoryAdapter();
    const adapter = traceAdapter(inner, { mark: (p) => marks.push(p), received: (m) => received.push(m.id) });
    await adapter.ensureQueue('trace-q');
    await adapter.ensureQueue('trace-q');
    const [a, b] = await createQueue({ adapter, queue: 'trace-q' }).enqueueMany(healthyJob, [
      { n: 1, workMs: 0 },
      { n: 2, workMs: 0 },
    ]);
    const first = await adapter.receive('trace-q', { max: 1, leaseMs: 1_000 });
    const second = await adapter.receive('trace-q', { max: 1, leaseMs: 1_000 });
    expect(marks, 'one milestone per first call, in order').toEqual(['ensure-queue', 'receive', 'received']);
    expect(received, 'every delivery receive returned, in order').toEqual([a?.id, b?.id]);
    for (const m of [...first, ...second]) await adapter.ack('trace-q', m.handle);
    expect((await adapter.stats('trace-q')).ready, 'ack went to the real adapter: nothing left').toBe(0);
    expect(adapter.capabilities, 'capabilities are the adapter’s own').toBe(inner.capabilities);
    await adapter.close();
  });
});
