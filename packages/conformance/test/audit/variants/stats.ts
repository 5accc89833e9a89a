import type { KnownQueueStats, QueueStats } from '@bg/core';
import { type Harness, must, pause, receiveOne, sendOne } from '../harness.js';
import { healthy, patch, type Variant } from '../variant.js';

/** A queue with 2 ready, 1 leased (long), 1 delayed, 1 whose lease expired, and 1 dead letter. */
async function mixedQueue(h: Harness): Promise<{ q: string; s: QueueStats }> {
  const a = h.adapter();
  const q = await h.queue();
  await sendOne(a, q, { id: 'dead' });
  const d = await receiveOne(a, q, 60_000, `receive on ${q}`);
  await a.deadLetter(q, d, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
  await a.ack(q, d.handle);
  await a.send(q, [
    { id: 'leased', body: '1' },
    { id: 'expired', body: '2' },
  ]);
  const two = await a.receive(q, { max: 2, leaseMs: 300, waitMs: 500 });
  const keep = two.find((m) => m.id === 'leased');
  must(two.length === 2 && keep !== undefined, `receive(max 2) on ${q}: got ${two.map((m) => m.id).join()}`);
  await a.extend(q, keep.handle, 60_000);
  await a.send(q, [
    { id: 'ready-1', body: '3' },
    { id: 'ready-2', body: '4' },
    { id: 'delayed', body: '5', delayMs: 60_000 },
  ]);
  await pause(350); // the 300 ms lease of 'expired' runs out
  return { q, s: await a.stats(q) };
}

/** Checks stats against the mixed queue: ready 3 (2 + the expired lease), in flight 1, delayed 1, dead 1. */
async function statsCheck(h: Harness): Promise<void> {
  const { q, s } = await mixedQueue(h);
  const want = { ready: 3, inFlight: 1, delayed: 1, dead: 1 };
  must(JSON.stringify(s) === JSON.stringify(want), `stats(${q}): ${JSON.stringify(s)}, expected ${JSON.stringify(want)}`);
}

/** A variant that rewrites the stats of the healthy adapter. */
function rewritingStats(
  id: string,
  bug: string,
  rewrite: (s: KnownQueueStats, q: string, store: import('@bg/memory').MemoryStore) => QueueStats,
): Variant {
  return {
    id,
    family: 'stats',
    bug,
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, { stats: async (queue) => rewrite(await inner.stats(queue), queue, store) });
    },
    check: statsCheck,
  };
}

/** Stats bugs. */
export const statsVariants: Variant[] = [
  rewritingStats(
    'stats.expired-lease-in-flight',
    'a message whose lease expired is still counted as in flight',
    (s, q, store) => {
      const now = Date.now();
      const expired = [...store.queue(q).messages.values()].filter((m) => m.state === 'leased' && m.leaseExpiresAt <= now).length;
      return { ...s, ready: s.ready - expired, inFlight: s.inFlight + expired };
    },
  ),
  rewritingStats(
    'stats.delayed-counted-ready',
    'delayed messages are counted as ready (the backend only reports "visible + delayed")',
    (s) => ({
      ...s,
      ready: s.ready + s.delayed,
      delayed: 0,
    }),
  ),
  rewritingStats('stats.in-flight-counted-ready', 'in-flight is reported as 0 and leased messages are counted as ready', (s) => ({
    ...s,
    ready: s.ready + s.inFlight,
    inFlight: 0,
  })),
  rewritingStats('stats.dead-not-counted', 'dead is always 0 (the dead-letter store is not counted)', (s) => ({ ...s, dead: 0 })),
];
