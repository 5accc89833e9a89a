import { deadLetterOne, drain, must, sendOne } from '../harness.js';
import { healthy, patch, perStore, type Variant } from '../variant.js';

/** Deduplication keys seen on any queue of a store, for the variant that shares them. */
const globalKeys = perStore(() => new Map<string, number>());

/** ensureQueue, deduplication and ordering bugs. */
export const queueVariants: Variant[] = [
  {
    id: 'queue.ensure-wipes-messages',
    family: 'queue',
    bug: 'ensureQueue deletes and re-creates the queue when it exists ("create or replace")',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async ensureQueue(queue) {
          await inner.ensureQueue(queue);
          const s = store.queue(queue);
          for (const m of [...s.messages.values()]) s.remove(m, Date.now());
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      await h.adapter().ensureQueue(q);
      must((await h.liveCount(q)) === 1, `ensureQueue(${q}) on an existing queue with 1 message: ${await h.liveCount(q)} left`);
    },
  },
  {
    id: 'queue.ensure-wipes-dead-letters',
    family: 'queue',
    bug: 'ensureQueue re-creates the dead-letter store, emptying it',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async ensureQueue(queue) {
          await inner.ensureQueue(queue);
          store.queue(queue).dead.clear();
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q);
      await h.adapter().ensureQueue(q);
      must((await h.deadCount(q)) === 1, `ensureQueue(${q}) with 1 dead letter: ${await h.deadCount(q)} left`);
    },
  },
  {
    id: 'queue.dedup-keys-global',
    family: 'queue',
    bug: 'deduplication keys are kept in one table for the whole backend, not per queue',
    make(store, caps) {
      const inner = healthy(store, caps);
      const keys = globalKeys(store);
      return patch(inner, {
        async send(queue, messages) {
          const now = Date.now();
          const dup = new Set<string>();
          for (const m of messages) {
            if (m.deduplicationKey === undefined) continue;
            const seen = keys.get(m.deduplicationKey);
            if (seen !== undefined && seen > now && !store.queue(queue).dedup.has(m.deduplicationKey)) dup.add(m.id);
            else keys.set(m.deduplicationKey, now + 5 * 60_000);
          }
          const rest = messages.filter((m) => !dup.has(m.id));
          const r = rest.length > 0 ? await inner.send(queue, rest) : [];
          return messages.map((m) =>
            dup.has(m.id) ? { id: m.id, duplicate: true } : (r.find((x) => x.id === m.id) ?? { id: m.id, duplicate: false }),
          );
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const qa = await h.queue();
      const qb = await h.queue();
      await a.send(qa, [{ id: 'k1', body: '1', deduplicationKey: 'welcome:u1' }]);
      const r = await a.send(qb, [{ id: 'k2', body: '1', deduplicationKey: 'welcome:u1' }]);
      must(
        r[0]?.duplicate === false && (await h.liveCount(qb)) === 1,
        `send on ${qb} with a key first used on ${qa}: ${JSON.stringify(r)}`,
      );
    },
  },
  {
    id: 'queue.dedup-ignored',
    family: 'queue',
    bug: 'the manifest declares deduplication but deduplicationKey is never passed to the backend',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        send: (queue, messages) =>
          inner.send(
            queue,
            messages.map(({ deduplicationKey: _k, ...m }) => m),
          ),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await a.send(q, [{ id: 'k1', body: '1', deduplicationKey: 'once' }]);
      const r = await a.send(q, [{ id: 'k2', body: '1', deduplicationKey: 'once' }]);
      must(
        r[0]?.duplicate === true && (await h.liveCount(q)) === 1,
        `second send on ${q} with key "once": ${JSON.stringify(r)}, ${await h.liveCount(q)} stored`,
      );
    },
  },
  {
    id: 'queue.ordering-ignored',
    family: 'queue',
    bug: 'the manifest declares ordering but orderingKey is never passed to the backend',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        send: (queue, messages) =>
          inner.send(
            queue,
            messages.map(({ orderingKey: _k, ...m }) => m),
          ),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await a.send(q, [
        { id: 'o1', body: '1', orderingKey: 'user-1' },
        { id: 'o2', body: '2', orderingKey: 'user-1' },
      ]);
      const got = await a.receive(q, { max: 10, leaseMs: 5_000, waitMs: 300 });
      must(
        got.length === 1 && got[0]?.id === 'o1',
        `receive(max 10) on ${q}, two jobs of one ordering key: got ${got.map((m) => m.id).join()}`,
      );
    },
  },
  {
    id: 'queue.isolation-by-prefix',
    family: 'queue',
    bug: 'queues are stored under prefix keys and receive scans by prefix, so queue "a-b" also drains "a-b-c"',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async receive(queue, opts) {
          const own = await inner.receive(queue, opts);
          if (own.length >= opts.max) return own;
          for (const name of store.queues.keys()) {
            if (name === queue || !name.startsWith(`${queue}-`)) continue;
            own.push(...(await inner.receive(name, { ...opts, max: opts.max - own.length, waitMs: 0 })));
            if (own.length >= opts.max) break;
          }
          return own;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const child = `${q}-x`;
      await a.ensureQueue(child);
      await sendOne(a, child, { id: 'child-job' });
      const got = await drain(a, q);
      must(got.length === 0, `receive on ${q}: got ${got.map((m) => m.id).join()} sent to ${child}`);
    },
  },
];
