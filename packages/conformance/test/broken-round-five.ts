import { type Adapter, BgError, type DeadLetter, isBgError, type ReceivedMessage } from '@bg/core';
import { assertQueueName, type DeadLetterBackend, DeadLetterStore, encodeDeadLetterCursor } from '@bg/core/adapter';
import type { MemoryAdapter, MemoryStore } from '@bg/memory';
import { perStore, splitHandle } from './audit/variant.js';
import type { BrokenVariant } from './broken-adapters.js';
import { failingEverywhere, MEMORY_URL_HOOK, missingQueues, refusingEntries, sharedMemory } from './memory-options.js';

/**
 * The fifth mutation round: bugs an outside author plausibly writes when mapping a backend onto
 * the contract (counters kept beside the backend's, a sweeper that re-queues, request limits the
 * manifest does not mention, the kit's dead-letter store over a backend whose scan stops short).
 * Each is ONE bug wrapped around the healthy memory adapter (or the kit), ids in brackets
 * ([r5-01] …); `test/audit/measure-broken.ts --only r5-` runs the whole suite against each one,
 * `test/broken.test.ts` proves each is caught by the case it is mapped to.
 */

function broken(store: MemoryStore, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

/** `q/seq` of a handle: one stored message of one queue. */
const jobOf = (queue: string, handle: string): string => `${queue}/${splitHandle(handle).seq}`;

/**
 * Deliveries of a job counted beside the backend's counter: `extra(q/seq)` is added to every
 * delivery the job gets from now on (the variant decides when a hidden delivery is counted).
 */
function countingExtra(
  s: MemoryStore,
  bump: { onExpiry?: boolean; onDelayedRelease?: boolean },
): (inner: MemoryAdapter) => Partial<Adapter> {
  const extraOf = perStore(() => new Map<string, number>());
  // The delivery that ended by a release (not by its lease running out), per job.
  const settledOf = perStore(() => new Set<string>());
  return (inner) => ({
    receive: async (q, o) =>
      (await inner.receive(q, o)).map((m) => {
        const job = jobOf(q, m.handle);
        const extra = extraOf(s);
        if (bump.onExpiry && m.deliveryCount > 1 && !settledOf(s).has(job)) extra.set(job, (extra.get(job) ?? 0) + 1);
        settledOf(s).delete(job);
        return { ...m, deliveryCount: m.deliveryCount + (extra.get(job) ?? 0) };
      }),
    release: async (q, h, d) => {
      await inner.release(q, h, d);
      const job = jobOf(q, h);
      settledOf(s).add(job);
      if (bump.onDelayedRelease && d > 0) extraOf(s).set(job, (extraOf(s).get(job) ?? 0) + 1);
    },
  });
}

/** How many records one scan of the r5-20 dead-letter backend reads (Azure's peek limit). */
const SCAN_LIMIT = 32;

/**
 * The memory adapter whose dead letters go through the kit's `DeadLetterStore` over a backend
 * with scans only (no `find`, no `remaining`) that read at most {@link SCAN_LIMIT} records.
 */
function scanLimited(s: MemoryStore): MemoryAdapter {
  return broken(s, (inner) => {
    let closed = false;
    const backend: DeadLetterBackend<DeadLetter> = {
      scan: async (queue) => [...s.queue(queue).dead.values()].slice(0, SCAN_LIMIT),
      letterOf: (r) => ({ ...r, attributes: { ...r.attributes } }),
      remove: async (queue, records) => {
        const dead = s.queue(queue).dead;
        for (const r of records) if (dead.get(r.id) === r) dead.delete(r.id);
      },
      requeue: async (queue, letter) => {
        await inner.send(queue, [{ id: letter.id, body: letter.body, attributes: letter.attributes }]);
      },
    };
    const store = new DeadLetterStore(backend);
    return {
      ...store.adapterMethods((queue) => {
        if (closed) throw new BgError('CLOSED', 'adapter closed', { retryable: false });
        assertQueueName(queue);
      }),
      close: async () => {
        closed = true;
        await inner.close();
      },
    };
  });
}

/** The suite's memory error scenarios, with `unreachable` replaced. */
function withUnreachable(s: MemoryStore, error: () => Error): ReturnType<NonNullable<BrokenVariant['options']>> {
  return {
    errors: {
      missingQueue: () => missingQueues(sharedMemory(s)),
      badCredentials: () => failingEverywhere(sharedMemory(s), () => new BgError('AUTH_FAILED', 'the key was refused')),
      unreachable: () => failingEverywhere(sharedMemory(s), error),
      refusedEntry: () => refusingEntries(sharedMemory(s)),
      secret: MEMORY_URL_HOOK.secret,
    },
  };
}

/** How many deliveries the r5-19 backend allows before its redrive policy moves a job away. */
const HIDDEN_MAX_RECEIVES = 5;

/** The fifth round's variants, each with the case that catches it. */
export const ROUND_FIVE_VARIANTS: readonly BrokenVariant[] = [
  {
    name: '[r5-01] a redelivery after a lease ran out counts two: the sweeper that makes the expired job visible raises the counter, and the next receive raises it again',
    caughtBy: 'lease.expiry-redelivers',
    make: (s) => broken(s, countingExtra(s, { onExpiry: true })),
  },
  {
    name: '[r5-02] a release with a delay counts a delivery (the delayed job is parked by a hidden receive of the scheduler), release(0) does not',
    caughtBy: 'release.delayed',
    make: (s) => broken(s, countingExtra(s, { onDelayedRelease: true })),
  },
  {
    name: '[r5-03] ack resolves when the job is gone (DELETE … WHERE id AND lease token matched no row, taken for "acked already"): the stale handle of a job another consumer acked acks nothing and says nothing',
    caughtBy: 'lease.stale-handle-after-expiry',
    make: (s) =>
      broken(s, (inner) => ({
        ack: async (q, h) => {
          try {
            await inner.ack(q, h);
          } catch (error) {
            if (isBgError(error, 'LEASE_LOST') && !s.queue(q).messages.has(splitHandle(h).seq)) return;
            throw error;
          }
        },
      })),
  },
  {
    name: '[r5-04] extend reports leaseExpiresAt rounded up to the next whole second (the backend answers the expiry in seconds) while the lease set is now + leaseMs: the reported expiry is up to 1 s late',
    caughtBy: 'lease.extend-value-and-count',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const r = await inner.extend(q, h, l);
          return { ...r, leaseExpiresAt: Math.ceil(r.leaseExpiresAt / 1000) * 1000 };
        },
      })),
  },
  {
    name: '[r5-05] the dead-letter cursor names the first record of the next page and the next page starts strictly after it: the first item of every later page is skipped',
    caughtBy: 'dead-letter.order-and-paging',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o) => {
          const limit = o?.limit ?? 100;
          const page = await inner.listDeadLetters(q, { ...o, limit: limit + 1 });
          if (page.items.length <= limit) return { items: page.items };
          const next = page.items[limit] as DeadLetter;
          return {
            items: page.items.slice(0, limit),
            cursor: encodeDeadLetterCursor({ deadLetteredAt: next.deadLetteredAt, id: next.id }),
          };
        },
      })),
  },
  {
    name: '[r5-06] replayDeadLetter writes the job back with its id and body only (the replay INSERT lists no attributes column): the replayed job lost bg-type and every other attribute',
    caughtBy: 'dead-letter.manage',
    make: (s) =>
      broken(s, (inner) => ({
        replayDeadLetter: async (q, id) => {
          const letter = await inner.getDeadLetter(q, id);
          if (letter === undefined) return false;
          await inner.send(q, [{ id: letter.id, body: letter.body }]);
          await inner.purgeDeadLetters(q, [id]);
          return true;
        },
      })),
  },
  {
    name: '[r5-07] purgeDeadLetters(ids) skips ids with characters outside [A-Za-z0-9_-] (they are URL-encoded in the delete request but stored raw), and counts only what it removed',
    caughtBy: 'dead-letter.exact-ids-and-empty-purge',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: (q, ids) =>
          inner.purgeDeadLetters(
            q,
            ids?.filter((id) => /^[\w-]+$/.test(id)),
          ),
      })),
  },
  {
    name: '[r5-08] stats counts delayed jobs as ready (ready = every stored job not leased; the delayed set is not subtracted)',
    caughtBy: 'stats.counts',
    make: (s) =>
      broken(s, (inner) => ({
        stats: async (q) => {
          const st = await inner.stats(q);
          return { ...st, ready: st.ready + st.delayed, delayed: 0 };
        },
      })),
  },
  {
    name: '[r5-09] a long poll woken by a job then fetches the rest of the ready jobs up to maxBatchSize, not max (BLPOP for the first, LRANGE for the rest with the wrong bound)',
    caughtBy: 'receive.max-honoured',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const now = await inner.receive(q, { ...o, waitMs: 0 });
          if (now.length > 0 || !o.waitMs) return now;
          const first = await inner.receive(q, o);
          if (first.length === 0) return first;
          const room = inner.capabilities.maxBatchSize - first.length;
          const rest = room > 0 ? await inner.receive(q, { max: room, leaseMs: o.leaseMs, waitMs: 0 }) : [];
          return [...first, ...rest];
        },
      })),
  },
  {
    name: '[r5-10] with a signal, waitMs is ignored: the poll waits for a job or the abort only (the adapter uses the signal as its only timer)',
    caughtBy: 'delivery.empty-and-abort',
    make: (s) =>
      broken(s, (inner) => ({
        receive: (q, o) => inner.receive(q, o.signal ? { ...o, waitMs: 60_000 } : o),
      })),
  },
  {
    name: '[r5-11] calls after close() reject CLOSED with retryable: true (the client’s "connection closed" mapped as a network error): a worker retries them for ever',
    caughtBy: 'lifecycle.close',
    make: (s) =>
      broken(s, (inner) => {
        const wrap =
          <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
          async (...a: A): Promise<R> => {
            try {
              return await f(...a);
            } catch (error) {
              if (isBgError(error, 'CLOSED')) throw new BgError('CLOSED', error.message, { retryable: true });
              throw error;
            }
          };
        return {
          send: wrap(inner.send),
          receive: wrap(inner.receive),
          stats: wrap(inner.stats),
          ack: wrap(inner.ack),
          extend: wrap(inner.extend),
          release: wrap(inner.release),
          deadLetter: wrap(inner.deadLetter),
        };
      }),
  },
  {
    name: '[r5-12] ensureQueue (re)creates the deduplication index (DROP … IF EXISTS, CREATE): every producer that starts forgets the keys sent before',
    caughtBy: 'optional.deduplication',
    make: (s) =>
      broken(s, (inner) => ({
        ensureQueue: async (q) => {
          await inner.ensureQueue(q);
          s.queue(q).dedup.clear();
        },
      })),
  },
  {
    name: '[r5-14] an ordering group whose head’s lease ran out is re-queued head last (the sweeper LREMs the expired head and RPUSHes it): the next job of the group overtakes it',
    caughtBy: 'optional.ordering',
    make: (s) => {
      // The sweeper: runs before each poll of the backend.
      const sweep = (q: string): void => {
        const state = s.queue(q);
        const now = s.clock.now();
        for (const group of state.groups.values()) {
          const head = state.messages.get(group[0] as number);
          if (!head || group.length < 2 || head.state !== 'leased' || head.leaseExpiresAt > now) continue;
          group.push(group.shift() as number);
          head.state = 'blocked';
          head.stateToken++;
          head.leaseToken = undefined;
          const next = state.messages.get(group[0] as number);
          if (next && next.state === 'blocked') state.makeReady(next);
        }
      };
      // A long poll is a loop of short polls, 25 ms apart.
      return broken(s, (inner) => ({
        receive: async (q, o) => {
          const end = Date.now() + (o.waitMs ?? 0);
          for (;;) {
            sweep(q);
            const got = await inner.receive(q, { ...o, waitMs: 0 });
            const left = end - Date.now();
            if (got.length > 0 || left <= 0 || o.signal?.aborted) return got;
            await new Promise((r) => setTimeout(r, Math.min(25, left)));
          }
        },
      }));
    },
  },
  {
    name: '[r5-15] a delayed send’s deduplication key is written only when the job becomes visible (the key goes with the job out of the schedule set): a duplicate sent during the delay is stored',
    caughtBy: 'optional.deduplication',
    make: (s) => {
      const pendingOf = perStore(() => new Map<string, { at: number; id: string }>());
      return broken(s, (inner) => ({
        send: async (q, ms) => {
          const now = s.clock.now();
          const pending = pendingOf(s);
          const state = s.queue(q);
          for (const [key, p] of pending)
            if (key.startsWith(`${q}/`) && p.at <= now) {
              pending.delete(key);
              state.dedup.set(key.slice(q.length + 1), { until: p.at + 5 * 60_000, id: p.id });
            }
          const sent = ms.map((m) => {
            if (m.deduplicationKey === undefined || !((m.delayMs ?? 0) > 0)) return m;
            if (!state.dedup.has(m.deduplicationKey) && !pending.has(`${q}/${m.deduplicationKey}`))
              pending.set(`${q}/${m.deduplicationKey}`, { at: now + (m.delayMs ?? 0), id: m.id });
            const { deduplicationKey: _key, ...rest } = m;
            return state.dedup.has(m.deduplicationKey) ? m : rest;
          });
          return inner.send(q, sent);
        },
      }));
    },
  },
  {
    name: '[r5-16] a batch whose bodies add up to more than maxPayloadBytes is refused as a whole (the backend’s request limit, 256 KiB on SQS, equals the per-message one): BACKEND_ERROR, retryable',
    caughtBy: 'delivery.raw-bodies',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          const total = ms.reduce((n, m) => n + Buffer.byteLength(m.body ?? ''), 0);
          if (ms.length > 1 && total > inner.capabilities.maxPayloadBytes)
            return Promise.reject(new BgError('BACKEND_ERROR', `request of ${total} bytes is too large`, { retryable: true }));
          return inner.send(q, ms);
        },
      })),
  },
  {
    name: '[r5-17] UNREACHABLE gets the driver’s error attached as cause after it is built (Object.assign, past BgError’s redaction): an AggregateError of one error per host tried, whose messages quote the connection URL with its password (its own message and JSON show none)',
    caughtBy: 'errors.unreachable',
    make: (s) => sharedMemory(s),
    options: (s) =>
      withUnreachable(s, () =>
        Object.assign(new BgError('UNREACHABLE', 'no host of the cluster answered'), {
          cause: new AggregateError(
            [1, 2].map((n) => new Error(`connect ECONNREFUSED redis://:${MEMORY_URL_HOOK.secret}@10.0.0.${n}:6379`)),
            'all hosts failed',
          ),
        }),
      ),
  },
  {
    name: '[r5-18] deadLetter inserts with ON CONFLICT DO NOTHING: a job dead-lettered again after a crash between the write and the ack keeps its first record (the first reason, error and attempts)',
    caughtBy: 'dead-letter.crash-between-write-and-remove',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: async (q, m, i) => {
          const state = s.queue(q);
          const { seq, token } = splitHandle(m.handle);
          const owner = state.messages.get(seq);
          // The handle is checked as before; only the insert of a second record is a no-op.
          if (owner !== undefined && owner.leaseToken === token && state.dead.has(owner.id)) return;
          return inner.deadLetter(q, m, i);
        },
      })),
  },
  {
    name: `[r5-19] the queue is created with a redrive policy of ${HIDDEN_MAX_RECEIVES} receives that the manifest does not declare (no maxDeliveries): a job's ${HIDDEN_MAX_RECEIVES + 1}th delivery is moved to the dead letters by the backend`,
    caughtBy: 'release.many-deliveries',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          const kept: ReceivedMessage[] = [];
          for (const m of got) {
            if (m.deliveryCount <= HIDDEN_MAX_RECEIVES) {
              kept.push(m);
              continue;
            }
            await inner.deadLetter(q, m, { reason: 'max-attempts', attempts: m.deliveryCount, deadLetteredAt: Date.now() });
            await inner.ack(q, m.handle);
          }
          return kept;
        },
      })),
  },
  {
    name: `[r5-20] the kit’s DeadLetterStore over a backend whose scan reads one peek of ${SCAN_LIMIT} records and that declares no remaining(): dead letters past the first ${SCAN_LIMIT} are never listed, fetched or purged`,
    caughtBy: 'dead-letter.more-than-one-scan',
    make: (s) => scanLimited(s),
  },
];

/**
 * Bugs of round five the suite does not catch, kept for `test/audit/measure-broken.ts --only r5-`
 * (not in `BROKEN_VARIANTS`): each says why no case is added.
 */
export const ROUND_FIVE_KNOWN_MISSES: readonly BrokenVariant[] = [
  {
    name: '[r5-13] attribute names outside [A-Za-z0-9_-] are rewritten with "_" (the backend’s header names allow no "." or ":"): "trace.id" comes back as "trace_id"',
    // The contract leaves open which characters an attribute name may hold (SQS allows letters,
    // digits, "_", "-" and "."; header-based backends fewer): no case requires "." or ":".
    caughtBy: 'attributes.names-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) =>
              m.attributes === undefined
                ? m
                : {
                    ...m,
                    attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k.replace(/[^\w-]/g, '_'), v])),
                  },
            ),
          ),
      })),
  },
];
