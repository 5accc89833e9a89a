import { must, pause, receiveOne, sendOne } from '../harness.js';
import { healthy, patch, roundTrip, splitHandle, type Variant } from '../variant.js';

/** Sends one message to `queue` after `ms` (from another adapter), without awaiting it now. */
function sendLater(h: import('../harness.js').Harness, queue: string, ms: number): Promise<void> {
  return pause(ms).then(async () => {
    await sendOne(h.adapter(), queue);
  });
}

/** Receive bugs: max, waitMs, signal, lease timing, timestamps. */
export const receiveVariants: Variant[] = [
  {
    id: 'receive.max-plus-one',
    family: 'receive',
    bug: 'receive loops `while (out.length <= max)` and returns one message more than asked',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        receive: (queue, opts) => inner.receive(queue, { ...opts, max: Math.min(opts.max + 1, inner.capabilities.maxBatchSize) }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await a.send(
        q,
        [1, 2, 3, 4, 5].map((n) => ({ id: `m${n}`, body: `${n}` })),
      );
      const got = await a.receive(q, { max: 2, leaseMs: 5_000 });
      must(got.length <= 2, `receive(max 2) on ${q} with 5 ready: got ${got.length} messages`);
    },
  },
  {
    id: 'receive.ignores-wait',
    family: 'receive',
    bug: 'waitMs is not passed on: every receive is a short poll that returns after one round trip',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          await roundTrip(1); // a short poll still costs a network round trip
          return inner.receive(queue, { ...opts, waitMs: 0 });
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const later = sendLater(h, q, 100);
      const got = await a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 1_500 });
      await later;
      must(
        got.length === 1,
        `receive(waitMs 1500) on ${q}, a message sent after 100 ms: expected it in this call, got ${got.length}`,
      );
    },
  },
  {
    id: 'receive.wait-rounded-up-to-seconds',
    family: 'receive',
    bug: 'waitMs is converted to whole seconds with Math.ceil, so an empty poll of 100 ms lasts 1 s',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        receive: (queue, opts) =>
          inner.receive(queue, { ...opts, waitMs: opts.waitMs ? Math.ceil(opts.waitMs / 1000) * 1000 : 0 }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const t0 = Date.now();
      await a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 100 });
      const took = Date.now() - t0;
      must(took < 700, `receive(waitMs 100) on empty ${q}: returned after ${took} ms`);
    },
  },
  {
    id: 'receive.no-wake-up',
    family: 'receive',
    bug: 'the long poll sleeps the whole waitMs and looks again, instead of waking when a message arrives',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          const got = await inner.receive(queue, { ...opts, waitMs: 0 });
          if (got.length > 0 || !opts.waitMs || opts.signal?.aborted) return got;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, opts.waitMs);
            opts.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              resolve();
            });
          });
          return inner.receive(queue, { ...opts, waitMs: 0 });
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const later = sendLater(h, q, 100);
      const t0 = Date.now();
      const got = await a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 2_000 });
      const took = Date.now() - t0;
      await later;
      must(
        got.length === 1 && took < 1_200,
        `receive(waitMs 2000) on ${q}, message sent at 100 ms: got ${got.length} after ${took} ms`,
      );
    },
  },
  {
    id: 'receive.lease-from-poll-start',
    family: 'receive',
    bug: 'the lease is computed from the start of the long poll, not from the delivery',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          const start = Date.now();
          const got = await inner.receive(queue, opts);
          const state = store.queue(queue);
          return got.map((m) => {
            const stored = state.messages.get(splitHandle(m.handle).seq);
            const at = start + opts.leaseMs;
            if (stored) {
              stored.leaseExpiresAt = at;
              state.schedule(stored, 'leased', at);
            }
            return { ...m, leaseExpiresAt: at };
          });
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const t0 = Date.now();
      const later = sendLater(h, q, 500);
      const got = await a.receive(q, { max: 1, leaseMs: 700, waitMs: 2_000 });
      await later;
      const m = got[0];
      must(m !== undefined, `receive(waitMs 2000) on ${q}: expected the message sent at 500 ms`);
      must(
        m.leaseExpiresAt >= t0 + 1_000,
        `receive(leaseMs 700, waitMs 2000) on ${q}, message sent at 500 ms: the lease ends ${m.leaseExpiresAt - t0} ms after the poll started (it must run from the delivery)`,
      );
    },
  },
  {
    id: 'receive.expiry-in-seconds',
    family: 'receive',
    bug: 'leaseExpiresAt is passed through from the backend in epoch seconds',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          return (await inner.receive(queue, opts)).map((m) => ({ ...m, leaseExpiresAt: Math.floor(m.leaseExpiresAt / 1000) }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const before = Date.now();
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const off = m.leaseExpiresAt - (before + 5_000);
      must(
        Math.abs(off) < 1_000,
        `receive(leaseMs 5000) on ${q}: leaseExpiresAt ${m.leaseExpiresAt} is ${off} ms off now + lease`,
      );
    },
  },
  {
    id: 'receive.enqueued-at-is-receive-time',
    family: 'receive',
    bug: 'enqueuedAt is filled with the time of the receive, not of the send',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          return (await inner.receive(queue, opts)).map((m) => ({ ...m, enqueuedAt: Date.now() }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const sentAt = Date.now();
      await sendOne(a, q);
      const after = Date.now();
      await pause(300);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      must(
        m.enqueuedAt === undefined || (m.enqueuedAt >= sentAt - 100 && m.enqueuedAt <= after + 100),
        `receive on ${q}: enqueuedAt ${m.enqueuedAt} is not the send time (${sentAt}–${after})`,
      );
    },
  },
  {
    id: 'receive.enqueued-at-in-seconds',
    family: 'receive',
    bug: 'enqueuedAt is the backend timestamp in epoch seconds',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          return (await inner.receive(queue, opts)).map((m) => ({
            ...m,
            ...(m.enqueuedAt === undefined ? {} : { enqueuedAt: Math.floor(m.enqueuedAt / 1000) }),
          }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const sentAt = Date.now();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      must(
        m.enqueuedAt === undefined || Math.abs(m.enqueuedAt - sentAt) < 1_000,
        `receive on ${q}: enqueuedAt ${m.enqueuedAt} is not near the send time ${sentAt}`,
      );
    },
  },
  {
    id: 'receive.abort-ignored',
    family: 'receive',
    bug: 'the abort signal is not passed to the long poll, which runs to waitMs',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        receive: (queue, { signal: _signal, ...opts }) => inner.receive(queue, opts),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const t0 = Date.now();
      await a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 3_000, signal: ac.signal });
      const took = Date.now() - t0;
      must(took < 1_500, `receive(waitMs 3000) on ${q} aborted at 100 ms: returned after ${took} ms`);
    },
  },
  {
    id: 'receive.redelivery-drops-attributes',
    family: 'receive',
    bug: 'attributes come from a cache filled at send time by this adapter instance, so a redelivery to another instance has none',
    make(store, caps) {
      const inner = healthy(store, caps);
      const sent = new Set<string>();
      return patch(inner, {
        async send(queue, messages) {
          const r = await inner.send(queue, messages);
          for (const m of messages) sent.add(`${queue}/${m.id}`);
          return r;
        },
        async receive(queue, opts) {
          await roundTrip(0);
          return (await inner.receive(queue, opts)).map((m) => (sent.has(`${queue}/${m.id}`) ? m : { ...m, attributes: {} }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q, { attributes: { type: 'email.welcome' } });
      const m = await receiveOne(h.adapter(), q, 5_000, `receive on ${q} by another adapter`);
      must(
        m.attributes['type'] === 'email.welcome',
        `receive on ${q} by another adapter: attributes ${JSON.stringify(m.attributes)}`,
      );
    },
  },
];
