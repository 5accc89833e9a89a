import {
  type Adapter,
  BgError,
  type DeadLetter,
  invalidUrl,
  isBgError,
  type OutgoingMessage,
  type ReceivedMessage,
  registerAdapter,
} from '@bg/core';
import { type MemoryAdapter, type MemoryStore, memoryAdapter } from '@bg/memory';
import type { ConformanceOptions } from '../src/index.js';
import { withCapabilities } from '../src/index.js';
import { perStore } from './audit/variant.js';
import { DEAD_LETTER_CONCURRENCY_VARIANTS } from './broken-dead-letter-concurrency.js';
import { OUTSIDE_AUDIT_VARIANTS } from './broken-outside-audit.js';
import { ROUND_FIVE_VARIANTS } from './broken-round-five.js';
import { ROUND_FOUR_AUTHOR_VARIANTS, ROUND_FOUR_VARIANTS } from './broken-round-four.js';
import { ROUND_THREE_VARIANTS } from './broken-round-three.js';
import { ROUND_TWO_VARIANTS } from './broken-round-two.js';
import { failingEverywhere, MEMORY_URL_HOOK, missingQueues, refusingEntries, sharedMemory } from './memory-options.js';

/** A deliberately broken memory adapter and the case that must catch it. */
export interface BrokenVariant {
  readonly name: string;
  readonly caughtBy: string;
  readonly make: (store: MemoryStore) => Adapter;
  /** Options the case needs beyond the memory defaults (scenarios, hooks, a manifest). */
  readonly options?: (store: MemoryStore) => Partial<ConformanceOptions>;
}

function broken(store: MemoryStore | undefined, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The memory seq of a handle (`seq.token`). */
function seqOf(handle: string): number {
  return Number(handle.slice(0, handle.indexOf('.')));
}

/** Memory with `durable: true` and a restart hook that runs `restart` on the store (healthy: keeps everything). */
export function durableMemory(restart: (store: MemoryStore) => void = () => {}): Pick<BrokenVariant, 'make' | 'options'> {
  return {
    make: (s) => withCapabilities(sharedMemory(s), { durable: true }),
    options: (s) => ({
      capabilities: { ...sharedMemory(s).capabilities, durable: true },
      restartBackend: async () => restart(s),
    }),
  };
}

/** The first round of variants (written with the suite). */
const ROUND_ONE: readonly BrokenVariant[] = [
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
  {
    name: 'duplicate that answers with a new id (not the stored one)',
    caughtBy: 'honesty.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, messages) => (await inner.send(q, messages)).map((r, i) => ({ ...r, id: messages[i]?.id ?? r.id })),
      })),
  },
  {
    name: 'stats with made-up zero counts',
    caughtBy: 'honesty.stats',
    make: (s) => broken(s, () => ({ stats: async () => ({ ready: 0, inFlight: 0, delayed: 0, dead: 0 }) })),
  },
  {
    name: 'deleteQueue that leaves the queue',
    caughtBy: 'queues.exists-list-delete',
    make: (s) => broken(s, () => ({ deleteQueue: async () => true })),
  },
  {
    name: 'deleteQueue that deletes every queue whose name starts with the name ("q" takes "q-b" along)',
    caughtBy: 'queues.exists-list-delete',
    make: (s) =>
      broken(s, (inner) => ({
        deleteQueue: async (q) => {
          const doomed = [...inner.store.queues.keys()].filter((n) => n.startsWith(q));
          for (const n of doomed) await inner.deleteQueue(n);
          return doomed.length > 0;
        },
      })),
  },
  {
    name: 'queueExists that always says yes (a missing queue is created behind missingQueue: fail)',
    caughtBy: 'queues.missing-queue-policy',
    make: (s) => broken(s, () => ({ queueExists: async () => true })),
  },
];

/** Variants for the round-two cases (issue 15): each a single realistic bug. */
const NEW_VARIANTS: readonly BrokenVariant[] = [
  {
    name: 'stale deadLetter that writes anyway (no ownership check)',
    caughtBy: 'lease.stale-handle-after-expiry',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: async (q, m, i) => {
          inner.store.queue(q).dead.set(m.id, { id: m.id, body: m.body, attributes: m.attributes, ...i });
        },
      })),
  },
  {
    name: 'old handle still works after a rotation (mapped to the newest)',
    caughtBy: 'lease.stale-handle-after-rotation',
    make: (s) => {
      const newest = new Map<string, string>();
      const current = (h: string): string => {
        let x = h;
        while (newest.has(x)) x = newest.get(x) as string;
        return x;
      };
      return broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const r = await inner.extend(q, current(h), l);
          newest.set(current(h), r.handle);
          return r;
        },
        release: (q, h, d) => inner.release(q, current(h), d),
        ack: (q, h) => inner.ack(q, current(h)),
        deadLetter: (q, m, i) => inner.deadLetter(q, { ...m, handle: current(m.handle) }, i),
      }));
    },
  },
  {
    name: 'ack of a released handle treated as a harmless second ack',
    caughtBy: 'lease.handle-dead-after-release',
    make: (s) => {
      const released = new Set<string>();
      return broken(s, (inner) => ({
        release: async (q, h, d) => {
          await inner.release(q, h, d);
          released.add(h);
        },
        ack: async (q, h) => {
          if (released.has(h)) return;
          await inner.ack(q, h);
        },
      }));
    },
  },
  {
    name: 'handles looked up globally, ignoring the queue argument',
    caughtBy: 'lease.queue-argument-matters',
    make: (s) => {
      const queueOf = new Map<string, string>();
      return broken(s, (inner) => ({
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          for (const m of got) queueOf.set(m.handle, q);
          return got;
        },
        extend: async (q, h, l) => {
          const owner = queueOf.get(h) ?? q;
          const r = await inner.extend(owner, h, l);
          queueOf.set(r.handle, owner);
          return r;
        },
        ack: (q, h) => inner.ack(queueOf.get(h) ?? q, h),
        release: (q, h, d) => inner.release(queueOf.get(h) ?? q, h, d),
        deadLetter: (q, m, i) => inner.deadLetter(queueOf.get(m.handle) ?? q, m, i),
      }));
    },
  },
  {
    name: 'extend that counts a delivery',
    caughtBy: 'lease.extend-value-and-count',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const message = inner.store.queue(q).messages.get(seqOf(h));
          if (message) message.deliveryCount++;
          return inner.extend(q, h, l);
        },
      })),
  },
  {
    name: 'extend that adds to the old expiry instead of now',
    caughtBy: 'lease.extend-value-and-count',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const message = inner.store.queue(q).messages.get(seqOf(h));
          const left = message ? Math.max(0, message.leaseExpiresAt - Date.now()) : 0;
          return inner.extend(q, h, left + l);
        },
      })),
  },
  {
    name: 'enqueuedAt in seconds',
    caughtBy: 'lease.timestamps',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => ({ ...m, enqueuedAt: Math.floor((m.enqueuedAt ?? 0) / 1000) })),
      })),
  },
  {
    name: 'enqueuedAt reset on every delivery',
    caughtBy: 'lease.timestamps',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => ({ ...m, enqueuedAt: m.deliveryCount > 1 ? Date.now() : m.enqueuedAt })),
      })),
  },
  {
    name: 'receive returns one more than max',
    caughtBy: 'receive.max-honoured',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, max: o.max + 1 }) })),
  },
  {
    name: 'receive clamps max to maxBatchSize',
    caughtBy: 'receive.max-above-batch-limit',
    make: (s) =>
      broken(s, (inner) => ({
        receive: (q, o) => inner.receive(q, { ...o, max: Math.min(Math.max(o.max, 1), inner.capabilities.maxBatchSize) }),
      })),
  },
  {
    name: 'waitMs ignored (never long-polls)',
    caughtBy: 'receive.wait-honoured',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, waitMs: 0 }) })),
  },
  {
    name: 'lost wake-up: a long poll sleeps its whole wait before looking again',
    caughtBy: 'receive.wait-honoured',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const now = await inner.receive(q, { ...o, waitMs: 0 });
          if (now.length > 0 || !o.waitMs) return now;
          await sleep(o.waitMs);
          return inner.receive(q, { ...o, waitMs: 0 });
        },
      })),
  },
  {
    name: 'lease counted from the start of the long poll',
    caughtBy: 'receive.lease-from-delivery',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const start = Date.now();
          const got = await inner.receive(q, o);
          const waited = Date.now() - start;
          if (waited < 10) return got;
          return Promise.all(
            got.map(async (m): Promise<ReceivedMessage> => {
              const r = await inner.extend(q, m.handle, Math.max(1, o.leaseMs - waited));
              return { ...m, handle: r.handle, leaseExpiresAt: r.leaseExpiresAt };
            }),
          );
        },
      })),
  },
  {
    name: 'CRLF normalised to LF',
    caughtBy: 'delivery.raw-bodies',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => ({ ...m, body: m.body.replace(/\r\n/g, '\n') })),
          ),
      })),
  },
  {
    name: 'body cut at the first NUL (C string)',
    caughtBy: 'delivery.raw-bodies',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => ({ ...m, body: m.body.split('\u0000')[0] ?? '' })),
          ),
      })),
  },
  {
    name: 'attributes leak from one batch entry to the next',
    caughtBy: 'delivery.attributes-exact',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          let carried: Record<string, string> = {};
          return inner.send(
            q,
            ms.map((m) => {
              carried = { ...carried, ...m.attributes };
              return { ...m, attributes: { ...carried } };
            }),
          );
        },
      })),
  },
  {
    name: 'an internal attribute leaks to the consumer',
    caughtBy: 'delivery.attributes-exact',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => ({ ...m, attributes: { ...m.attributes, 'x-bg-meta': 'v1' } })),
          ),
      })),
  },
  {
    name: 'send stores only the first internal chunk of 100',
    caughtBy: 'delivery.large-batch',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          await inner.send(q, ms.slice(0, 100));
          return ms.map((m) => ({ id: m.id, duplicate: false }));
        },
      })),
  },
  {
    name: 'non-atomic lease (read the ready jobs, then claim them after a round trip)',
    caughtBy: 'delivery.competing-processes',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const state = inner.store.queue(q);
          state.promote(Date.now());
          const seen = [...state.messages.values()].filter((m) => m.state === 'ready').slice(0, o.max);
          await sleep(5);
          const out: ReceivedMessage[] = [];
          for (const m of seen) {
            if (!state.messages.has(m.seq)) continue;
            m.deliveryCount++;
            m.leaseToken = `x${Math.random().toString(36).slice(2)}`;
            m.leaseExpiresAt = Date.now() + o.leaseMs;
            state.schedule(m, 'leased', m.leaseExpiresAt);
            out.push({
              id: m.id,
              body: m.body,
              attributes: m.attributes,
              deliveryCount: m.deliveryCount,
              handle: `${m.seq}.${m.leaseToken}`,
              leaseExpiresAt: m.leaseExpiresAt,
              enqueuedAt: m.enqueuedAt,
            });
          }
          if (out.length === 0 && (o.waitMs ?? 0) > 0) await sleep(Math.min(o.waitMs ?? 0, 50));
          return out;
        },
      })),
  },
  {
    name: 'dead letters listed newest first',
    caughtBy: 'dead-letter.order-and-paging',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o = {}) => {
          const all = [...inner.store.queue(q).dead.values()].reverse();
          const start = Number(o.cursor ?? 0);
          const items = all.slice(start, start + (o.limit ?? 100));
          return start + items.length < all.length ? { items, cursor: String(start + items.length) } : { items };
        },
      })),
  },
  {
    name: 'paging cursor by timestamp skips ties at a page boundary',
    caughtBy: 'dead-letter.order-and-paging',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o = {}) => {
          const all = [...inner.store.queue(q).dead.values()].sort((a, b) => a.deadLetteredAt - b.deadLetteredAt);
          const after = o.cursor === undefined ? Number.NEGATIVE_INFINITY : Number(o.cursor);
          const rest = all.filter((d) => d.deadLetteredAt > after);
          const items = rest.slice(0, o.limit ?? 100);
          const last = items.at(-1);
          return items.length < rest.length && last ? { items, cursor: String(last.deadLetteredAt) } : { items };
        },
      })),
  },
  {
    name: 'purge([]) purges everything',
    caughtBy: 'dead-letter.exact-ids-and-empty-purge',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: (q, ids) => inner.purgeDeadLetters(q, ids && ids.length > 0 ? ids : undefined),
      })),
  },
  {
    name: 'getDeadLetter matches an id prefix',
    caughtBy: 'dead-letter.exact-ids-and-empty-purge',
    make: (s) =>
      broken(s, (inner) => ({
        getDeadLetter: async (q, id) => [...inner.store.queue(q).dead.values()].find((d) => d.id.startsWith(id)),
      })),
  },
  {
    name: 'getDeadLetter searches every queue',
    caughtBy: 'dead-letter.confined-to-queue',
    make: (s) =>
      broken(s, (inner) => ({
        getDeadLetter: async (q, id) => {
          for (const state of inner.store.queues.values()) {
            const found = state.dead.get(id);
            if (found) return found;
          }
          return inner.getDeadLetter(q, id);
        },
      })),
  },
  {
    name: 'purge-all empties the dead letters of every queue',
    caughtBy: 'dead-letter.confined-to-queue',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: async (q, ids) => {
          if (ids !== undefined) return inner.purgeDeadLetters(q, ids);
          const n = inner.store.queue(q).dead.size;
          for (const state of inner.store.queues.values()) state.dead.clear();
          return n;
        },
      })),
  },
  {
    name: 'dead letters keep only the first 32 KiB of a body',
    caughtBy: 'dead-letter.unicode-large-replay',
    make: (s) =>
      broken(s, (inner) => ({ deadLetter: (q, m, i) => inner.deadLetter(q, { ...m, body: m.body.slice(0, 32 * 1024) }, i) })),
  },
  {
    name: 'replay re-encodes the body as Latin-1',
    caughtBy: 'dead-letter.unicode-large-replay',
    make: (s) =>
      broken(s, (inner) => ({
        replayDeadLetter: async (q, id) => {
          const dead = inner.store.queue(q).dead.get(id);
          if (dead)
            inner.store.queue(q).dead.set(id, { ...dead, body: Buffer.from(dead.body, 'utf8').toString('latin1') } as DeadLetter);
          return inner.replayDeadLetter(q, id);
        },
      })),
  },
  {
    name: 'stats counts leased jobs as ready',
    caughtBy: 'stats.counts',
    make: (s) =>
      broken(s, (inner) => ({
        stats: async (q) => {
          const st = await inner.stats(q);
          return { ...st, ready: st.ready + st.inFlight, inFlight: 0 };
        },
      })),
  },
  {
    name: 'ack, extend, release and dead-letter calls still work after close',
    caughtBy: 'lifecycle.close-every-call',
    make: (s) => {
      const twin = sharedMemory(s);
      return broken(s, () => ({
        ack: (q, h) => twin.ack(q, h),
        extend: (q, h, l) => twin.extend(q, h, l),
        release: (q, h, d) => twin.release(q, h, d),
        listDeadLetters: (q, o) => twin.listDeadLetters(q, o),
      }));
    },
  },
  {
    name: 'close does not end pending long polls',
    caughtBy: 'lifecycle.close-ends-long-poll',
    make: (s) => {
      const inner = sharedMemory(s);
      let closed = false;
      return broken(s, () => ({
        receive: async (q, o) => {
          if (closed) return inner.receive(q, o);
          return inner.receive(q, { ...o, signal: undefined as never });
        },
        close: async () => {
          closed = true;
          // Waits for nothing: pending polls run to their end, then see a closed adapter.
          setTimeout(() => void inner.close(), 5_000).unref?.();
        },
      }));
    },
  },
  {
    name: 'receive with an already aborted signal that leases and hands back (a delivery counted for nothing)',
    caughtBy: 'delivery.already-aborted-receive',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          if (!o.signal?.aborted) return inner.receive(q, o);
          const got = await inner.receive(q, { ...o, waitMs: 0, signal: undefined as never });
          await Promise.all(got.map((m) => inner.release(q, m.handle, 0)));
          return [];
        },
      })),
  },
  {
    name: 'close that drops what a receive in flight brings (leased by nobody until the lease ends)',
    caughtBy: 'lifecycle.close-receive-in-flight',
    make: (s) => {
      const inner = sharedMemory(s);
      let closed = false;
      return broken(s, () => ({
        receive: async (q, o) => {
          // A network round trip: the backend leases the job after close() has begun.
          await sleep(20);
          const got = await inner.receive(q, { ...o, waitMs: 0, signal: undefined as never });
          return closed ? [] : got;
        },
        close: async () => {
          closed = true;
          await sleep(40);
          await inner.close();
        },
      }));
    },
  },
  {
    name: 'receive in flight at close() that returns its jobs anyway (to a caller that cannot settle them)',
    caughtBy: 'lifecycle.close-receive-in-flight',
    make: (s) => {
      const inner = sharedMemory(s);
      return broken(s, () => ({
        receive: async (q, o) => {
          // A network round trip; the answer is returned even though close() came meanwhile.
          await sleep(20);
          return inner.receive(q, { ...o, waitMs: 0, signal: undefined as never });
        },
        close: async () => {
          await sleep(40);
          await inner.close();
        },
      }));
    },
  },
  {
    name: 'ensureQueue recreates the dead-letter store',
    caughtBy: 'lifecycle.ensure-existing-queue',
    make: (s) =>
      broken(s, (inner) => ({
        ensureQueue: async (q) => {
          await inner.ensureQueue(q);
          inner.store.queue(q).dead.clear();
        },
      })),
  },
  {
    name: 'release clamps a too-long delay',
    caughtBy: 'limits.delay-too-long',
    make: (s) =>
      broken(s, (inner) => ({ release: (q, h, d) => inner.release(q, h, Math.min(d, inner.capabilities.maxReleaseDelayMs)) })),
  },
  {
    name: 'send clamps a too-long delay',
    caughtBy: 'limits.delay-too-long',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => (m.delayMs ? { ...m, delayMs: Math.min(m.delayMs, inner.capabilities.maxDelayMs) } : m)),
          ),
      })),
  },
  {
    name: 'release near the maximum delay drops the job',
    caughtBy: 'limits.delay-too-long',
    make: (s) =>
      broken(s, (inner) => ({
        release: (q, h, d) => {
          const max = inner.capabilities.maxReleaseDelayMs;
          return d <= max && d > max / 2 ? inner.ack(q, h) : inner.release(q, h, d);
        },
      })),
  },
  {
    name: 'native delay rounded down to whole seconds',
    caughtBy: 'delay.not-rounded-early',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => (m.delayMs ? { ...m, delayMs: Math.floor(m.delayMs / 1000) * 1000 } : m)),
          ),
      })),
  },
  {
    name: 'deduplication keys shared by every queue',
    caughtBy: 'optional.deduplication-per-queue',
    make: (s) => {
      const seen = new Set<string>();
      return broken(s, (inner) => ({
        send: async (q, ms) => {
          const fresh = ms.filter((m) => m.deduplicationKey === undefined || !seen.has(m.deduplicationKey));
          for (const m of ms) if (m.deduplicationKey !== undefined) seen.add(m.deduplicationKey);
          if (fresh.length > 0) await inner.send(q, fresh);
          return ms.map((m) => ({ id: m.id, duplicate: !fresh.includes(m) }));
        },
      }));
    },
  },
  {
    name: 'a restart loses delayed jobs',
    caughtBy: 'optional.durability',
    ...durableMemory((store) => {
      for (const state of store.queues.values()) {
        for (const [seq, m] of state.messages) if (m.state === 'delayed') state.messages.delete(seq);
      }
    }),
  },
  {
    name: 'durable declared without a restart hook',
    caughtBy: 'optional.durability',
    make: (s) => withCapabilities(sharedMemory(s), { durable: true }),
    options: (s) => ({ capabilities: { ...sharedMemory(s).capabilities, durable: true } }),
  },
  {
    name: 'stats and dead-letter lookups on a missing queue return empty instead of QUEUE_NOT_FOUND',
    caughtBy: 'errors.missing-queue',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        missingQueue: () => {
          const inner = sharedMemory(s);
          return {
            ...missingQueues(inner),
            stats: async () => ({ ready: 0, inFlight: 0, delayed: 0, dead: 0 }),
            listDeadLetters: async () => ({ items: [] }),
          };
        },
      },
    }),
  },
  {
    name: 'release(0) visible a second late',
    caughtBy: 'release.immediate',
    make: (s) => broken(s, (inner) => ({ release: (q, h, d) => inner.release(q, h, d === 0 ? 1_000 : d) })),
  },
  {
    name: 'graceful stop hands jobs back two seconds late',
    caughtBy: 'worker.graceful-stop',
    make: (s) => broken(s, (inner) => ({ release: (q, h, d) => inner.release(q, h, d === 0 ? 2_000 : d) })),
  },
];

/** Variants for round-one cases that had none. */
const ROUND_ONE_GAPS: readonly BrokenVariant[] = [
  {
    name: 'extend that keeps the old expiry (returns a handle, changes nothing)',
    caughtBy: 'lease.extend',
    make: (s) =>
      broken(s, () => ({
        extend: async (_q, h, l) => ({ handle: h, leaseExpiresAt: Date.now() + l }),
      })),
  },
  {
    name: 'a lease beyond the maximum silently accepted by a rejecting adapter',
    caughtBy: 'lease.beyond-maximum',
    make: (s) =>
      broken(s, (inner) => ({
        extend: (q, h, l) => inner.extend(q, h, Math.min(l, inner.capabilities.maxLeaseMs)),
        receive: (q, o) => inner.receive(q, { ...o, leaseMs: Math.min(o.leaseMs, inner.capabilities.maxLeaseMs) }),
      })),
  },
  {
    name: 'only the first job of a received batch gets the short lease',
    caughtBy: 'lease.batch-expiry-redelivers',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          return Promise.all(
            got.map(async (m, i): Promise<ReceivedMessage> => {
              if (i === 0) return m;
              const r = await inner.extend(q, m.handle, 600_000);
              return { ...m, handle: r.handle, leaseExpiresAt: r.leaseExpiresAt };
            }),
          );
        },
      })),
  },
  {
    name: 'attributes of single sends dropped',
    caughtBy: 'delivery.round-trip',
    make: (s) =>
      broken(s, (inner) => ({ send: (q, ms) => inner.send(q, ms.length === 1 ? ms.map(({ attributes: _a, ...m }) => m) : ms) })),
  },
  {
    name: 'native delay ignored',
    caughtBy: 'delay.native',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map(({ delayMs: _d, ...m }) => m),
          ),
      })),
  },
  {
    name: 'oversized batch accepted',
    caughtBy: 'limits.batch-and-arguments',
    make: (s) => {
      const roomy = memoryAdapter({ store: s, capabilities: { maxPayloadBytes: 64 * 1024, maxBatchSize: 5_000 } });
      return Object.assign(Object.create(roomy) as MemoryAdapter, roomy, { capabilities: sharedMemory(s).capabilities });
    },
  },
  {
    name: 'manifest differs from the one registered',
    caughtBy: 'manifest.consistent',
    make: (s) => withCapabilities(sharedMemory(s), { maxBatchSize: 10 }),
  },
  {
    name: 'ordering key ignored',
    caughtBy: 'optional.ordering',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map(({ orderingKey: _o, ...m }) => m),
          ),
      })),
  },
  {
    name: 'deduplication key ignored',
    caughtBy: 'optional.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map(({ deduplicationKey: _k, ...m }) => m),
          ),
      })),
  },
];

const releasesOf = perStore(() => new Map<string, number>());
const highestCountOf = perStore(() => new Map<string, number>());
const receivedAtOf = perStore(() => new Map<number, number>());

/** Variants for the cases that had none (the error scenarios, the worker cases, the issue-16 cases). */
const COVERAGE_GAPS: readonly BrokenVariant[] = [
  {
    name: 'a refused key mapped to BACKEND_ERROR (retryable), so workers retry it for ever',
    caughtBy: 'errors.bad-credentials',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        badCredentials: () => failingEverywhere(sharedMemory(s), () => new BgError('BACKEND_ERROR', 'HTTP 403 Forbidden')),
      },
    }),
  },
  {
    name: 'receive swallows connection errors and returns no jobs (an unreachable server looks like an empty queue)',
    caughtBy: 'errors.unreachable',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        unreachable: () => ({
          ...failingEverywhere(sharedMemory(s), () => new BgError('UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:1')),
          receive: async () => [],
        }),
      },
    }),
  },
  {
    name: 'send retries a write that timed out and stores the job twice',
    caughtBy: 'worker.success-acks-once',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const r = await inner.send(q, ms);
          await inner.send(
            q,
            ms.filter((m) => m.deduplicationKey === undefined),
          );
          return r;
        },
      })),
  },
  {
    name: 'release counts a delivery (the count is raised on release and again on the next receive)',
    caughtBy: 'worker.retry-then-succeed',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          const message = inner.store.queue(q).messages.get(seqOf(h));
          await inner.release(q, h, d);
          if (message) message.deliveryCount++;
        },
      })),
  },
  {
    name: 'the delivery count only grows on release, not when a lease runs out (a crashed worker is not counted)',
    caughtBy: 'worker.crash-redelivers',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => ({ ...m, deliveryCount: 1 + (releasesOf(s).get(`${q}/${m.id}`) ?? 0) })),
        release: async (q, h, d) => {
          const message = inner.store.queue(q).messages.get(seqOf(h));
          await inner.release(q, h, d);
          if (message) releasesOf(s).set(`${q}/${message.id}`, (releasesOf(s).get(`${q}/${message.id}`) ?? 0) + 1);
        },
      })),
  },
  {
    name: 'extend sets the expiry to receive time + lease instead of now + lease (heartbeats stop helping)',
    caughtBy: 'worker.heartbeat',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          for (const m of got) receivedAtOf(s).set(seqOf(m.handle), Date.now());
          return got;
        },
        extend: (q, h, l) => {
          const at = receivedAtOf(s).get(seqOf(h)) ?? Date.now();
          return inner.extend(q, h, Math.max(1, at + l - Date.now()));
        },
      })),
  },
  {
    name: 'bodies that are not JSON come back JSON-quoted (the backend stores a JSON column)',
    caughtBy: 'worker.bad-messages',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => {
            try {
              JSON.parse(m.body);
              return m;
            } catch {
              return { ...m, body: JSON.stringify(m.body) };
            }
          }),
      })),
  },
  {
    name: 'release with a delay re-sends the job under a new message id',
    caughtBy: 'worker.max-attempts',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          if (d === 0) return inner.release(q, h, d);
          const message = inner.store.queue(q).messages.get(seqOf(h));
          if (!message) return inner.release(q, h, d);
          await inner.send(q, [{ id: `${message.id}-r`, body: message.body, attributes: message.attributes, delayMs: d }]);
          await inner.ack(q, h);
        },
      })),
  },
  {
    name: 'send drops a job whose id is already stored (the id used as a unique key), so a re-sent delay hop is lost',
    caughtBy: 'worker.delay-hop',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const stored = new Set([...inner.store.queue(q).messages.values()].map((m) => m.id));
          const fresh = ms.filter((m) => !stored.has(m.id));
          if (fresh.length > 0) await inner.send(q, fresh);
          return ms.map((m) => ({ id: m.id, duplicate: false }));
        },
      })),
  },
  {
    name: 'release with a delay under a second drops the job (the delay is written as the message TTL)',
    caughtBy: 'worker.timeout',
    make: (s) =>
      broken(s, (inner) => ({ release: (q, h, d) => (d > 0 && d < 1_000 ? inner.ack(q, h) : inner.release(q, h, d)) })),
  },
  {
    name: 'batches of more than 16 jobs store only the first 16 (the rest are reported sent)',
    caughtBy: 'worker.mixed-load',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          await inner.send(q, ms.slice(0, 16));
          return ms.map((m) => ({ id: m.id, duplicate: false }));
        },
      })),
  },
  {
    name: 'the message id is counted against maxPayloadBytes (a job of exactly the maximum is refused)',
    caughtBy: 'limits.enqueue-max-payload',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          for (const m of ms) {
            const size = Buffer.byteLength(m.body) + Buffer.byteLength(m.id);
            if (size > inner.capabilities.maxPayloadBytes) {
              throw new BgError('PAYLOAD_TOO_LARGE', `message ${m.id} is ${size} bytes with its id`, { retryable: false });
            }
          }
          return inner.send(q, ms);
        },
      })),
  },
  {
    name: 're-sending a stored id upserts it and keeps its delivery count (parks reach the cap)',
    caughtBy: 'worker.delay-parks-past-native-cap',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => {
            const key = `${q}/${m.id}`;
            const before = highestCountOf(s).get(key) ?? 0;
            const count = m.deliveryCount > before ? m.deliveryCount : before + m.deliveryCount;
            highestCountOf(s).set(key, count);
            return { ...m, deliveryCount: count };
          }),
      })),
  },
  {
    name: 'deadLetter appends a record each time (no upsert by job id)',
    caughtBy: 'dead-letters.counted-once',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: async (q, m, i) => {
          const dead = inner.store.queue(q).dead;
          const earlier = dead.get(m.id);
          await inner.deadLetter(q, m, i);
          if (earlier) dead.set(`${m.id}#${dead.size}`, earlier);
        },
      })),
  },
];

/** Rewrites every outgoing message (a bug in how an adapter encodes what it sends). */
function rewritingSend(
  s: MemoryStore,
  rewrite: (m: OutgoingMessage, i: number, all: readonly OutgoingMessage[]) => OutgoingMessage,
) {
  return broken(s, (inner) => ({ send: (q, ms) => inner.send(q, ms.map(rewrite)) }));
}

const sentBy = new WeakMap<Adapter, Set<string>>();

// Two third-party schemes whose fromUrl has one bug each (connect() reaches them like any adapter).
registerAdapter('leakymem:', {
  fromUrl: (url: URL) => {
    if (url.password !== '') throw invalidUrl('leakymem', `credentials (${url.username}, ${url.password}) have no meaning here`);
    return sharedMemory(undefined);
  },
});
registerAdapter('laxmem:', {
  fromUrl: () => sharedMemory(undefined),
});

/** Variants for the cases of the audit's misses, the partial batch and connect by URL. */
const AUDIT_GAPS: readonly BrokenVariant[] = [
  {
    name: 'attribute names lower-cased (they travel as HTTP headers)',
    caughtBy: 'attributes.names-kept',
    make: (s) =>
      rewritingSend(s, (m) =>
        m.attributes
          ? { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k.toLowerCase(), v])) }
          : m,
      ),
  },
  {
    name: 'attributes with an empty value dropped (the backend refuses empty values)',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) =>
      rewritingSend(s, (m) =>
        m.attributes ? { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).filter(([, v]) => v !== '')) } : m,
      ),
  },
  {
    name: 'every entry of a batch sent with the attributes of the first entry',
    caughtBy: 'attributes.per-entry-in-batch',
    make: (s) => rewritingSend(s, (m, _i, all) => (all[0]?.attributes ? { ...m, attributes: all[0].attributes } : m)),
  },
  {
    name: 'attributes served from a cache filled at send time by this adapter instance (another instance gets none)',
    caughtBy: 'attributes.kept-on-redelivery',
    make: (s) => {
      const adapter: Adapter = broken(s, (inner) => ({
        send: async (q, ms) => {
          const mine = sentBy.get(adapter) ?? new Set<string>();
          sentBy.set(adapter, mine);
          for (const m of ms) mine.add(`${q}/${m.id}`);
          return inner.send(q, ms);
        },
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => (sentBy.get(adapter)?.has(`${q}/${m.id}`) ? m : { ...m, attributes: {} })),
      }));
      return adapter;
    },
  },
  {
    name: 'attributes dropped on redelivery (only the first delivery reads them)',
    caughtBy: 'attributes.kept-on-redelivery',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => (await inner.receive(q, o)).map((m) => (m.deliveryCount > 1 ? { ...m, attributes: {} } : m)),
      })),
  },
  {
    name: 'failed batch entries ignored: send resolves although an entry was refused',
    caughtBy: 'delivery.batch-partial-failure',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        refusedEntry: () => {
          const partial = refusingEntries(sharedMemory(s));
          return {
            ...partial,
            send: (q, ms) => partial.send(q, ms).catch(() => ms.map((m) => ({ id: m.id, duplicate: false }))),
          };
        },
      },
    }),
  },
  {
    name: 'a partial batch failure rejects without naming the failed ids',
    caughtBy: 'delivery.batch-partial-failure',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        refusedEntry: () => {
          const partial = refusingEntries(sharedMemory(s));
          return {
            ...partial,
            send: (q, ms) =>
              partial.send(q, ms).catch(() => {
                throw new BgError('BACKEND_ERROR', 'SendMessageBatch: some entries failed');
              }),
          };
        },
      },
    }),
  },
  {
    name: "a batch's per-entry duplicate answer dropped (every entry reported sent)",
    caughtBy: 'optional.deduplication-batch-result',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const r = await inner.send(q, ms);
          return ms.length > 1 ? ms.map((m) => ({ id: m.id, duplicate: false })) : r;
        },
      })),
  },
  {
    name: "replayDeadLetter finds the id in any queue's dead letters and writes it into the queue asked for",
    caughtBy: 'dead-letter.replay-from-another-queue',
    make: (s) =>
      broken(s, (inner) => ({
        replayDeadLetter: async (q, id) => {
          if (inner.store.queue(q).dead.has(id)) return inner.replayDeadLetter(q, id);
          for (const state of inner.store.queues.values()) {
            const other = state.dead.get(id);
            if (!other) continue;
            await inner.send(q, [{ id: other.id, body: other.body, attributes: other.attributes }]);
            state.dead.delete(id);
            return true;
          }
          return false;
        },
      })),
  },
  {
    name: 'a job whose lease expired still counted as in flight',
    caughtBy: 'stats.expired-lease',
    make: (s) =>
      broken(s, (inner) => ({
        stats: async (q) => {
          const st = await inner.stats(q);
          const now = Date.now();
          const expired = [...inner.store.queue(q).messages.values()].filter(
            (m) => m.state === 'leased' && m.leaseExpiresAt <= now,
          ).length;
          return { ...st, ready: (st.ready ?? 0) - expired, inFlight: (st.inFlight ?? 0) + expired };
        },
      })),
  },
  {
    name: 'receive scans queues by key prefix, so queue "q" also drains "q-b"',
    caughtBy: 'delivery.queue-isolation-by-prefix',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const own = await inner.receive(q, o);
          for (const name of inner.store.queues.keys()) {
            if (own.length >= o.max) break;
            if (name !== q && name.startsWith(`${q}-`))
              own.push(...(await inner.receive(name, { ...o, max: o.max - own.length, waitMs: 0 })));
          }
          return own;
        },
      })),
  },
  {
    name: 'stats counts every queue whose name starts with the queue name ("q" counts "qb")',
    caughtBy: 'delivery.queue-isolation-by-prefix',
    make: (s) =>
      broken(s, (inner) => ({
        stats: async (q) => {
          const all = await Promise.all([...inner.store.queues.keys()].filter((n) => n.startsWith(q)).map((n) => inner.stats(n)));
          const sum = (k: 'ready' | 'inFlight' | 'delayed' | 'dead') => all.reduce((n, st) => n + (st[k] ?? 0), 0);
          return { ready: sum('ready'), inFlight: sum('inFlight'), delayed: sum('delayed'), dead: sum('dead') };
        },
      })),
  },
  {
    name: 'fromUrl quotes the credentials it refuses, password included, in its error message',
    caughtBy: 'connect.from-url',
    make: (s) => sharedMemory(s),
    options: () => ({
      url: { url: 'leakymem://store', malformed: ['leakymem://admin:hunter2Secret@store'], secret: MEMORY_URL_HOOK.secret },
    }),
  },
  {
    name: 'fromUrl ignores what it does not understand (credentials, port, parameters) and connects anyway',
    caughtBy: 'connect.from-url',
    make: (s) => sharedMemory(s),
    options: () => ({ url: { url: 'laxmem://store', malformed: ['laxmem://admin:pw@store:6379?x=1'] } }),
  },
];

/** The broken variants the suite must catch, each by a named case. */
export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  ...ROUND_ONE,
  ...ROUND_ONE_GAPS,
  ...NEW_VARIANTS,
  ...DEAD_LETTER_CONCURRENCY_VARIANTS,
  ...COVERAGE_GAPS,
  ...AUDIT_GAPS,
  ...OUTSIDE_AUDIT_VARIANTS,
  ...ROUND_TWO_VARIANTS,
  ...ROUND_THREE_VARIANTS,
  ...ROUND_FOUR_VARIANTS,
  ...ROUND_FOUR_AUTHOR_VARIANTS,
  ...ROUND_FIVE_VARIANTS,
];
