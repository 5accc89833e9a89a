import type { Adapter, LeaseHandle, ReceivedMessage } from '@bg/core';

/**
 * Test-only breakages of the worker processes: each one loses jobs on purpose, so that a test
 * can prove the harness's verdict catches it (`test/self-proof.test.ts`). Never set in a real
 * run: `runChaos` and the worker pool run healthy workers unless a test asks for one.
 *
 * - `ack-on-receive`: the classic "lost on crash" bug. The adapter the worker uses acks every
 *   delivery of a healthy job as soon as `receive` returns it, before its handler runs, so a
 *   `kill -9` while such jobs are in hand (waiting for a slot or running) loses them.
 */
export type TestOnlyBreakage = 'ack-on-receive';

/** The environment variable that carries a {@link TestOnlyBreakage} to a worker process. */
export const TEST_ONLY_BREAKAGE_ENV = 'CHAOS_TEST_ONLY_BREAKAGE';

/** The breakage named by `value` (the worker's environment), or undefined for a healthy worker. */
export function testOnlyBreakage(value: string | undefined): TestOnlyBreakage | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'ack-on-receive') return value;
  throw new Error(`${TEST_ONLY_BREAKAGE_ENV}: unknown breakage ${JSON.stringify(value)} (ack-on-receive)`);
}

/**
 * The `ack-on-receive` breakage: `adapter`, except that every delivery whose `bg-type`
 * attribute is `jobType` is acked (removed from the backend) inside `receive`, before the
 * worker sees it. The worker is none the wiser: its later `extend` of such a handle is
 * answered as if it had worked and its `ack` is a no-op, so nothing but a crash shows the
 * bug. Only a job type whose handler never fails is broken this way (the chaos harness's
 * healthy jobs): a flaky or poison job, or garbage, needs its lease to be retried or
 * dead-lettered, and without it would go missing with no kill at all. So with this breakage
 * a job can only be lost by a kill that lands while the killed worker had it in hand.
 *
 * Wrap it around the traced adapter (`traceAdapter`), not inside it: the harness's own
 * bookkeeping (the `received` ledger line) is written before the early ack, as for a healthy
 * worker, and every job lost this way has one.
 */
export function ackOnReceive(adapter: Adapter, jobType: string): Adapter {
  const acked = new Set<LeaseHandle>();
  const receive: Adapter['receive'] = async (queue, options) => {
    const messages = await adapter.receive(queue, options);
    const early = messages.filter((m: ReceivedMessage) => m.attributes['bg-type'] === jobType);
    // One that could not be acked (the backend is down) keeps its lease and runs as usual.
    const results = await Promise.allSettled(early.map((m) => adapter.ack(queue, m.handle)));
    for (const [i, r] of results.entries()) {
      const m = early[i];
      if (m && r.status === 'fulfilled') acked.add(m.handle);
    }
    return messages;
  };
  const extend: Adapter['extend'] = async (queue, handle, leaseMs) => {
    if (acked.has(handle)) return { handle, leaseExpiresAt: Date.now() + leaseMs };
    return adapter.extend(queue, handle, leaseMs);
  };
  const ack: Adapter['ack'] = async (queue, handle) => {
    if (acked.delete(handle)) return;
    return adapter.ack(queue, handle);
  };
  return new Proxy(adapter, {
    get(target, key) {
      if (key === 'receive') return receive;
      if (key === 'extend') return extend;
      if (key === 'ack') return ack;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
