import { fileURLToPath } from 'node:url';
import { type Adapter, BgError, isBgError, type OutgoingMessage, type SendResult } from '@bg/core';
import { assertSendable, decodeDeadLetterCursor } from '@bg/core/adapter';
import type { MemoryAdapter, MemoryStore } from '@bg/memory';
import { serveAdapterOverIpc } from '../src/index.js';
import { messageOf, perStore, roundTrip, splitHandle } from './audit/variant.js';
import type { BrokenVariant } from './broken-adapters.js';
import { sharedMemory } from './memory-options.js';
import { type LeakKind, leaking } from './round-three-leaks.js';

/**
 * The third mutation round (December 2026): bug classes no earlier variant had, each ONE
 * realistic bug of an adapter author wrapped around the healthy memory adapter, ids in brackets
 * ([r3-01] …). `test/audit/measure-broken.ts --only r3-` runs the whole suite against each one;
 * `test/broken.test.ts` proves each is caught by the case it is mapped to.
 */

function broken(store: MemoryStore, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

/** A leak of `kind` in the parent and in the competing consumer processes. */
function leakVariant(kind: LeakKind): Pick<BrokenVariant, 'make' | 'options'> {
  return {
    make: (s) => leaking(sharedMemory(s), kind),
    options: () => ({
      workerProcess: {
        adapterModule: fileURLToPath(new URL('./round-three-leak-child.ts', import.meta.url)),
        env: { BG_R3_LEAK: kind },
        serve: (child, adapter) => serveAdapterOverIpc(child, adapter),
      },
    }),
  };
}

const MEMORY_HANDLE = /^\d+\.[0-9a-z]+$/;
const releasedAtOf = perStore(() => new Map<string, number>());
const orderingKeyOf = perStore(() => new Map<string, string>());
const NON_RETRYABLE_SEND = new Set(['PAYLOAD_TOO_LARGE', 'BATCH_TOO_LARGE', 'DELAY_TOO_LONG', 'INVALID_ARGUMENT']);

/** The third round's variants, each with the case that catches it. */
export const ROUND_THREE_VARIANTS: readonly BrokenVariant[] = [
  {
    name: '[r3-01] the first delivery reports deliveryCount 0 (the backend sets its receive counter only on redeliveries; a missing counter is read as 0)',
    caughtBy: 'delivery.round-trip',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => (await inner.receive(q, o)).map((m) => (m.deliveryCount === 1 ? { ...m, deliveryCount: 0 } : m)),
      })),
  },
  {
    name: '[r3-02] release with a delay re-writes the job as new: its delivery count starts over (release(0) keeps it)',
    caughtBy: 'release.delayed',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          const m = messageOf(inner.store, q, h);
          await inner.release(q, h, d);
          if (m && d > 0) m.deliveryCount = 0;
        },
      })),
  },
  {
    name: '[r3-03] release with a delay re-writes the job with a new enqueuedAt (the time of the release)',
    caughtBy: 'release.delayed',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          await inner.release(q, h, d);
          if (d > 0) releasedAtOf(s).set(`${q}/${splitHandle(h).seq}`, Date.now());
        },
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => {
            const at = releasedAtOf(s).get(`${q}/${splitHandle(m.handle).seq}`);
            return at === undefined ? m : { ...m, enqueuedAt: at };
          }),
      })),
  },
  {
    name: '[r3-04] extend never shortens a lease (ZADD GT keeps the later expiry) but reports now + leaseMs',
    caughtBy: 'lease.extend',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const m = messageOf(inner.store, q, h);
          const before = m?.leaseExpiresAt ?? 0;
          const result = await inner.extend(q, h, l);
          if (m && before > result.leaseExpiresAt) {
            m.leaseExpiresAt = before;
            inner.store.queue(q).schedule(m, 'leased', before);
          }
          return result;
        },
      })),
  },
  {
    name: '[r3-05] an extend with the handle of a job already acked resolves (treated like the harmless second ack)',
    caughtBy: 'lease.ack-removes',
    make: (s) =>
      broken(s, (inner) => ({
        extend: async (q, h, l) => {
          if (inner.store.queue(q).acked.has(h)) return { handle: h, leaseExpiresAt: Date.now() + l };
          return inner.extend(q, h, l);
        },
      })),
  },
  {
    name: '[r3-06] leases are sent in whole seconds, rounded up (VisibilityTimeout = ceil(ms / 1000)), while minLeaseMs declares 1 ms; leaseExpiresAt reports the real expiry',
    caughtBy: 'lease.timestamps',
    make: (s) =>
      broken(s, (inner) => {
        const up = (l: number): number => Math.min(Math.ceil(l / 1000) * 1000, inner.capabilities.maxLeaseMs);
        return {
          receive: (q, o) => inner.receive(q, { ...o, leaseMs: up(o.leaseMs) }),
          extend: (q, h, l) => inner.extend(q, h, up(l)),
        };
      }),
  },
  {
    name: '[r3-07] leases above 6 h are silently cut to 6 h (the backend’s own maximum) while the manifest declares maxLeaseMs 12 h; leaseExpiresAt reports the cut expiry',
    caughtBy: 'lease.beyond-maximum',
    make: (s) =>
      broken(s, (inner) => {
        const cut = (l: number): number =>
          l > inner.capabilities.maxLeaseMs ? l : Math.min(l, inner.capabilities.maxLeaseMs / 2);
        return {
          receive: (q, o) => inner.receive(q, { ...o, leaseMs: cut(o.leaseMs) }),
          extend: (q, h, l) => inner.extend(q, h, cut(l)),
        };
      }),
  },
  {
    name: '[r3-08] a receive with max ≥ 2 can return one job twice (the expired-lease sweep and the ready list both yield it), same handle',
    caughtBy: 'receive.max-honoured',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          const first = got[0];
          return first && got.length < o.max ? [...got, first] : got;
        },
      })),
  },
  {
    name: '[r3-09] send deletes delayMs from the caller’s message objects once the delay is handed to the backend (a retried send goes out without it)',
    caughtBy: 'delivery.round-trip',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const results = await inner.send(q, ms);
          for (const m of ms) {
            if (m.delayMs !== undefined && !Object.isFrozen(m)) delete (m as { delayMs?: number }).delayMs;
            if (m.attributes !== undefined && !Object.isFrozen(m))
              (m as { attributes?: unknown }).attributes = { ...m.attributes };
          }
          return results;
        },
      })),
  },
  {
    name: '[r3-10] attributes named bg-… are taken for the adapter’s own metadata and stripped on read',
    caughtBy: 'delivery.attributes-exact',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => ({
            ...m,
            attributes: Object.fromEntries(Object.entries(m.attributes).filter(([k]) => !k.startsWith('bg-'))),
          })),
      })),
  },
  {
    name: '[r3-11] dead letters keep only the error message (stored in a text column): its name, code and stack are lost',
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: (q, m, i) => inner.deadLetter(q, m, i.error ? { ...i, error: { message: i.error.message } } : i),
      })),
  },
  {
    name: '[r3-12] dead letters are read back with deadLetteredAt in epoch seconds (extract(epoch from …))',
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => {
        const secs = <T extends { deadLetteredAt: number }>(d: T): T => ({
          ...d,
          deadLetteredAt: Math.floor(d.deadLetteredAt / 1000),
        });
        return {
          listDeadLetters: async (q, o) => {
            const page = await inner.listDeadLetters(q, o);
            return { ...page, items: page.items.map(secs) };
          },
          getDeadLetter: async (q, id) => {
            const d = await inner.getDeadLetter(q, id);
            return d && secs(d);
          },
        };
      }),
  },
  {
    name: '[r3-13] purgeDeadLetters(queue, ids) deletes the dead letters with those ids in every queue (one table, keyed by job id)',
    caughtBy: 'dead-letter.confined-to-queue',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: async (q, ids) => {
          const n = await inner.purgeDeadLetters(q, ids);
          if (ids !== undefined) for (const state of inner.store.queues.values()) for (const id of ids) state.dead.delete(id);
          return n;
        },
      })),
  },
  {
    name: '[r3-14] purgeDeadLetters([a, a]) answers 2: it counts the requested ids found before deleting',
    caughtBy: 'dead-letter.exact-ids-and-empty-purge',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: async (q, ids) => {
          if (ids === undefined) return inner.purgeDeadLetters(q, ids);
          const found = ids.filter((id) => inner.store.queue(q).dead.has(id)).length;
          await inner.purgeDeadLetters(q, ids);
          return found;
        },
      })),
  },
  {
    name: '[r3-15] deduplication keys are remembered by the adapter instance (an in-process cache): another instance stores the duplicate',
    caughtBy: 'optional.deduplication',
    make: (s) => {
      const seen = new Map<string, string>();
      return broken(s, (inner) => ({
        send: async (q, ms) => {
          assertSendable(inner.capabilities, ms);
          const results: SendResult[] = [];
          for (const { deduplicationKey: key, ...m } of ms) {
            const earlier = key === undefined ? undefined : seen.get(`${q}/${key}`);
            if (earlier !== undefined) {
              results.push({ id: earlier, duplicate: true });
              continue;
            }
            if (key !== undefined) seen.set(`${q}/${key}`, m.id);
            results.push(...(await inner.send(q, [m])));
          }
          return results;
        },
      }));
    },
  },
  {
    name: '[r3-16] a lease handle this adapter never made (garbage) makes ack, extend, release and deadLetter throw a plain SyntaxError (the handle is JSON-parsed)',
    caughtBy: 'lease.ack-removes',
    make: (s) =>
      broken(s, (inner) => {
        const parse = (h: string): void => {
          if (!MEMORY_HANDLE.test(h))
            throw new SyntaxError(`Unexpected token '${h.slice(0, 1)}', "${h.slice(0, 20)}" is not valid JSON`);
        };
        return {
          ack: async (q, h) => {
            parse(h);
            return inner.ack(q, h);
          },
          extend: async (q, h, l) => {
            parse(h);
            return inner.extend(q, h, l);
          },
          release: async (q, h, d) => {
            parse(h);
            return inner.release(q, h, d);
          },
          deadLetter: async (q, m, i) => {
            parse(m.handle);
            return inner.deadLetter(q, m, i);
          },
        };
      }),
  },
  {
    name: '[r3-17] a dead-letter cursor that is not one of ours throws a plain SyntaxError (JSON.parse of the cursor), not INVALID_ARGUMENT',
    caughtBy: 'dead-letter.manage',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o) => {
          if (o?.cursor !== undefined) {
            try {
              decodeDeadLetterCursor(o.cursor);
            } catch {
              throw new SyntaxError(`Unexpected token in JSON at position 0`);
            }
          }
          return inner.listDeadLetters(q, o);
        },
      })),
  },
  {
    name: '[r3-18] every error of send is rethrown retryable (one catch-all mapping): PAYLOAD_TOO_LARGE, BATCH_TOO_LARGE, DELAY_TOO_LONG and INVALID_ARGUMENT say retry',
    caughtBy: 'limits.max-payload',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(q, ms).catch((error: unknown) => {
            if (isBgError(error) && NON_RETRYABLE_SEND.has(error.code))
              throw new BgError(error.code, error.message, { retryable: true, cause: error });
            throw error;
          }),
      })),
  },
  {
    name: '[r3-19] ensureQueue checks, then creates: when two callers race on a new queue, the loser’s create fails with "already exists" (BACKEND_ERROR)',
    caughtBy: 'lifecycle.ensure-existing-queue',
    make: (s) =>
      broken(s, (inner) => ({
        ensureQueue: async (q) => {
          const existed = inner.store.queues.has(q);
          await roundTrip(5);
          if (!existed && inner.store.queues.has(q)) throw new BgError('BACKEND_ERROR', `QueueAlreadyExists: ${q}`);
          await inner.ensureQueue(q);
        },
      })),
  },
  {
    name: '[r3-20] deleteQueue answers true for a queue that never existed (the backend’s delete is idempotent and its answer ignored)',
    caughtBy: 'queues.exists-list-delete',
    make: (s) =>
      broken(s, (inner) => ({
        deleteQueue: async (q) => {
          await inner.deleteQueue(q);
          return true;
        },
      })),
  },
  {
    name: '[r3-21] send resolves at once and writes in the background (a batching producer flushing every 50 ms); close() drops what is not written yet',
    caughtBy: 'lifecycle.close',
    make: (s) => {
      let pending: { q: string; ms: readonly OutgoingMessage[] }[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      return broken(s, (inner) => ({
        send: async (q, ms) => {
          assertSendable(inner.capabilities, ms);
          if (!(await inner.queueExists(q))) return inner.send(q, ms);
          pending.push({ q, ms });
          timer ??= setTimeout(() => {
            timer = undefined;
            const batch = pending;
            pending = [];
            for (const p of batch) inner.send(p.q, p.ms).catch(() => {});
          }, 50);
          return ms.map((m) => ({ id: m.id, duplicate: false }));
        },
        close: async () => {
          clearTimeout(timer);
          pending = [];
          await inner.close();
        },
      }));
    },
  },
  {
    name: '[r3-22] every receive adds an "abort" listener to the caller’s signal and never removes it (a worker’s long-lived signal collects one per poll)',
    caughtBy: 'delivery.empty-and-abort',
    make: (s) =>
      broken(s, (inner) => ({
        receive: (q, o) => {
          o.signal?.addEventListener('abort', () => {});
          return inner.receive(q, o);
        },
      })),
  },
  {
    name: '[r3-23] ordering keys kept apart only inside one receive (a second job of a group in the same batch is handed back); a later receive, by this consumer or another, gets the next job while the head is still leased',
    caughtBy: 'optional.ordering',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          for (const m of ms) if (m.orderingKey !== undefined) orderingKeyOf(s).set(`${q}/${m.id}`, m.orderingKey);
          return inner.send(
            q,
            ms.map(({ orderingKey: _k, ...m }) => m),
          );
        },
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          const keys = new Set<string>();
          const out = [];
          for (const m of got) {
            const key = orderingKeyOf(s).get(`${q}/${m.id}`);
            if (key !== undefined && keys.has(key)) await inner.release(q, m.handle, 0);
            else {
              if (key !== undefined) keys.add(key);
              out.push(m);
            }
          }
          return out;
        },
      })),
  },
  {
    name: '[r3-24] close() leaves the lease sweeper’s setInterval running (the process never exits)',
    caughtBy: 'delivery.competing-processes',
    ...leakVariant('interval'),
  },
  {
    name: '[r3-25] each receive arms a watchdog timer (waitMs + 30 s) that is never cleared: after close() the process lives on for 30 s',
    caughtBy: 'delivery.competing-processes',
    ...leakVariant('watchdog'),
  },
  {
    name: '[r3-26] close() ends the main connection but not the second one opened for blocking long polls',
    caughtBy: 'delivery.competing-processes',
    ...leakVariant('socket'),
  },
  {
    name: '[r3-27] queueExists answers true for a queue after deleteQueue (it asks a cache filled by ensureQueue)',
    caughtBy: 'queues.exists-list-delete',
    make: (s) => {
      const known = new Set<string>();
      return broken(s, (inner) => ({
        ensureQueue: async (q) => {
          await inner.ensureQueue(q);
          known.add(q);
        },
        queueExists: async (q) => known.has(q) || inner.queueExists(q),
      }));
    },
  },
  {
    name: '[r3-28] a send to a queue another adapter instance deleted succeeds and stores nothing a receive finds (the adapter trusts its cache of queues it has used; Redis wrote a stream without its consumer group)',
    caughtBy: 'queues.recreate-same-name',
    make: (s) => {
      const used = new Set<string>();
      return broken(s, (inner) => ({
        send: async (q, messages) => {
          if (used.has(q) && !(await inner.queueExists(q))) return messages.map((m) => ({ id: m.id, duplicate: false }));
          const results = await inner.send(q, messages);
          used.add(q);
          return results;
        },
      }));
    },
  },
];
