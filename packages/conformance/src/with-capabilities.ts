import type { Adapter, Capabilities } from '@bg/core';

/**
 * The same adapter with some manifest values lowered, delegating every call. The worker
 * group uses it to exercise the core's delay hop without waiting for the backend's real
 * (long) maximum delay.
 */
export function withCapabilities(adapter: Adapter, overrides: Partial<Capabilities>): Adapter {
  return {
    name: adapter.name,
    contractVersion: adapter.contractVersion,
    capabilities: { ...adapter.capabilities, ...overrides },
    ensureQueue: (q) => adapter.ensureQueue(q),
    send: (q, m) => adapter.send(q, m),
    receive: (q, o) => adapter.receive(q, o),
    extend: (q, h, l) => adapter.extend(q, h, l),
    ack: (q, h) => adapter.ack(q, h),
    release: (q, h, d) => adapter.release(q, h, d),
    deadLetter: (q, m, i) => adapter.deadLetter(q, m, i),
    listDeadLetters: (q, o) => adapter.listDeadLetters(q, o),
    getDeadLetter: (q, id) => adapter.getDeadLetter(q, id),
    replayDeadLetter: (q, id) => adapter.replayDeadLetter(q, id),
    purgeDeadLetters: (q, ids) => adapter.purgeDeadLetters(q, ids),
    stats: (q) => adapter.stats(q),
    close: () => adapter.close(),
  };
}
