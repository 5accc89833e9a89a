import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { type Adapter, BgError, type DeadLetter, type ReceivedMessage, type SendResult } from '@bg/core';
import type { MemoryAdapter, MemoryStore } from '@bg/memory';
import { perStore, splitHandle } from './audit/variant.js';
import type { BrokenVariant } from './broken-adapters.js';
import { sharedMemory } from './memory-options.js';

/**
 * The fourth mutation round: the three known gaps (resources left by the adapter in the test
 * process itself, `receive` without or with a zero/short `waitMs`, the `duplicate` flag across
 * adapter instances), then bugs an outside author writing an adapter for a new backend (NATS
 * JetStream, RabbitMQ, MySQL, DynamoDB …) makes. Each is ONE bug wrapped around the healthy
 * memory adapter, ids in brackets ([r4-01] …); `test/audit/measure-broken.ts --only r4-` runs the
 * whole suite against each one, `test/broken.test.ts` proves each is caught by the case it is
 * mapped to.
 */

function broken(store: MemoryStore, override: (inner: MemoryAdapter) => Partial<Adapter>): MemoryAdapter {
  const inner = sharedMemory(store);
  return Object.assign(Object.create(inner) as MemoryAdapter, inner, override(inner));
}

/** A local TCP server standing in for a backend (unref'd: it never keeps a process alive). */
let backend: Promise<number> | undefined;
function backendPort(): Promise<number> {
  backend ??= new Promise((resolve) => {
    const server = createServer((socket) => socket.on('error', () => {}));
    server.unref();
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return backend;
}

/** Whole seconds, rounded down (what `Math.floor(ms / 1000)` in a request field does). */
const floorSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

/**
 * Memory declaring `extendBeyondMax: 'clamp'` and clamping leases beyond `maxLeaseMs` itself;
 * `lies`: `extend` then reports now + the lease asked for, not the clamped one.
 */
function clamping(store: MemoryStore, lies: boolean): MemoryAdapter {
  return broken(store, (inner) => {
    const max = inner.capabilities.maxLeaseMs;
    return {
      capabilities: Object.freeze({ ...inner.capabilities, extendBeyondMax: 'clamp' as const }),
      receive: (q, o) => inner.receive(q, { ...o, leaseMs: Math.min(o.leaseMs, max) }),
      extend: async (q, h, l) => {
        const r = await inner.extend(q, h, Math.min(l, max));
        return lies ? { ...r, leaseExpiresAt: Date.now() + l } : r;
      },
    };
  });
}

/** How many attributes variant r4-17 keeps. */
const ATTRIBUTE_KEEP = 8;

/** The fourth round's variants, each with the case that catches it. */
export const ROUND_FOUR_VARIANTS: readonly BrokenVariant[] = [
  // ── Gap a: what the adapter under test leaves alive in this process after close() ──
  {
    name: '[r4-01] the lease sweeper is started by the factory and again by the first receive (start() twice overwrites the timer field): close() clears the second setInterval only',
    caughtBy: 'lifecycle.close-frees-resources',
    make: (s) => {
      let sweeper: ReturnType<typeof setInterval> | undefined = setInterval(() => {}, 1_000);
      let started = false;
      return broken(s, (inner) => ({
        receive: (q, o) => {
          if (!started) {
            started = true;
            sweeper = setInterval(() => {}, 1_000);
          }
          return inner.receive(q, o);
        },
        close: async () => {
          clearInterval(sweeper);
          await inner.close();
        },
      }));
    },
  },
  {
    name: '[r4-02] the connection for blocking long polls is opened lazily by the first receive with waitMs > 0 and never ended: close() ends only the main connection',
    caughtBy: 'lifecycle.close-frees-resources',
    make: (s) => {
      let blocking: Promise<Socket> | undefined;
      return broken(s, (inner) => ({
        receive: async (q, o) => {
          if ((o.waitMs ?? 0) > 0) {
            blocking ??= backendPort().then((port) => {
              const socket = tcpConnect(port, '127.0.0.1');
              socket.on('error', () => {});
              return socket;
            });
            await blocking;
          }
          return inner.receive(q, o);
        },
      }));
    },
  },
  {
    name: '[r4-03] each long poll arms a timer for its waitMs, cleared when the poll ends normally but not when close() or an abort ends it early',
    caughtBy: 'lifecycle.close-frees-resources',
    make: (s) => {
      let closed = false;
      return broken(s, (inner) => ({
        receive: async (q, o) => {
          const wait = o.waitMs ?? 0;
          const timer = wait > 0 ? setTimeout(() => {}, wait) : undefined;
          const got = await inner.receive(q, o);
          if (!closed && !o.signal?.aborted) clearTimeout(timer);
          return got;
        },
        close: async () => {
          closed = true;
          await inner.close();
        },
      }));
    },
  },
  // ── Gap b: receive without waitMs, with waitMs 0, with a short or a long one ──
  {
    name: '[r4-04] receive without waitMs long-polls 20 s (the queue’s default ReceiveMessageWaitTimeSeconds applies when WaitTimeSeconds is left out)',
    caughtBy: 'receive.wait-bounds',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, waitMs: o.waitMs ?? 20_000 }) })),
  },
  {
    name: '[r4-05] waitMs 0 is taken for "not given" and the adapter’s default long poll of 400 ms applies (waitMs || 400)',
    caughtBy: 'receive.wait-bounds',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, waitMs: o.waitMs || 400 }) })),
  },
  {
    name: '[r4-06] waitMs is sent in whole seconds rounded down (WaitTimeSeconds = floor(ms / 1000)): a sub-second long poll returns at once',
    caughtBy: 'receive.wait-bounds',
    make: (s) => broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, waitMs: floorSeconds(o.waitMs ?? 0) }) })),
  },
  {
    name: '[r4-07] one backend poll per receive, of at most 1 s (the fetch expiry is capped to stay responsive): a longer wait returns empty after 1 s',
    caughtBy: 'receive.wait-bounds',
    make: (s) =>
      broken(s, (inner) => ({ receive: (q, o) => inner.receive(q, { ...o, waitMs: Math.min(o.waitMs ?? 0, 1_000) }) })),
  },
  // ── Gap c: the duplicate flag across adapter instances ──
  {
    name: '[r4-08] the backend drops a duplicate key (INSERT … ON CONFLICT DO NOTHING) but the duplicate flag and id come from an in-process cache: another instance reports duplicate false and its own id',
    caughtBy: 'optional.deduplication-across-instances',
    make: (s) => {
      const seen = new Map<string, string>();
      return broken(s, (inner) => ({
        send: async (q, ms) => {
          await inner.send(q, ms);
          return ms.map((m): SendResult => {
            const key = m.deduplicationKey === undefined ? undefined : `${q}/${m.deduplicationKey}`;
            const earlier = key === undefined ? undefined : seen.get(key);
            if (earlier !== undefined) return { id: earlier, duplicate: true };
            if (key !== undefined) seen.set(key, m.id);
            return { id: m.id, duplicate: false };
          });
        },
      }));
    },
  },
];

/** Bugs an outside author writing an adapter for a new backend makes (round four, part two). */
export const ROUND_FOUR_AUTHOR_VARIANTS: readonly BrokenVariant[] = [
  {
    name: '[r4-09] deliveryCount is counted by the adapter instance (a map job id → deliveries in memory): a job redelivered to another instance after its lease expired starts at 1 again',
    caughtBy: 'lease.expiry-after-consumer-close',
    make: (s) => {
      const counts = new Map<string, number>();
      return broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) => {
            const n = (counts.get(`${q}/${m.id}`) ?? 0) + 1;
            counts.set(`${q}/${m.id}`, n);
            return { ...m, deliveryCount: n };
          }),
      }));
    },
  },
  {
    name: '[r4-10] extend hands out a new handle but the backend lease does not rotate: a handle from before the extension still acks, extends and releases the delivery',
    caughtBy: 'lease.stale-handle-after-rotation',
    make: (s) => {
      // Every handle of one delivery points at the delivery's current backend lease.
      const leaseOf = new Map<string, { current: string }>();
      const current = (h: string): string => leaseOf.get(h)?.current ?? h;
      return broken(s, (inner) => ({
        receive: async (q, o) => {
          const got = await inner.receive(q, o);
          for (const m of got) leaseOf.set(m.handle, { current: m.handle });
          return got;
        },
        extend: async (q, h, l) => {
          const lease = leaseOf.get(h) ?? { current: h };
          const r = await inner.extend(q, lease.current, l);
          lease.current = r.handle;
          leaseOf.set(r.handle, lease);
          return r;
        },
        ack: (q, h) => inner.ack(q, current(h)),
        release: (q, h, d) => inner.release(q, current(h), d),
        deadLetter: (q, m, i) => inner.deadLetter(q, { ...m, handle: current(m.handle) }, i),
      }));
    },
  },
  {
    name: '[r4-11] send delays are sent in whole seconds rounded down (DelaySeconds = floor(ms / 1000)): a 1.5 s delay is delivered after 1 s, a 600 ms one at once',
    caughtBy: 'delay.not-rounded-early',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) => (m.delayMs === undefined ? m : { ...m, delayMs: floorSeconds(m.delayMs) })),
          ),
      })),
  },
  {
    name: '[r4-12] release delays are sent in whole seconds rounded down (VisibilityTimeout = floor(ms / 1000)): a release of 1.5 s is visible after 1 s',
    caughtBy: 'release.delayed',
    make: (s) => broken(s, (inner) => ({ release: (q, h, d) => inner.release(q, h, floorSeconds(d)) })),
  },
  {
    name: '[r4-13] the payload limit is checked in UTF-16 code units (body.length), and the backend keeps the first maxPayloadBytes bytes: a body of multi-byte characters over the limit is stored cut',
    caughtBy: 'limits.max-payload',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          const max = inner.capabilities.maxPayloadBytes;
          for (const m of ms)
            if (m.body.length > max)
              throw new BgError('PAYLOAD_TOO_LARGE', `body of ${m.body.length} characters`, { retryable: false });
          return inner.send(
            q,
            ms.map((m) => {
              const bytes = Buffer.from(m.body, 'utf8');
              return bytes.length > max ? { ...m, body: bytes.subarray(0, max).toString('utf8') } : m;
            }),
          );
        },
      })),
  },
  {
    name: '[r4-14] attribute names are lower-cased (stored as AMQP/HTTP headers, which fold case)',
    caughtBy: 'attributes.names-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) =>
              m.attributes === undefined
                ? m
                : { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k.toLowerCase(), v])) },
            ),
          ),
      })),
  },
  {
    name: '[r4-15] attribute values are trimmed of leading and trailing white space (header semantics)',
    caughtBy: 'attributes.empty-values-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) =>
              m.attributes === undefined
                ? m
                : { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, v.trim()])) },
            ),
          ),
      })),
  },
  {
    name: '[r4-16] listDeadLetters pages in job-id order (the table’s primary key), not oldest first',
    caughtBy: 'dead-letter.order-and-paging',
    make: (s) =>
      broken(s, (inner) => ({
        listDeadLetters: async (q, o) => {
          const all: DeadLetter[] = [];
          let cursor: string | undefined;
          do {
            const page = await inner.listDeadLetters(q, { limit: 1000, ...(cursor ? { cursor } : {}) });
            all.push(...page.items);
            cursor = page.cursor;
          } while (cursor);
          all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          const start = o?.cursor === undefined ? 0 : Number(o.cursor);
          if (!Number.isInteger(start) || start < 0)
            throw new BgError('INVALID_ARGUMENT', `not a dead-letter cursor: ${o?.cursor}`, { retryable: false });
          const limit = o?.limit ?? 100;
          const items = all.slice(start, start + limit);
          return start + limit < all.length ? { items, cursor: String(start + limit) } : { items };
        },
      })),
  },
  {
    name: `[r4-17] at most ${ATTRIBUTE_KEEP} attributes are kept (the backend takes 10 headers, the adapter uses 2): the rest are dropped silently`,
    caughtBy: 'attributes.many-and-long-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) =>
              m.attributes === undefined
                ? m
                : { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).slice(0, ATTRIBUTE_KEEP)) },
            ),
          ),
      })),
  },
  {
    name: '[r4-18] extendBeyondMax is clamp: the backend clamps a lease beyond maxLeaseMs, but leaseExpiresAt reports now + the lease asked for',
    caughtBy: 'lease.beyond-maximum',
    make: (s) => clamping(s, true),
    options: (s) => ({ capabilities: clamping(s, true).capabilities }),
  },
  {
    name: '[r4-19] dead letters record attempts as the adapter’s own count minus one (the backend’s counter counts redeliveries only)',
    caughtBy: 'dead-letter.moves-original',
    make: (s) =>
      broken(s, (inner) => ({
        deadLetter: (q, m, i) => inner.deadLetter(q, m, { ...i, attempts: Math.max(0, m.deliveryCount - 1) }),
      })),
  },
  {
    name: '[r4-21] a body of exactly maxPayloadBytes is refused when it carries attributes (the backend counts header bytes against the same limit)',
    caughtBy: 'limits.max-payload',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) => {
          const max = inner.capabilities.maxPayloadBytes;
          for (const m of ms) {
            const extra = Object.entries(m.attributes ?? {}).reduce(
              (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
              0,
            );
            if (Buffer.byteLength(m.body) + extra > max)
              throw new BgError('PAYLOAD_TOO_LARGE', 'message too large', { retryable: false });
          }
          return inner.send(q, ms);
        },
      })),
  },
  {
    name: '[r4-22] attribute values are written as Latin-1 (Buffer.from(value, "latin1")) and read back as UTF-8: non-ASCII values are mangled',
    caughtBy: 'delivery.attributes-exact',
    make: (s) =>
      broken(s, (inner) => ({
        receive: async (q, o) =>
          (await inner.receive(q, o)).map(
            (m): ReceivedMessage => ({
              ...m,
              attributes: Object.fromEntries(
                Object.entries(m.attributes).map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('utf8')]),
              ),
            }),
          ),
      })),
  },
  {
    name: '[r4-23] a release right after an extend is lost: release uses the handle’s lease version from receive, which the extend bumped, and answers success without making the job visible',
    caughtBy: 'lease.stale-handle-after-rotation',
    make: (s) => {
      const extendedOf = perStore(() => new Set<string>());
      return broken(s, (inner) => ({
        extend: async (q, h, l) => {
          const r = await inner.extend(q, h, l);
          extendedOf(s).add(`${q}/${splitHandle(r.handle).seq}`);
          return r;
        },
        release: async (q, h, d) => {
          if (extendedOf(s).has(`${q}/${splitHandle(h).seq}`)) return;
          return inner.release(q, h, d);
        },
      }));
    },
  },
  {
    name: '[r4-24] attribute values are stored in a VARCHAR(255) column (MySQL outside strict mode cuts longer values silently)',
    caughtBy: 'attributes.many-and-long-kept',
    make: (s) =>
      broken(s, (inner) => ({
        send: (q, ms) =>
          inner.send(
            q,
            ms.map((m) =>
              m.attributes === undefined
                ? m
                : { ...m, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, v.slice(0, 255)])) },
            ),
          ),
      })),
  },
  {
    name: '[r4-25] bodies are stored in a JSON column (PostgreSQL jsonb, MySQL JSON) and read back re-serialised: white space and key order of a JSON body change',
    caughtBy: 'delivery.raw-bodies',
    make: (s) =>
      broken(s, (inner) => {
        const normal = (body: string): string => {
          try {
            return JSON.stringify(JSON.parse(body));
          } catch {
            return body;
          }
        };
        return {
          receive: async (q, o) => (await inner.receive(q, o)).map((m) => ({ ...m, body: normal(m.body) })),
        };
      }),
  },
  {
    name: '[r4-26] without native delays, a delayed send is parked by the adapter with a hidden receive and release: the job’s first real delivery counts 2',
    caughtBy: 'delay.native',
    make: (s) => {
      const delayedOf = perStore(() => new Set<string>());
      return broken(s, (inner) => ({
        send: async (q, ms) => {
          for (const m of ms) if ((m.delayMs ?? 0) > 0) delayedOf(s).add(`${q}/${m.id}`);
          return inner.send(q, ms);
        },
        receive: async (q, o) =>
          (await inner.receive(q, o)).map((m) =>
            delayedOf(s).has(`${q}/${m.id}`) ? { ...m, deliveryCount: m.deliveryCount + 1 } : m,
          ),
      }));
    },
  },
];

/**
 * Bugs of round four the suite does not catch, kept for `test/audit/measure-broken.ts --only r4-`
 * (not in `BROKEN_VARIANTS`): each says why no case is added.
 */
export const ROUND_FOUR_KNOWN_MISSES: readonly BrokenVariant[] = [
  {
    name: '[r4-20] listQueues returns the backend’s first page only (5 names; the next-page token is ignored)',
    // Real backends page at 100 (RabbitMQ, DynamoDB) to 5 000 (Azure) names: a case would have to
    // create more queues than that to see a lost page, too slow on the cloud emulators.
    caughtBy: 'queues.exists-list-delete',
    make: (s) => broken(s, (inner) => ({ listQueues: async () => (await inner.listQueues()).slice(0, 5) })),
  },
];
