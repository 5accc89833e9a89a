import { must, pause, receiveOne, sendOne } from '../harness.js';
import { healthy, messageOf, patch, perStore, splitHandle, type Variant } from '../variant.js';

/** Releases per message, for the variant that counts releases instead of deliveries. */
const releases = perStore(() => new Map<string, number>());

/** Delivery-count bugs. */
export const countVariants: Variant[] = [
  {
    id: 'count.extend-counts-a-delivery',
    family: 'count',
    bug: 'extend re-receives the message under the hood, so every extend raises the delivery count',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async extend(queue, handle, leaseMs) {
          const r = await inner.extend(queue, handle, leaseMs);
          const m = messageOf(store, queue, r.handle);
          if (m) m.deliveryCount++;
          return r;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive #1 on ${q}`);
      let handle = m.handle;
      for (let i = 0; i < 3; i++) handle = (await a.extend(q, handle, 5_000)).handle;
      await a.release(q, handle, 0);
      const again = await receiveOne(a, q, 5_000, `receive #2 on ${q} after 3 extends and release(0)`);
      must(
        again.deliveryCount === 2,
        `receive #2 on ${q} after 3 extends and a release: deliveryCount ${again.deliveryCount}, expected 2`,
      );
    },
  },
  {
    id: 'count.release-counts-twice',
    family: 'count',
    bug: 'release increments the delivery count and the next receive increments it again',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async release(queue, handle, delayMs) {
          const m = messageOf(store, queue, handle);
          await inner.release(queue, handle, delayMs);
          if (m) m.deliveryCount++;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive #1 on ${q}`);
      await a.release(q, m.handle, 0);
      const again = await receiveOne(a, q, 5_000, `receive #2 on ${q} after release(0)`);
      must(again.deliveryCount === 2, `receive #2 on ${q} after one release: deliveryCount ${again.deliveryCount}, expected 2`);
    },
  },
  {
    id: 'count.release-resets',
    family: 'count',
    bug: 'release re-enqueues the message as new, so the delivery count starts over at 1',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async release(queue, handle, delayMs) {
          const m = messageOf(store, queue, handle);
          await inner.release(queue, handle, delayMs);
          if (m) m.deliveryCount = 0;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive #1 on ${q}`);
      await a.release(q, m.handle, 0);
      const again = await receiveOne(a, q, 5_000, `receive #2 on ${q} after release(0)`);
      must(again.deliveryCount === 2, `receive #2 on ${q} after one release: deliveryCount ${again.deliveryCount}, expected 2`);
    },
  },
  {
    id: 'count.expiry-not-counted',
    family: 'count',
    bug: 'the adapter counts deliveries itself and only on release, so an expired lease (a crashed worker) is not counted',
    make(store, caps) {
      const inner = healthy(store, caps);
      const counts = releases(store);
      return patch(inner, {
        async receive(queue, opts) {
          const got = await inner.receive(queue, opts);
          return got.map((m) => ({ ...m, deliveryCount: 1 + (counts.get(`${queue}/${splitHandle(m.handle).seq}`) ?? 0) }));
        },
        async release(queue, handle, delayMs) {
          await inner.release(queue, handle, delayMs);
          const key = `${queue}/${splitHandle(handle).seq}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      await receiveOne(a, q, 50, `receive #1 on ${q}`);
      await pause(80);
      const again = await receiveOne(h.adapter(), q, 5_000, `receive #2 on ${q} after the 50 ms lease expired`);
      must(
        again.deliveryCount === 2,
        `receive #2 on ${q} after an expired lease: deliveryCount ${again.deliveryCount}, expected 2`,
      );
    },
  },
  {
    id: 'count.starts-at-zero',
    family: 'count',
    bug: 'deliveryCount is the backend\'s "previous receives" counter, so the first delivery says 0',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          return (await inner.receive(queue, opts)).map((m) => ({ ...m, deliveryCount: m.deliveryCount - 1 }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive #1 on ${q}`);
      must(m.deliveryCount === 1, `first receive on ${q}: deliveryCount ${m.deliveryCount}, expected 1`);
    },
  },
];
