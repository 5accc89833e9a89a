import { type Adapter, BgError, type DeadLetter, type OutgoingMessage } from '@bg/core';
import { assertSendable, encodeDeadLetterCursor } from '@bg/core/adapter';
import type { MemoryAdapter, MemoryStore } from '@bg/memory';
import { perStore, splitHandle } from './audit/variant.js';
import type { BrokenVariant } from './broken-adapters.js';
import { failingEverywhere, refusingEntries, sharedMemory } from './memory-options.js';

/**
 * The second outside mutation audit (December 2026): bug classes no earlier variant covered, each
 * ONE realistic bug of an adapter author wrapped around the healthy memory adapter, ids in
 * brackets ([r2-01] …). `test/audit/measure-broken.ts --only r2-` runs the whole suite against
 * each one and reports which cases catch it. Every variant here is caught by the case it is
 * mapped to (`test/broken.test.ts` proves it), [r2-31] since the third round.
 */

function broken(store: MemoryStore, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rewrites the attribute values of every outgoing message (a bug in how an adapter encodes them). */
function sendingValues(s: MemoryStore, rewrite: (value: string) => string): MemoryAdapter {
  return broken(s, (inner) => ({
    send: (q, ms) =>
      inner.send(
        q,
        ms.map((m) =>
          m.attributes
            ? { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, rewrite(v)])) }
            : m,
        ),
      ),
  }));
}

/** A JSON-looking value parsed back into what it looks like (a number, a boolean, null); other text kept. */
function parsedLoosely(value: string): unknown {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? value : parsed;
  } catch {
    return value;
  }
}

/** Attributes packed into one `k=v;k=v` text and unpacked again: lossy for `;` and `=` in values. */
function packedAndUnpacked(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const packed = Object.entries(attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  if (packed === '') return {};
  return Object.fromEntries(
    packed.split(';').map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

const BASE64_TEXT = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A body that is valid Base64 of UTF-8 text, decoded (a reader "tolerant" of other SDKs' Base64). */
function sniffedBase64(body: string): string {
  if (!BASE64_TEXT.test(body)) return body;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body, 'base64'));
  } catch {
    return body;
  }
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const FIFTEEN_MINUTES = 15 * 60_000;

const releasedOf = perStore(() => new Set<string>());
const purgedOf = perStore(() => new Map<string, DeadLetter>());
const sentDelayOf = perStore(() => new Map<string, number>());

export const ROUND_TWO_VARIANTS: readonly BrokenVariant[] = [
  {
    name: '[r2-01] receive listens for "abort" but never looks at signal.aborted: a receive whose signal is already aborted long-polls its whole waitMs',
    caughtBy: 'delivery.already-aborted-receive',
    make: (s) =>
      broken(s, (inner) => ({
        receive: (q, o) => inner.receive(q, o.signal?.aborted ? { ...o, signal: undefined as never } : o),
      })),
  },
  {
    name: '[r2-02] an abort ends the caller’s wait but not the backend’s long poll: a job that arrives after the abort is leased by that poll and dropped (nobody holds it until its lease ends)',
    caughtBy: 'delivery.empty-and-abort',
    make: (s) =>
      broken(s, (inner) => ({
        receive: (q, o) => {
          const signal = o.signal;
          if (!signal || !(o.waitMs ?? 0)) return inner.receive(q, o);
          if (signal.aborted) return inner.receive(q, { ...o, waitMs: 0 });
          const call = inner.receive(q, { ...o, signal: undefined as never });
          return new Promise((resolve, reject) => {
            const stop = (): void => resolve([]);
            signal.addEventListener('abort', stop, { once: true });
            call.then((got) => {
              signal.removeEventListener('abort', stop);
              resolve(got);
            }, reject);
          });
        },
      })),
  },
  {
    name: '[r2-03] leaseExpiresAt computed from when the job was enqueued (insertedOn + visibility timeout), not from the delivery',
    caughtBy: 'lease.timestamps',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => ({ ...m, leaseExpiresAt: (m.enqueuedAt ?? Date.now()) + o.leaseMs })),
      })),
  },
  {
    name: '[r2-04] numeric-looking attribute values sent as DataType Number come back normalised ("007" → "7", "1.50" → "1.5")',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) => sendingValues(s, (v) => (NUMBER_TEXT.test(v) ? String(Number(v)) : v)),
  },
  {
    name: '[r2-05] attribute values JSON-parsed on read ("true" → true, "null" → null, "42" → 42)',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => ({
            ...m,
            attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, parsedLoosely(v)])) as Record<
              string,
              string
            >,
          })),
      })),
  },
  {
    name: '[r2-06] attributes stored packed in one "k=v;k=v" field: a value holding ";" or "=" comes back split into other attributes',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => (m.attributes ? { ...m, attributes: packedAndUnpacked(m.attributes) } : m)),
          ),
      })),
  },
  {
    name: '[r2-07] attribute values lose characters outside the Basic Multilingual Plane (a utf8mb3 column stores "?")',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) => sendingValues(s, (v) => v.replace(/[\u{10000}-\u{10FFFF}]/gu, '?')),
  },
  {
    name: '[r2-08] a body that is valid Base64 of UTF-8 text is decoded on read (to accept messages other SDKs wrote Base64-encoded)',
    caughtBy: 'delivery.raw-bodies',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) => (await inner.receive(q, o)).map((m) => ({ ...m, body: sniffedBase64(m.body) })),
      })),
  },
  {
    name: '[r2-09] a partial batch failure names only the first failed entry in details.failedIds (Failed[0] of the answer)',
    caughtBy: 'delivery.batch-partial-failure',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        refusedEntry: () => {
          const partial = refusingEntries(sharedMemory(s));
          return {
            ...partial,
            send: (q: string, ms: readonly OutgoingMessage[]) =>
              partial.send(q, ms).catch((error: unknown) => {
                const failedIds = (error as { details?: { failedIds?: string[] } }).details?.failedIds ?? [];
                throw new BgError('BACKEND_ERROR', `message ${failedIds[0]} was not stored`, {
                  details: { failedIds: failedIds.slice(0, 1) },
                });
              }),
          };
        },
      },
    }),
  },
  {
    name: '[r2-10] send answers its results in the order of the backend’s answer, sorted by entry id as text ("0", "1", "10", "100", "101" …)',
    caughtBy: 'delivery.large-batch',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const results = await inner.send(q, ms);
          return results
            .map((r, i) => [String(i), r] as const)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([, r]) => r);
        },
      })),
  },
  {
    name: '[r2-11] the dead letter’s attempts taken from the delivery’s deliveryCount instead of info.attempts (deferrals are not attempts)',
    caughtBy: 'dead-letter.moves-original',
    make: (s) => broken(s, (inner) => ({ deadLetter: (q, m, i) => inner.deadLetter(q, m, { ...i, attempts: m.deliveryCount }) })),
  },
  {
    name: '[r2-12] listDeadLetters returns summaries: items without their attributes (the listing reads the index, not the records)',
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o) => {
          const page = await inner.listDeadLetters(q, o);
          return { ...page, items: page.items.map((d) => ({ ...d, attributes: {} })) };
        },
      })),
  },
  {
    name: '[r2-13] listDeadLetters items without the error (the listing query leaves out the error column)',
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o) => {
          const page = await inner.listDeadLetters(q, o);
          return { ...page, items: page.items.map(({ error: _e, ...d }) => d) };
        },
      })),
  },
  {
    name: '[r2-14] purgeDeadLetters() (all) answers the number of keys deleted (1), not the number of dead letters',
    caughtBy: 'dead-letter.order-and-paging',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: async (q, ids) => {
          const n = await inner.purgeDeadLetters(q, ids);
          return ids === undefined ? Math.min(n, 1) : n;
        },
      })),
  },
  {
    name: '[r2-15] a dead-letter page that is exactly full gets a cursor although nothing follows (cursor when items.length === limit)',
    caughtBy: 'dead-letter.manage',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o = {}) => {
          const page = await inner.listDeadLetters(q, o);
          const last = page.items.at(-1);
          const full = page.items.length === (o.limit ?? 100);
          return page.cursor === undefined && full && last ? { ...page, cursor: encodeDeadLetterCursor(last) } : page;
        },
      })),
  },
  {
    name: '[r2-16] purge removes dead letters from the listing index only: getDeadLetter still shows a purged one and replayDeadLetter brings it back',
    caughtBy: 'dead-letter.manage',
    make: (s) =>
      broken(s, (inner) => ({
        purgeDeadLetters: async (q, ids) => {
          const dead = inner.store.queue(q).dead;
          const doomed = ids === undefined ? [...dead.values()] : ids.flatMap((id) => dead.get(id) ?? []);
          const n = await inner.purgeDeadLetters(q, ids);
          for (const d of doomed) purgedOf(s).set(`${q}/${d.id}`, d);
          return n;
        },
        getDeadLetter: async (q, id) => (await inner.getDeadLetter(q, id)) ?? purgedOf(s).get(`${q}/${id}`),
        replayDeadLetter: async (q, id) => {
          if (await inner.replayDeadLetter(q, id)) return true;
          const old = purgedOf(s).get(`${q}/${id}`);
          if (!old) return false;
          await inner.send(q, [{ id: old.id, body: old.body, attributes: old.attributes }]);
          purgedOf(s).delete(`${q}/${id}`);
          return true;
        },
      })),
  },
  {
    name: '[r2-17] stats keeps counting a released job in flight (the in-flight counter is decremented by ack and dead-letter only)',
    caughtBy: 'stats.counts',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          await inner.release(q, h, d);
          releasedOf(s).add(`${q}/${splitHandle(h).seq}`);
        },
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          for (const m of got) releasedOf(s).delete(`${q}/${splitHandle(m.handle).seq}`);
          return got;
        },
        stats: async (q) => {
          const stats = await inner.stats(q);
          const now = Date.now();
          let ready = 0;
          let delayed = 0;
          for (const m of inner.store.queue(q).messages.values()) {
            if (!releasedOf(s).has(`${q}/${m.seq}`) || m.state === 'leased') continue;
            if ((m.state === 'delayed' && m.visibleAt > now) || m.state === 'blocked') delayed++;
            else ready++;
          }
          return {
            ...stats,
            ready: stats.ready - ready,
            delayed: stats.delayed - delayed,
            inFlight: stats.inFlight + ready + delayed,
          };
        },
      })),
  },
  {
    name: '[r2-18] stats counts dead letters as ready too (ready = every stored record of the queue that is not leased or delayed)',
    caughtBy: 'stats.counts',
    make: (s) =>
      broken(s, (inner) => ({
        stats: async (q) => {
          const stats = await inner.stats(q);
          return { ...stats, ready: stats.ready + stats.dead };
        },
      })),
  },
  {
    name: '[r2-19] stats counts a delayed job whose time has come as delayed until a receive moves it (ZCARD of the delayed set)',
    caughtBy: 'stats.delay-due',
    make: (s) =>
      broken(s, (inner) => ({
        stats: async (q) => {
          const stats = await inner.stats(q);
          const now = Date.now();
          let due = 0;
          for (const m of inner.store.queue(q).messages.values()) if (m.state === 'delayed' && m.visibleAt <= now) due++;
          return { ...stats, ready: stats.ready - due, delayed: stats.delayed + due };
        },
      })),
  },
  {
    name: '[r2-20] enqueuedAt of a job sent with a delay is when its delay ended (the job is written to the stream then), not when it was sent',
    caughtBy: 'delay.native',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          for (const m of ms) if (m.delayMs) sentDelayOf(s).set(`${q}/${m.id}`, m.delayMs);
          return inner.send(q, ms);
        },
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => {
            const delay = sentDelayOf(s).get(`${q}/${m.id}`);
            return delay === undefined || m.enqueuedAt === undefined ? m : { ...m, enqueuedAt: m.enqueuedAt + delay };
          }),
      })),
  },
  {
    name: '[r2-21] listQueues lists the dead-letter store of each queue too ("q-dlq" beside "q")',
    caughtBy: 'queues.exists-list-delete',
    make: (s) =>
      broken(s, (inner) => ({ listQueues: async () => (await inner.listQueues()).flatMap((q) => [q, `${q}-dlq`]).sort() })),
  },
  {
    name: '[r2-22] listQueues in the order the backend’s scan returns names (here: creation order), not sorted',
    caughtBy: 'queues.exists-list-delete',
    make: (s) =>
      broken(s, (inner) => ({
        listQueues: async () => {
          await inner.listQueues();
          return [...inner.store.queues.keys()];
        },
      })),
  },
  {
    name: '[r2-23] queueExists, listQueues and deleteQueue keep working after close() (they use an admin client close() forgets)',
    caughtBy: 'lifecycle.close-every-call',
    make: (s) => {
      const admin = sharedMemory(s);
      return broken(s, () => ({
        queueExists: (q) => admin.queueExists(q),
        listQueues: () => admin.listQueues(),
        deleteQueue: (q) => admin.deleteQueue(q),
      }));
    },
  },
  {
    name: '[r2-24] a close() called while another close() is still running rejects ("Connection is closed": the client’s quit() called twice)',
    caughtBy: 'lifecycle.close',
    make: (s) => {
      let state: 'open' | 'closing' | 'closed' = 'open';
      return broken(s, (inner) => ({
        close: async () => {
          if (state === 'closed') return;
          if (state === 'closing') throw new Error('Connection is closed.');
          state = 'closing';
          await sleep(20);
          await inner.close();
          state = 'closed';
        },
      }));
    },
  },
  {
    name: '[r2-25] a send delay of exactly maxDelayMs is refused with DELAY_TOO_LONG (">=" instead of ">")',
    caughtBy: 'limits.delay-too-long',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          const max = inner.capabilities.maxDelayMs;
          const at = ms.find((m) => (m.delayMs ?? 0) > 0 && (m.delayMs ?? 0) >= max);
          if (at) throw new BgError('DELAY_TOO_LONG', `message ${at.id}: delay ${at.delayMs} ms is not below ${max} ms`);
          return inner.send(q, ms);
        },
      })),
  },
  {
    name: '[r2-26] delays longer than 15 minutes are sent without a delay (code from an SQS adapter, whose DelaySeconds stops at 900) while the manifest declares a longer maxDelayMs',
    caughtBy: 'limits.delay-too-long',
    make: (s) =>
      broken(s, (inner) => ({
        send: async (q, ms) => {
          assertSendable(inner.capabilities, ms);
          return inner.send(
            q,
            ms.map(({ delayMs, ...m }) => (delayMs !== undefined && delayMs <= FIFTEEN_MINUTES ? { ...m, delayMs } : m)),
          );
        },
      })),
  },
  {
    name: '[r2-27] a release delay of exactly maxReleaseDelayMs is refused with DELAY_TOO_LONG (">=" instead of ">")',
    caughtBy: 'limits.delay-too-long',
    make: (s) =>
      broken(s, (inner) => ({
        release: async (q, h, d) => {
          const max = inner.capabilities.maxReleaseDelayMs;
          if (d > 0 && d >= max) throw new BgError('DELAY_TOO_LONG', `release delay ${d} ms is not below ${max} ms`);
          return inner.release(q, h, d);
        },
      })),
  },
  {
    name: '[r2-28] a lease of exactly maxLeaseMs is refused with LEASE_TOO_LONG (">=" instead of ">"): the worker’s heartbeat at the maximum fails',
    caughtBy: 'lease.beyond-maximum',
    make: (s) =>
      broken(s, (inner) => {
        const max = inner.capabilities.maxLeaseMs;
        const refuse = (l: number): void => {
          if (l >= max) throw new BgError('LEASE_TOO_LONG', `lease ${l} ms is not below ${max} ms`);
        };
        return {
          receive: async (q, o) => {
            refuse(o.leaseMs);
            return inner.receive(q, o);
          },
          extend: async (q, h, l) => {
            refuse(l);
            return inner.extend(q, h, l);
          },
        };
      }),
  },
  {
    name: '[r2-29] AUTH_FAILED keeps the client’s error as its cause, and that error carries the AUTH command it sent, password included (ioredis ReplyError.command.args)',
    caughtBy: 'errors.bad-credentials',
    make: (s) => sharedMemory(s),
    options: (s) => ({
      errors: {
        secret: 'hunter2Secret',
        badCredentials: () =>
          failingEverywhere(sharedMemory(s), () => {
            const reply = Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
              command: { name: 'auth', args: ['admin', 'hunter2Secret'] },
            });
            return new BgError('AUTH_FAILED', 'the server refused the credentials', { retryable: false, cause: reply });
          }),
      },
    }),
  },
  {
    name: '[r2-30] ack removes every stored message with the job’s id (the id is the storage key): the copy the core re-sent (an unknown-version deferral, a delay hop) goes with the old delivery',
    caughtBy: 'worker.versions',
    make: (s) =>
      broken(s, (inner) => ({
        ack: async (q, h) => {
          const state = inner.store.queue(q);
          const acked = state.messages.get(splitHandle(h).seq);
          await inner.ack(q, h);
          if (!acked) return;
          for (const other of [...state.messages.values()]) if (other.id === acked.id) state.remove(other, Date.now());
        },
      })),
  },
  {
    // Left out in round two (a one-second default hid in the 2 s allowed to one waitMs-0 receive);
    // caught since round three, by the fastest of three waitMs-0 receives.
    name: '[r2-31] waitMs 0 taken for "no value" (waitMs || 1000): a receive that should return at once long-polls a second',
    caughtBy: 'delivery.empty-and-abort',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, waitMs: o.waitMs || 1_000 }) })),
  },
];
