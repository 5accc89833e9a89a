import { checkLeaseMs } from '@bg/core';
import { info, must, mustReject, pause, receiveOne, sendOne } from '../harness.js';
import {
  currentHandle,
  forceLease,
  hasCode,
  healthy,
  messageOf,
  patch,
  perStore,
  roundTrip,
  splitHandle,
  type Variant,
} from '../variant.js';

/** Receives on `a` with a short lease, waits for `b` to get the redelivery; returns both. */
async function expireAndRedeliver(h: import('../harness.js').Harness) {
  const a = h.adapter();
  const b = h.adapter();
  const q = await h.queue();
  await sendOne(a, q);
  const first = await receiveOne(a, q, 60, `receive #1 on ${q}`);
  const second = await receiveOne(b, q, 60_000, `receive #2 on ${q} after the 60 ms lease of #1 expired`);
  return { a, b, q, first, second };
}

/** Old handle → newest handle after extends, kept per store ("handles never really rotate"). */
const aliases = perStore(() => new Map<string, string>());
function newest(map: Map<string, string>, handle: string): string {
  let h = handle;
  for (let next = map.get(h); next !== undefined; next = map.get(h)) h = next;
  return h;
}
function aliasingExtend(inner: ReturnType<typeof healthy>, store: Parameters<Variant['make']>[0]) {
  return async (queue: string, handle: string, leaseMs: number) => {
    const map = aliases(store);
    const result = await inner.extend(queue, newest(map, handle), leaseMs);
    map.set(handle, result.handle);
    return result;
  };
}

const receivedAt = perStore(() => new Map<string, number>());

/** Lease and ownership bugs. */
export const leaseVariants: Variant[] = [
  {
    id: 'lease.ack-stale-acts-on-redelivery',
    family: 'lease',
    bug: 'ack looks the message up by its id, not by the lease, so a stale handle acks the current delivery of someone else',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async ack(queue, handle) {
          try {
            await inner.ack(queue, handle);
          } catch (error) {
            const now = hasCode(error, 'LEASE_LOST') ? currentHandle(store, queue, handle) : undefined;
            if (now === undefined) throw error;
            await inner.ack(queue, now);
          }
        },
      });
    },
    async check(h) {
      const { a, b, q, first, second } = await expireAndRedeliver(h);
      await mustReject(a.ack(q, first.handle), 'LEASE_LOST', `ack(handle of expired delivery #1) on ${q} after redelivery`);
      must((await h.liveCount(q)) === 1, `ack(stale handle) on ${q}: the redelivered message must stay stored`);
      await b.ack(q, second.handle);
    },
  },
  {
    id: 'lease.extend-stale-acts-on-redelivery',
    family: 'lease',
    bug: 'extend with a stale handle extends whatever delivery of the message is current',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async extend(queue, handle, leaseMs) {
          try {
            return await inner.extend(queue, handle, leaseMs);
          } catch (error) {
            const now = hasCode(error, 'LEASE_LOST') ? currentHandle(store, queue, handle) : undefined;
            if (now === undefined) throw error;
            return inner.extend(queue, now, leaseMs);
          }
        },
      });
    },
    async check(h) {
      const { a, b, q, first, second } = await expireAndRedeliver(h);
      await mustReject(a.extend(q, first.handle, 5_000), 'LEASE_LOST', `extend(handle of expired delivery #1) on ${q}`);
      await b.ack(q, second.handle);
    },
  },
  {
    id: 'lease.release-stale-acts-on-redelivery',
    family: 'lease',
    bug: 'release with a stale handle releases the current delivery (looked up by message)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async release(queue, handle, delayMs) {
          try {
            await inner.release(queue, handle, delayMs);
          } catch (error) {
            const now = hasCode(error, 'LEASE_LOST') ? currentHandle(store, queue, handle) : undefined;
            if (now === undefined) throw error;
            await inner.release(queue, now, delayMs);
          }
        },
      });
    },
    async check(h) {
      const { a, b, q, first, second } = await expireAndRedeliver(h);
      await mustReject(a.release(q, first.handle, 0), 'LEASE_LOST', `release(handle of expired delivery #1, 0) on ${q}`);
      await b.ack(q, second.handle);
    },
  },
  {
    id: 'lease.deadletter-unchecked',
    family: 'lease',
    bug: 'deadLetter writes the record without checking that the handle still owns the delivery',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async deadLetter(queue, message, i) {
          try {
            await inner.deadLetter(queue, message, i);
          } catch (error) {
            if (!hasCode(error, 'LEASE_LOST')) throw error;
            store
              .queue(queue)
              .dead.set(message.id, { ...i, id: message.id, body: message.body, attributes: { ...message.attributes } });
          }
        },
      });
    },
    async check(h) {
      const { a, b, q, first, second } = await expireAndRedeliver(h);
      await mustReject(a.deadLetter(q, first, info()), 'LEASE_LOST', `deadLetter(delivery #1 whose lease expired) on ${q}`);
      must((await h.deadCount(q)) === 0, `deadLetter with a stale handle on ${q}: no dead letter may be written`);
      await b.ack(q, second.handle);
    },
  },
  {
    id: 'lease.rotated-handle-release',
    family: 'lease',
    bug: 'extend returns a new handle but the old one keeps working for release (handles are aliased, not rotated)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        extend: aliasingExtend(inner, store),
        release: (queue, handle, delayMs) => inner.release(queue, newest(aliases(store), handle), delayMs),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const ext = await a.extend(q, m.handle, 5_000);
      if (ext.handle === m.handle) return; // handles that do not rotate may keep working
      await mustReject(
        a.release(q, m.handle, 0),
        'LEASE_LOST',
        `release(pre-rotation handle) on ${q} after extend returned a new one`,
      );
      await a.ack(q, ext.handle);
    },
  },
  {
    id: 'lease.rotated-handle-deadletter',
    family: 'lease',
    bug: 'deadLetter accepts the handle from before an extend rotated it',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        extend: aliasingExtend(inner, store),
        deadLetter: (queue, message, i) =>
          inner.deadLetter(queue, { ...message, handle: newest(aliases(store), message.handle) }, i),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const ext = await a.extend(q, m.handle, 5_000);
      if (ext.handle === m.handle) return;
      await mustReject(a.deadLetter(q, m, info()), 'LEASE_LOST', `deadLetter(delivery with its pre-rotation handle) on ${q}`);
      must((await h.deadCount(q)) === 0, `deadLetter(pre-rotation handle) on ${q}: no dead letter may be written`);
    },
  },
  {
    id: 'lease.rotated-handle-extend',
    family: 'lease',
    bug: 'extend accepts the handle from before the previous extend rotated it',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, { extend: aliasingExtend(inner, store) });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const ext = await a.extend(q, m.handle, 5_000);
      if (ext.handle === m.handle) return;
      await mustReject(a.extend(q, m.handle, 5_000), 'LEASE_LOST', `extend(pre-rotation handle) on ${q}`);
    },
  },
  {
    id: 'lease.released-handle-acks',
    family: 'lease',
    bug: 'ack deletes by message when the lease is gone, so a handle still acks after release',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async ack(queue, handle) {
          try {
            await inner.ack(queue, handle);
          } catch (error) {
            const message = hasCode(error, 'LEASE_LOST') ? messageOf(store, queue, handle) : undefined;
            if (!message || message.state === 'leased') throw error;
            store.queue(queue).remove(message, Date.now());
          }
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      await a.release(q, m.handle, 0);
      await mustReject(a.ack(q, m.handle), 'LEASE_LOST', `ack(handle already released) on ${q}`);
      must((await h.liveCount(q)) === 1, `ack after release on ${q}: the released message must stay stored`);
    },
  },
  {
    id: 'lease.ack-ignores-queue',
    family: 'lease',
    bug: 'ack finds the message by handle in any queue, ignoring the queue argument',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async ack(queue, handle) {
          try {
            await inner.ack(queue, handle);
          } catch (error) {
            const { seq } = splitHandle(handle);
            const other = [...store.queues].find(([, s]) => s.messages.has(seq))?.[0];
            if (other === undefined || other === queue) throw error;
            await inner.ack(other, handle);
          }
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const qa = await h.queue();
      const qb = await h.queue();
      await sendOne(a, qa);
      const m = await receiveOne(a, qa, 5_000, `receive on ${qa}`);
      await a.ack(qb, m.handle).catch(() => {});
      must((await h.liveCount(qa)) === 1, `ack(handle from ${qa}) on queue ${qb}: the message of ${qa} must stay stored`);
    },
  },
  {
    id: 'lease.release-ignores-queue',
    family: 'lease',
    bug: 'release finds the message by handle in any queue, ignoring the queue argument',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async release(queue, handle, delayMs) {
          try {
            await inner.release(queue, handle, delayMs);
          } catch (error) {
            const { seq } = splitHandle(handle);
            const other = [...store.queues].find(([, s]) => s.messages.has(seq))?.[0];
            if (other === undefined || other === queue) throw error;
            await inner.release(other, handle, delayMs);
          }
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const qa = await h.queue();
      const qb = await h.queue();
      await sendOne(a, qa);
      const m = await receiveOne(a, qa, 5_000, `receive on ${qa}`);
      await a.release(qb, m.handle, 0).catch(() => {});
      const again = await h.adapter().receive(qa, { max: 1, leaseMs: 5_000 });
      must(again.length === 0, `release(handle from ${qa}) on queue ${qb}: the lease on ${qa} must hold, but it was redelivered`);
    },
  },
  {
    id: 'lease.non-atomic-receive',
    family: 'lease',
    bug: 'receive reads the visible messages, then claims them one round trip later, so two consumers can lease the same one',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          await inner.stats(queue); // validates the queue and the closed state
          const leaseMs = checkLeaseMs(inner.capabilities, opts.leaseMs);
          const state = store.queue(queue);
          state.promote(Date.now());
          const seen = [...state.messages.values()].filter((m) => m.state === 'ready').slice(0, opts.max);
          if (seen.length === 0) return inner.receive(queue, opts);
          await roundTrip(5);
          const now = Date.now();
          return seen
            .filter((m) => state.messages.has(m.seq))
            .map((m) => {
              const handle = forceLease(state, m, leaseMs, now);
              return {
                id: m.id,
                body: m.body,
                attributes: m.attributes,
                deliveryCount: m.deliveryCount,
                handle,
                leaseExpiresAt: m.leaseExpiresAt,
                enqueuedAt: m.enqueuedAt,
              };
            });
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const b = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const [x, y] = await Promise.all([a.receive(q, { max: 1, leaseMs: 5_000 }), b.receive(q, { max: 1, leaseMs: 5_000 })]);
      const n = x.length + y.length;
      must(n === 1, `two concurrent receive calls (two adapters) on ${q} with one message: expected 1 lease in all, got ${n}`);
    },
  },
  {
    id: 'lease.lease-floored-to-seconds',
    family: 'lease',
    bug: 'the lease is sent to the backend in whole seconds, rounded down (900 ms becomes the backend minimum)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          const seconds = Math.floor(opts.leaseMs / 1000) * 1000;
          const got = await inner.receive(queue, { ...opts, leaseMs: Math.max(seconds, inner.capabilities.minLeaseMs) });
          const at = Date.now() + opts.leaseMs;
          return got.map((m) => ({ ...m, leaseExpiresAt: at }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      await receiveOne(a, q, 900, `receive on ${q} with a 900 ms lease`);
      const got = await h.adapter().receive(q, { max: 1, leaseMs: 5_000, waitMs: 300 });
      must(got.length === 0, `receive on ${q} 0–300 ms into a 900 ms lease: expected nothing, got ${got.length}`);
    },
  },
  {
    id: 'lease.extend-from-receive-time',
    family: 'lease',
    bug: 'extend sets the expiry to receive time + leaseMs instead of now + leaseMs',
    make(store, caps) {
      const inner = healthy(store, caps);
      const at = receivedAt(store);
      return patch(inner, {
        async receive(queue, opts) {
          const got = await inner.receive(queue, opts);
          for (const m of got) at.set(`${queue}/${splitHandle(m.handle).seq}`, Date.now());
          return got;
        },
        async extend(queue, handle, leaseMs) {
          const since = at.get(`${queue}/${splitHandle(handle).seq}`) ?? Date.now();
          return inner.extend(queue, handle, Math.max(1, since + leaseMs - Date.now()));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 400, `receive on ${q}`);
      await pause(250);
      const before = Date.now();
      const ext = await a.extend(q, m.handle, 1_000);
      must(
        ext.leaseExpiresAt >= before + 900,
        `extend(handle, 1000) on ${q}, 250 ms after receive: leaseExpiresAt ${ext.leaseExpiresAt - before} ms from now, expected ~1000`,
      );
      const got = await h.adapter().receive(q, { max: 1, leaseMs: 5_000, waitMs: 400 });
      must(got.length === 0, `receive on ${q} within 400 ms of extend(1000): expected nothing, got a redelivery`);
    },
  },
  {
    id: 'lease.extend-adds-to-expiry',
    family: 'lease',
    bug: 'extend adds leaseMs to the current expiry instead of setting it to now + leaseMs',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async extend(queue, handle, leaseMs) {
          const m = messageOf(store, queue, handle);
          const left = m && m.state === 'leased' ? Math.max(0, m.leaseExpiresAt - Date.now()) : 0;
          return inner.extend(queue, handle, leaseMs + left);
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 1_000, `receive on ${q}`);
      const before = Date.now();
      const ext = await a.extend(q, m.handle, 1_000);
      const ahead = ext.leaseExpiresAt - before;
      must(
        ahead <= 1_000 + (Date.now() - before) + 50,
        `extend(handle, 1000) on ${q}: the lease must end ~1000 ms from now, leaseExpiresAt is ${ahead} ms ahead`,
      );
    },
  },
  {
    id: 'lease.extend-reports-old-expiry',
    family: 'lease',
    bug: 'extend returns the expiry of the lease it replaced',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async extend(queue, handle, leaseMs) {
          const old = messageOf(store, queue, handle)?.leaseExpiresAt ?? Date.now();
          const r = await inner.extend(queue, handle, leaseMs);
          return { handle: r.handle, leaseExpiresAt: old };
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 500, `receive on ${q}`);
      const before = Date.now();
      const ext = await a.extend(q, m.handle, 5_000);
      must(
        ext.leaseExpiresAt >= before + 4_900,
        `extend(handle, 5000) on ${q}: leaseExpiresAt only ${ext.leaseExpiresAt - before} ms ahead`,
      );
    },
  },
];
