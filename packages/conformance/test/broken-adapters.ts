import { type Adapter, isBgError } from '@bg/core';
import { type MemoryAdapter, type MemoryStore, memoryAdapter } from '@bg/memory';
import { sharedMemory } from './memory-options.js';

/** A deliberately broken memory adapter and the case that must catch it. */
export interface BrokenVariant {
  readonly name: string;
  readonly caughtBy: string;
  readonly make: (store: MemoryStore | undefined) => Adapter;
}

function broken(store: MemoryStore | undefined, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

/** The broken variants the suite must catch, each by a named case. */
export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  {
    name: 'ack that keeps the job',
    caughtBy: 'lease.ack-removes',
    make: (s) => broken(s, () => ({ ack: async () => {} })),
  },
  {
    name: 'lease not honoured',
    caughtBy: 'lease.expiry-redelivers',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, leaseMs: 1 }) })),
  },
  {
    name: 'lease not honoured (competing consumers)',
    caughtBy: 'delivery.competing-consumers',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, leaseMs: 1 }) })),
  },
  {
    name: 'delivery count not increased',
    caughtBy: 'lease.expiry-redelivers',
    make: (s) =>
      broken(s, (inner) => ({ receive: async (q, o) => (await inner.receive(q, o)).map((m) => ({ ...m, deliveryCount: 1 })) })),
  },
  {
    name: 'release that ignores the delay',
    caughtBy: 'release.delayed',
    make: (s) => broken(s, (inner) => ({ release: (q, h) => inner.release(q, h, 0) })),
  },
  {
    name: 'dead letter that drops the bytes',
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: async (q, m, i) => {
          await inner.deadLetter(q, m, i);
          const dead = inner.store.queue(q).dead;
          const record = dead.get(m.id);
          if (record) dead.set(m.id, { ...record, body: record.body.slice(0, -1) });
        },
      })),
  },
  {
    name: 'dead letter that drops the reason',
    caughtBy: 'dead-letter.moves-original',
    make: (s) => broken(s, (inner) => ({ deadLetter: (q, m, i) => inner.deadLetter(q, m, { ...i, reason: 'manual' }) })),
  },
  {
    name: 'dead letter that removes the original first',
    caughtBy: 'dead-letter.crash-between-write-and-remove',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: async (q, m, i) => {
          await inner.ack(q, m.handle);
          await inner.deadLetter(q, m, i).catch(() => {});
        },
      })),
  },
  {
    name: 'stale-handle ack that succeeds',
    caughtBy: 'lease.stale-handle-after-expiry',
    make: (s) =>
      broken(s, (inner) => ({
        ack: async (q, h) => {
          try {
            await inner.ack(q, h);
          } catch (error) {
            if (!isBgError(error, 'LEASE_LOST')) throw error;
          }
        },
      })),
  },
  {
    name: 'replay that loses the id',
    caughtBy: 'dead-letter.manage',
    make: (s) =>
      broken(s, (inner) => ({
        replayDeadLetter: async (q, id) => {
          const dead = await inner.getDeadLetter(q, id);
          if (!dead) return false;
          await inner.send(q, [{ id: `${id}-replayed`, body: dead.body, attributes: dead.attributes }]);
          await inner.purgeDeadLetters(q, [id]);
          return true;
        },
      })),
  },
  {
    name: 'size limit not enforced',
    caughtBy: 'limits.max-payload',
    make: (s) => {
      const lenient = memoryAdapter({ ...(s ? { store: s } : {}), capabilities: { maxPayloadBytes: 1024 * 1024 } });
      return Object.assign(Object.create(lenient) as MemoryAdapter, lenient, { capabilities: sharedMemory(s).capabilities });
    },
  },
  {
    name: 'long poll that ignores abort',
    caughtBy: 'delivery.empty-and-abort',
    make: (s) =>
      broken(s, (inner) => ({
        receive: (q, o) => inner.receive(q, { ...o, signal: undefined as never, waitMs: Math.min(o.waitMs ?? 0, 2_000) }),
      })),
  },
  {
    name: 'queues not isolated',
    caughtBy: 'delivery.queue-isolation',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const own = await inner.receive(q, o);
          if (own.length > 0) return own;
          for (const other of inner.store.queues.keys()) {
            if (other !== q) {
              const stolen = await inner.receive(other, { ...o, waitMs: 0 });
              if (stolen.length > 0) return stolen;
            }
          }
          return [];
        },
      })),
  },
  {
    name: 'delivery count stuck at 1 (poison retried forever)',
    caughtBy: 'worker.max-attempts',
    make: (s) =>
      broken(s, (inner) => ({ receive: async (q, o) => (await inner.receive(q, o)).map((m) => ({ ...m, deliveryCount: 1 })) })),
  },
  {
    name: 'dead letter that writes nothing',
    caughtBy: 'worker.permanent-error',
    make: (s) => broken(s, () => ({ deadLetter: async () => {} })),
  },
  {
    name: 'release that drops the job',
    caughtBy: 'worker.graceful-stop',
    make: (s) => broken(s, (inner) => ({ release: (q, h) => inner.ack(q, h) })),
  },
  {
    name: 'use after close allowed',
    caughtBy: 'lifecycle.close',
    make: (s) => broken(s, () => ({ close: async () => {} })),
  },
];
