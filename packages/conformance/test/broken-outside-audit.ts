import { type Adapter, BgError, isBgError, type OutgoingMessage, type SendResult } from '@bg/core';
import { leaseLost } from '@bg/core/adapter';
import type { MemoryAdapter, MemoryStore } from '@bg/memory';
import type { ConformanceOptions } from '../src/index.js';
import { perStore, splitHandle } from './audit/variant.js';
import type { BrokenVariant } from './broken-adapters.js';
import { failingEverywhere, missingQueues, sharedMemory } from './memory-options.js';

/**
 * Variants for the bugs an outside mutation audit found the suite missing (its ids in brackets:
 * v02, v08, v16, v17, v20a, v20b, v23, v24, v25, v26, v27, v28, v28b, v29, v30, v31, v33, v34, v47, v66),
 * each ONE realistic bug of an adapter author wrapped around the healthy memory adapter, mapped to
 * the case that now catches it.
 */

function broken(store: MemoryStore, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

const unreachable = () => new BgError('UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:1', { retryable: true });

type Dedup = Map<string, { readonly until: number; readonly id: string }>;
const deadLeftOvers = perStore(() => new Map<string, Map<string, never>>());
const dedupLeftOvers = perStore(() => new Map<string, Dedup>());

/** [v29] A lease kept by a client-side timer of the instance that received the job. */
function timerLeases(s: MemoryStore): Adapter {
  const inner = sharedMemory(s);
  const caps = inner.capabilities;
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const arm = (q: string, handle: string, ms: number): void => {
    const key = `${q}/${splitHandle(handle).seq}`;
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        inner.release(q, handle, 0).catch(() => {});
      }, ms),
    );
  };
  const disarm = (q: string, handle: string): void => {
    const key = `${q}/${splitHandle(handle).seq}`;
    clearTimeout(timers.get(key));
    timers.delete(key);
  };
  const ok = (l: number): boolean => l >= caps.minLeaseMs && l <= caps.maxLeaseMs;
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, {
    receive: async (q: string, o: Parameters<Adapter['receive']>[1]) => {
      if (!ok(o.leaseMs)) return inner.receive(q, o);
      // The backend is told the longest lease; the instance ends it by its own timer.
      const got = await inner.receive(q, { ...o, leaseMs: caps.maxLeaseMs });
      const at = Date.now() + o.leaseMs;
      for (const m of got) arm(q, m.handle, o.leaseMs);
      return got.map((m) => ({ ...m, leaseExpiresAt: at }));
    },
    extend: async (q: string, h: string, l: number) => {
      if (!ok(l)) return inner.extend(q, h, l);
      const r = await inner.extend(q, h, caps.maxLeaseMs);
      arm(q, r.handle, l);
      return { handle: r.handle, leaseExpiresAt: Date.now() + l };
    },
    ack: async (q: string, h: string) => {
      await inner.ack(q, h);
      disarm(q, h);
    },
    release: async (q: string, h: string, d: number) => {
      await inner.release(q, h, d);
      disarm(q, h);
    },
    close: async () => {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await inner.close();
    },
  });
}

/** Options with an `unreachable` scenario whose lease calls go wrong in `wrap`'s way. */
function unreachableWith(s: MemoryStore, wrap: (failing: Adapter) => Partial<Adapter>): Partial<ConformanceOptions> {
  return {
    errors: {
      unreachable: () => {
        const failing = failingEverywhere(sharedMemory(s), unreachable);
        return { ...failing, ...wrap(failing) };
      },
    },
  };
}

export const OUTSIDE_AUDIT_VARIANTS: readonly BrokenVariant[] = [
  {
    name: '[v29] lease expiry run by a timer of the adapter instance that received the job: closed, its leased jobs stay hidden for good',
    caughtBy: 'lease.expiry-after-consumer-close',
    make: (s) => timerLeases(s),
  },
  {
    name: '[v02] extend of a lease that ran out (not yet redelivered) resolves but hides nothing (ZADD XX on an emptied lease set)',
    caughtBy: 'lease.extend-after-expiry',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const { seq, token } = splitHandle(h);
          const m = inner.store.queue(q).messages.get(seq);
          if (m && m.leaseToken === token && m.leaseExpiresAt <= Date.now()) return { handle: h, leaseExpiresAt: Date.now() + l };
          return inner.extend(q, h, l);
        },
      })),
  },
  {
    name: "[v30] a stale extend sets the job's visibility (by job id) before it finds the handle stale: the new owner's lease is shortened",
    caughtBy: 'lease.stale-extend-keeps-owner-lease',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const state = inner.store.queue(q);
          const { seq, token } = splitHandle(h);
          const m = state.messages.get(seq);
          if (m && m.state === 'leased' && m.leaseToken !== token) {
            m.leaseExpiresAt = Date.now() + l;
            state.schedule(m, 'leased', m.leaseExpiresAt);
            throw leaseLost('variant', `lease ${h} is stale`);
          }
          return inner.extend(q, h, l);
        },
      })),
  },
  {
    name: '[v20a] ack, extend, release and deadLetter map every backend failure (a network error too) to LEASE_LOST',
    caughtBy: 'errors.unreachable',
    make: (s) => sharedMemory(s),
    options: (s) =>
      unreachableWith(s, (failing) => {
        const asLost =
          <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
          async (...a: A): Promise<R> => {
            try {
              return await fn(...a);
            } catch (error) {
              throw leaseLost('variant', 'the receipt handle was not accepted', error);
            }
          };
        return {
          ack: asLost(failing.ack),
          extend: asLost(failing.extend),
          release: asLost(failing.release),
          deadLetter: asLost(failing.deadLetter),
        };
      }),
  },
  {
    name: '[v20b] extend swallows a transport error and reports the lease extended (a made-up leaseExpiresAt); ack swallows it too',
    caughtBy: 'errors.unreachable',
    make: (s) => sharedMemory(s),
    options: (s) =>
      unreachableWith(s, (failing) => ({
        extend: async (q, h, l) => {
          try {
            return await failing.extend(q, h, l);
          } catch (error) {
            if (isBgError(error, 'LEASE_LOST')) throw error;
            return { handle: h, leaseExpiresAt: Date.now() + l };
          }
        },
        ack: async (q, h) => {
          try {
            await failing.ack(q, h);
          } catch (error) {
            if (isBgError(error, 'LEASE_LOST')) throw error;
          }
        },
      })),
  },
  {
    name: 'ensureQueue swallows a connection error (a queue "created" on a server that cannot be reached)',
    caughtBy: 'errors.unreachable',
    make: (s) => sharedMemory(s),
    options: (s) => unreachableWith(s, () => ({ ensureQueue: async () => {} })),
  },
  {
    name: 'release with a refused key answers LEASE_LOST (any 4xx of the settle call taken for a stale receipt)',
    caughtBy: 'errors.bad-credentials',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        badCredentials: () => {
          const failing = failingEverywhere(sharedMemory(s), () => new BgError('AUTH_FAILED', 'the key was refused'));
          return {
            ...failing,
            release: (q: string, h: string, d: number) =>
              failing.release(q, h, d).catch((error: unknown) => {
                throw leaseLost('variant', 'HTTP 403 on ChangeMessageVisibility', error);
              }),
          };
        },
      },
    }),
  },
  {
    name: 'deadLetter on a missing queue resolves (the dead-letter write goes to a store created on the fly)',
    caughtBy: 'errors.missing-queue',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        missingQueue: () => ({ ...missingQueues(sharedMemory(s)), deadLetter: async () => {} }),
      },
    }),
  },
  {
    name: '[v16] releasing the head of an ordering group re-queues it at the tail of its group (LREM + RPUSH): the next job overtakes it',
    caughtBy: 'optional.ordering',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          const state = inner.store.queue(q);
          const m = state.messages.get(splitHandle(h).seq);
          if (!m || m.orderingKey === undefined || m.leaseToken !== splitHandle(h).token) return inner.release(q, h, d);
          const count = m.deliveryCount;
          await inner.ack(q, h);
          await inner.send(q, [
            { id: m.id, body: m.body, attributes: m.attributes, orderingKey: m.orderingKey, ...(d > 0 ? { delayMs: d } : {}) },
          ]);
          const again = state.messages.get(inner.store.seq);
          if (again) again.deliveryCount = count;
        },
      })),
  },
  {
    name: '[v34] release ignores its delay for jobs with an ordering key (the FIFO path re-queues at once)',
    caughtBy: 'optional.ordering',
    make: (s) =>
      broken(s, (inner) => ({
        release: (q, h, d) => {
          const m = inner.store.queue(q).messages.get(splitHandle(h).seq);
          return inner.release(q, h, m?.orderingKey !== undefined ? 0 : d);
        },
      })),
  },
  {
    name: '[v17] a batch written entry by entry in parallel (Promise.all) is stored out of order (here: reversed); results in input order',
    caughtBy: 'optional.ordering',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => [...(await inner.send(q, [...ms].reverse()))].reverse(),
      })),
  },
  {
    name: '[v27] every entry of a batch is sent with the delay of the first entry (one delay per request, not per entry)',
    caughtBy: 'delay.native',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          const d = ms[0]?.delayMs;
          return inner.send(
            q,
            ms.map(({ delayMs: _d, ...m }) => (d ? { ...m, delayMs: d } : m)),
          );
        },
      })),
  },
  {
    name: '[v28] release delay floored to whole seconds (VisibilityTimeout in seconds): 1.9 s becomes 1 s',
    caughtBy: 'release.delayed',
    make: (s) => broken(s, (inner) => ({ release: (q, h, d) => inner.release(q, h, Math.floor(d / 1000) * 1000) })),
  },
  {
    name: '[v28b] release delay sent as Math.max(1, Math.floor(delayMs / 1000)) seconds: 1.9 s becomes 1 s',
    caughtBy: 'release.delayed',
    make: (s) =>
      broken(s, (inner) => ({
        release: (q, h, d) => inner.release(q, h, d > 0 ? Math.max(1, Math.floor(d / 1000)) * 1000 : 0),
      })),
  },
  {
    name: '[v25] a duplicate send overwrites the stored job (upsert by key: ON CONFLICT DO UPDATE), still answering duplicate',
    caughtBy: 'optional.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const results = await inner.send(q, ms);
          const state = inner.store.queue(q);
          results.forEach((r, i) => {
            const m = ms[i];
            if (!r.duplicate || !m) return;
            for (const stored of state.messages.values()) {
              if (stored.id !== r.id) continue;
              (stored as { body: string }).body = m.body;
              (stored as { attributes: unknown }).attributes = { ...(m.attributes ?? {}) };
            }
          });
          return results;
        },
      })),
  },
  {
    name: '[v08] deduplication keys compared case-insensitively (a key column with a _ci collation)',
    caughtBy: 'optional.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => (m.deduplicationKey ? { ...m, deduplicationKey: m.deduplicationKey.toLowerCase() } : m)),
          ),
      })),
  },
  {
    name: '[v26] deduplication keys cut to 128 characters (the SQS MessageDeduplicationId limit): long keys sharing a prefix collide',
    caughtBy: 'optional.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => (m.deduplicationKey ? { ...m, deduplicationKey: m.deduplicationKey.slice(0, 128) } : m)),
          ),
      })),
  },
  {
    name: '[v66] the deduplication key is reserved (SETNX) before the job is written: a write that fails keeps the key, the retry is dropped',
    caughtBy: 'optional.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const state = inner.store.queue(q);
          const now = Date.now();
          const mine = new Set<string>();
          for (const m of ms) {
            if (m.deduplicationKey === undefined) continue;
            const e = state.dedup.get(m.deduplicationKey);
            if (!e || e.until <= now) {
              state.dedup.set(m.deduplicationKey, { until: now + 300_000, id: m.id });
              mine.add(m.id);
            }
          }
          const results: SendResult[] = [];
          const fresh: OutgoingMessage[] = [];
          for (const m of ms) {
            const e = m.deduplicationKey === undefined ? undefined : state.dedup.get(m.deduplicationKey);
            if (e && !(e.id === m.id && mine.has(m.id))) results.push({ id: e.id, duplicate: true });
            else {
              results.push({ id: m.id, duplicate: false });
              const { deduplicationKey: _k, ...rest } = m;
              fresh.push(rest);
            }
          }
          if (fresh.length > 0) await inner.send(q, fresh); // the write: the limits are checked here
          return results;
        },
      })),
  },
  {
    name: '[v23] deduplication by a unique index on stored jobs: once the first job is acked, its key is taken again inside the window',
    caughtBy: 'optional.deduplication-after-ack',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          const state = inner.store.queue(q);
          const stored = new Set([...state.messages.values()].map((m) => m.id));
          for (const m of ms) {
            const key = m.deduplicationKey;
            const earlier = key === undefined ? undefined : state.dedup.get(key);
            if (key !== undefined && earlier !== undefined && !stored.has(earlier.id)) state.dedup.delete(key);
          }
          return inner.send(q, ms);
        },
      })),
  },
  {
    name: '[v24] deduplication checks a batch only against keys stored before it: two entries with one key in a batch are both stored',
    caughtBy: 'optional.deduplication-batch-result',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const state = inner.store.queue(q);
          const now = Date.now();
          const before = new Map([...state.dedup].filter(([, e]) => e.until > now));
          const results: SendResult[] = [];
          const fresh: OutgoingMessage[] = [];
          for (const m of ms) {
            const e = m.deduplicationKey === undefined ? undefined : before.get(m.deduplicationKey);
            if (e) results.push({ id: e.id, duplicate: true });
            else {
              results.push({ id: m.id, duplicate: false });
              fresh.push(m);
            }
          }
          const stripped = fresh.map(({ deduplicationKey: _k, ...rest }) => rest);
          if (stripped.length > 0) await inner.send(q, stripped);
          for (const m of fresh) {
            if (m.deduplicationKey !== undefined && !state.dedup.has(m.deduplicationKey))
              state.dedup.set(m.deduplicationKey, { until: now + 300_000, id: m.id });
          }
          return results;
        },
      })),
  },
  {
    name: '[v33] deleteQueue removes the live jobs but forgets the dead-letter key: the queue created again shows the old dead letters',
    caughtBy: 'queues.recreate-same-name',
    make: (s) =>
      broken(s, (inner) => ({
        deleteQueue: async (q) => {
          const dead = inner.store.queues.get(q)?.dead;
          const r = await inner.deleteQueue(q);
          if (dead && dead.size > 0) deadLeftOvers(s).set(q, new Map(dead) as Map<string, never>);
          return r;
        },
        ensureQueue: async (q) => {
          const had = inner.store.queues.has(q);
          await inner.ensureQueue(q);
          const old = deadLeftOvers(s).get(q);
          if (!had && old) for (const [k, v] of old) inner.store.queue(q).dead.set(k, v);
        },
      })),
  },
  {
    name: 'deleteQueue leaves the deduplication keys (a separate key space): a queue created again drops a new job as a duplicate',
    caughtBy: 'queues.recreate-same-name',
    make: (s) =>
      broken(s, (inner) => ({
        deleteQueue: async (q) => {
          const dedup = inner.store.queues.get(q)?.dedup;
          const r = await inner.deleteQueue(q);
          if (dedup && dedup.size > 0) dedupLeftOvers(s).set(q, new Map(dedup));
          return r;
        },
        ensureQueue: async (q) => {
          const had = inner.store.queues.has(q);
          await inner.ensureQueue(q);
          const old = dedupLeftOvers(s).get(q);
          if (!had && old) for (const [k, v] of old) inner.store.queue(q).dedup.set(k, v);
        },
      })),
  },
  {
    name: '[v47] attribute values lose leading and trailing whitespace (they travel as HTTP header values, which are trimmed)',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) =>
              m.attributes
                ? { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, v.trim()])) }
                : m,
            ),
          ),
      })),
  },
  {
    name: "[v31] the dead letter's enqueuedAt is overwritten with the dead-letter time (the first enqueue time is lost)",
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: async (q, m, i) => {
          await inner.deadLetter(q, m, i);
          const dead = inner.store.queue(q).dead;
          const r = dead.get(m.id);
          if (r) dead.set(m.id, { ...r, enqueuedAt: i.deadLetteredAt });
        },
      })),
  },
];
