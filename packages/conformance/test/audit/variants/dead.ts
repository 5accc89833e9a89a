import type { DeadLetter, DeadLetterPage } from '@bg/core';
import { deadLetterOne, type Harness, info, must, receiveOne, sendOne } from '../harness.js';
import { healthy, messageOf, patch, type Variant } from '../variant.js';

/** Dead-letters `n` messages on a fresh queue, all with the same deadLetteredAt; returns ids in order. */
async function deadLetters(h: Harness, n: number, at = Date.now()): Promise<{ q: string; ids: string[] }> {
  const a = h.adapter();
  const q = await h.queue();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const m = await deadLetterOne(a, q, { id: `dl-${i}` }, { deadLetteredAt: at });
    ids.push(m.id);
  }
  return { q, ids };
}

/** Lists every dead letter page by page (bounded, so a cursor loop cannot hang a check). */
async function listAll(h: Harness, q: string, limit: number): Promise<string[]> {
  const a = h.adapter();
  const out: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r: DeadLetterPage = await a.listDeadLetters(q, { limit, ...(cursor ? { cursor } : {}) });
    out.push(...r.items.map((d) => d.id));
    if (!r.cursor) return out;
    cursor = r.cursor;
  }
  throw new Error(`listDeadLetters(limit ${limit}) on ${q}: still returning a cursor after 50 pages (${out.length} items)`);
}

/** Dead letters of one queue (the memory store's map). */
function deadOf(store: { queue(name: string): { dead: Map<string, DeadLetter> } }, q: string): Map<string, DeadLetter> {
  return store.queue(q).dead;
}

/** A second queue holding one dead letter `other-1`, and the queue under check. */
async function twoQueues(h: Harness): Promise<{ qa: string; qb: string }> {
  const a = h.adapter();
  const qa = await h.queue();
  const qb = await h.queue();
  await deadLetterOne(a, qa, { id: 'other-1' });
  return { qa, qb };
}

/** Dead-letter bugs: order, paging, lookups, confinement, replay, bodies. */
export const deadVariants: Variant[] = [
  {
    id: 'dead.newest-first',
    family: 'dead',
    bug: 'listDeadLetters returns the newest dead letters first',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async listDeadLetters(queue, opts = {}) {
          await inner.stats(queue);
          const all = [...deadOf(store, queue).values()].reverse();
          const start = opts.cursor ? Number(opts.cursor) : 0;
          const items = all.slice(start, start + (opts.limit ?? 100));
          const next = start + items.length;
          return next < all.length ? { items, cursor: String(next) } : { items };
        },
      });
    },
    async check(h) {
      const { q, ids } = await deadLetters(h, 3);
      const listed = await listAll(h, q, 100);
      must(
        listed.join() === ids.join(),
        `listDeadLetters on ${q}: order ${listed.join()}, dead-lettered oldest first as ${ids.join()}`,
      );
    },
  },
  {
    id: 'dead.paging-skips-ties',
    family: 'dead',
    bug: 'the cursor is the deadLetteredAt of the last item and the next page takes later ones, skipping ties',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async listDeadLetters(queue, opts = {}) {
          await inner.stats(queue);
          const after = opts.cursor ? Number(opts.cursor) : Number.NEGATIVE_INFINITY;
          const all = [...deadOf(store, queue).values()].filter((d) => d.deadLetteredAt > after);
          const limit = opts.limit ?? 100;
          const items = all.slice(0, limit);
          const last = items[items.length - 1];
          return all.length > limit && last ? { items, cursor: String(last.deadLetteredAt) } : { items };
        },
      });
    },
    async check(h) {
      const { q, ids } = await deadLetters(h, 5);
      const listed = await listAll(h, q, 2);
      must(listed.join() === ids.join(), `listDeadLetters(limit 2) on ${q}, 5 dead letters in one ms: paged ${listed.join()}`);
    },
  },
  {
    id: 'dead.paging-repeats-last',
    family: 'dead',
    bug: 'the next cursor is start + items.length - 1, so each page repeats the last item of the previous one',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async listDeadLetters(queue, opts = {}) {
          await inner.stats(queue);
          const all = [...deadOf(store, queue).values()];
          const start = opts.cursor ? Number(opts.cursor) : 0;
          const items = all.slice(start, start + (opts.limit ?? 100));
          const next = Math.max(start + 1, start + items.length - 1);
          return start + items.length < all.length ? { items, cursor: String(next) } : { items };
        },
      });
    },
    async check(h) {
      const { q, ids } = await deadLetters(h, 5);
      const listed = await listAll(h, q, 2);
      must(listed.join() === ids.join(), `listDeadLetters(limit 2) on ${q}: paged ${listed.join()}, expected ${ids.join()}`);
    },
  },
  {
    id: 'dead.limit-ignored',
    family: 'dead',
    bug: 'listDeadLetters ignores limit and returns every dead letter in one page',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, { listDeadLetters: (queue, opts = {}) => inner.listDeadLetters(queue, { ...opts, limit: 10_000 }) });
    },
    async check(h) {
      const { q } = await deadLetters(h, 3);
      const page = await h.adapter().listDeadLetters(q, { limit: 2 });
      must(
        page.items.length === 2 && page.cursor !== undefined,
        `listDeadLetters(limit 2) on ${q} with 3: ${page.items.length} items, cursor ${page.cursor}`,
      );
    },
  },
  {
    id: 'dead.purge-empty-purges-all',
    family: 'dead',
    bug: 'purgeDeadLetters treats an empty id list like "no ids given" and purges everything',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        purgeDeadLetters: (queue, ids) => inner.purgeDeadLetters(queue, ids && ids.length > 0 ? ids : undefined),
      });
    },
    async check(h) {
      const { q } = await deadLetters(h, 2);
      const n = await h.adapter().purgeDeadLetters(q, []);
      must(n === 0 && (await h.deadCount(q)) === 2, `purgeDeadLetters(${q}, []) removed ${n}; ${await h.deadCount(q)} of 2 left`);
    },
  },
  {
    id: 'dead.get-by-prefix',
    family: 'dead',
    bug: 'getDeadLetter falls back to a prefix match (a range scan from the id), returning another job',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async getDeadLetter(queue, id) {
          const exact = await inner.getDeadLetter(queue, id);
          return exact ?? [...deadOf(store, queue).values()].find((d) => d.id.startsWith(id));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q, { id: 'job-10' });
      const got = await a.getDeadLetter(q, 'job-1');
      must(got === undefined, `getDeadLetter(${q}, "job-1") with only job-10 dead: returned ${got?.id}`);
    },
  },
  {
    id: 'dead.purge-by-substring',
    family: 'dead',
    bug: 'purgeDeadLetters(ids) deletes every dead letter whose id contains one of the ids',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async purgeDeadLetters(queue, ids) {
          if (ids === undefined) return inner.purgeDeadLetters(queue);
          const hit = [...deadOf(store, queue).keys()].filter((k) => ids.some((id) => k.includes(id)));
          return inner.purgeDeadLetters(queue, hit);
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q, { id: 'job-1' });
      await deadLetterOne(a, q, { id: 'job-12' });
      const n = await a.purgeDeadLetters(q, ['job-1']);
      must(
        n === 1 && (await a.getDeadLetter(q, 'job-12')) !== undefined,
        `purgeDeadLetters(${q}, ["job-1"]) removed ${n}, job-12 must stay`,
      );
    },
  },
  {
    id: 'dead.list-every-queue',
    family: 'dead',
    bug: 'all queues share one dead-letter table and listDeadLetters forgets the queue filter',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async listDeadLetters(queue, opts = {}) {
          await inner.stats(queue);
          const all = [...store.queues.values()].flatMap((s) => [...s.dead.values()]);
          const start = opts.cursor ? Number(opts.cursor) : 0;
          const items = all.slice(start, start + (opts.limit ?? 100));
          return start + items.length < all.length ? { items, cursor: String(start + items.length) } : { items };
        },
      });
    },
    async check(h) {
      const { qb } = await twoQueues(h);
      const page = await h.adapter().listDeadLetters(qb);
      must(page.items.length === 0, `listDeadLetters(${qb}) lists ${page.items.map((d) => d.id).join()} from another queue`);
    },
  },
  {
    id: 'dead.get-any-queue',
    family: 'dead',
    bug: 'getDeadLetter looks the id up in the shared dead-letter table of every queue',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async getDeadLetter(queue, id) {
          await inner.stats(queue);
          for (const s of store.queues.values()) if (s.dead.has(id)) return s.dead.get(id);
          return undefined;
        },
      });
    },
    async check(h) {
      const { qb } = await twoQueues(h);
      const got = await h.adapter().getDeadLetter(qb, 'other-1');
      must(got === undefined, `getDeadLetter(${qb}, "other-1") returned the dead letter of another queue`);
    },
  },
  {
    id: 'dead.replay-any-queue',
    family: 'dead',
    bug: "replayDeadLetter finds the id in any queue's dead letters and writes it into the queue asked for",
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async replayDeadLetter(queue, id) {
          const d = await inner.getDeadLetter(queue, id);
          if (d) return inner.replayDeadLetter(queue, id);
          for (const s of store.queues.values()) {
            const other = s.dead.get(id);
            if (!other) continue;
            await inner.send(queue, [{ id: other.id, body: other.body, attributes: other.attributes }]);
            s.dead.delete(id);
            return true;
          }
          return false;
        },
      });
    },
    async check(h) {
      const { qa, qb } = await twoQueues(h);
      const ok = await h.adapter().replayDeadLetter(qb, 'other-1');
      must(
        !ok && (await h.deadCount(qa)) === 1,
        `replayDeadLetter(${qb}, "other-1") returned ${ok}; the dead letter of ${qa} must stay`,
      );
    },
  },
  {
    id: 'dead.purge-all-every-queue',
    family: 'dead',
    bug: 'purgeDeadLetters without ids truncates the shared dead-letter table of every queue',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async purgeDeadLetters(queue, ids) {
          if (ids !== undefined) return inner.purgeDeadLetters(queue, ids);
          await inner.stats(queue);
          let n = 0;
          for (const s of store.queues.values()) {
            n += s.dead.size;
            s.dead.clear();
          }
          return n;
        },
      });
    },
    async check(h) {
      const { qa, qb } = await twoQueues(h);
      await h.adapter().purgeDeadLetters(qb);
      must((await h.deadCount(qa)) === 1, `purgeDeadLetters(${qb}) removed the dead letter of ${qa}`);
    },
  },
  {
    id: 'dead.replay-mangles-non-ascii',
    family: 'dead',
    bug: 'replay copies the stored body through a latin1 Buffer, mangling non-ASCII',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async replayDeadLetter(queue, id) {
          const d = deadOf(store, queue).get(id);
          if (d) deadOf(store, queue).set(id, { ...d, body: Buffer.from(d.body, 'utf8').toString('latin1') });
          return inner.replayDeadLetter(queue, id);
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const body = '{"name":"Zoë — 東京 🎉"}';
      await deadLetterOne(a, q, { id: 'u1', body });
      await a.replayDeadLetter(q, 'u1');
      const m = await receiveOne(a, q, 5_000, `receive on ${q} after replay`);
      must(m.body === body, `replayDeadLetter(${q}, "u1"): body ${JSON.stringify(m.body)} came back for ${JSON.stringify(body)}`);
    },
  },
  {
    id: 'dead.body-cut',
    family: 'dead',
    bug: 'dead-letter records keep at most 16 KiB of the body (a preview column)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        deadLetter: (queue, message, i) => inner.deadLetter(queue, { ...message, body: message.body.slice(0, 16 * 1024) }, i),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const body = 'y'.repeat(40 * 1024);
      await deadLetterOne(a, q, { id: 'big', body });
      const d = await a.getDeadLetter(q, 'big');
      must(d?.body === body, `getDeadLetter(${q}, "big") after dead-lettering 40 KiB: body of ${d?.body.length} chars`);
    },
  },
  {
    id: 'dead.replay-keeps-count',
    family: 'dead',
    bug: 'replay restores the message with its old delivery count (attempts) instead of a fresh one',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async replayDeadLetter(queue, id) {
          const d = deadOf(store, queue).get(id);
          const ok = await inner.replayDeadLetter(queue, id);
          if (ok && d) for (const m of store.queue(queue).messages.values()) if (m.id === id) m.deliveryCount = d.attempts;
          return ok;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q, { id: 'r1' }, { attempts: 5 });
      await a.replayDeadLetter(q, 'r1');
      const m = await receiveOne(a, q, 5_000, `receive on ${q} after replay`);
      must(
        m.deliveryCount === 1,
        `receive after replayDeadLetter(${q}, "r1"): deliveryCount ${m.deliveryCount}, expected a fresh 1`,
      );
    },
  },
  {
    id: 'dead.deadletter-removes-original',
    family: 'dead',
    bug: 'deadLetter also deletes the live message (a "move"), so a crash before the core\'s ack cannot leave a duplicate, but the contract says it only writes',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async deadLetter(queue, message, i) {
          await inner.deadLetter(queue, message, i);
          const m = messageOf(store, queue, message.handle);
          if (m) store.queue(queue).remove(m, Date.now());
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      await a.deadLetter(q, m, info());
      must((await h.liveCount(q)) === 1, `deadLetter on ${q} must not remove the original (the core acks it afterwards)`);
    },
  },
  {
    id: 'dead.replay-new-id',
    family: 'dead',
    bug: 'replay enqueues the job under a new id (`<id>-replay`)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async replayDeadLetter(queue, id) {
          const d = await inner.getDeadLetter(queue, id);
          if (!d) return false;
          await inner.send(queue, [{ id: `${id}-replay`, body: d.body, attributes: d.attributes }]);
          await inner.purgeDeadLetters(queue, [id]);
          return true;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q, { id: 'keep-me' });
      await a.replayDeadLetter(q, 'keep-me');
      const m = await receiveOne(a, q, 5_000, `receive on ${q} after replay`);
      must(m.id === 'keep-me', `replayDeadLetter(${q}, "keep-me"): the job came back as ${m.id}`);
    },
  },
  {
    id: 'dead.error-and-reason-lost',
    family: 'dead',
    bug: 'the dead-letter record keeps only attempts and timestamps; reason becomes "manual" and the error is dropped',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        deadLetter: (queue, message, i) =>
          inner.deadLetter(queue, message, { reason: 'manual', attempts: i.attempts, deadLetteredAt: i.deadLetteredAt }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q, { id: 'e1' }, { reason: 'max-attempts', error: { message: 'boom', code: 'X' } });
      const d = await a.getDeadLetter(q, 'e1');
      must(
        d?.reason === 'max-attempts' && d.error?.message === 'boom',
        `getDeadLetter(${q}, "e1"): reason ${d?.reason}, error ${JSON.stringify(d?.error)}; wrote max-attempts / boom`,
      );
    },
  },
  {
    id: 'dead.attributes-dropped',
    family: 'dead',
    bug: 'dead-letter records store the body only; attributes are dropped',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, { deadLetter: (queue, message, i) => inner.deadLetter(queue, { ...message, attributes: {} }, i) });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await deadLetterOne(a, q, { id: 'at1', attributes: { type: 'email.welcome' } });
      const d = await a.getDeadLetter(q, 'at1');
      must(d?.attributes['type'] === 'email.welcome', `getDeadLetter(${q}, "at1"): attributes ${JSON.stringify(d?.attributes)}`);
    },
  },
  {
    id: 'dead.replay-missing-true',
    family: 'dead',
    bug: 'replayDeadLetter returns true even when no dead letter has that id',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async replayDeadLetter(queue, id) {
          await inner.replayDeadLetter(queue, id);
          return true;
        },
      });
    },
    async check(h) {
      const q = await h.queue();
      const ok = await h.adapter().replayDeadLetter(q, 'no-such-job');
      must(ok === false, `replayDeadLetter(${q}, "no-such-job"): returned ${ok}`);
    },
  },
  {
    id: 'dead.purge-counts-requested',
    family: 'dead',
    bug: 'purgeDeadLetters(ids) returns how many ids were asked for, not how many were removed',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async purgeDeadLetters(queue, ids) {
          const n = await inner.purgeDeadLetters(queue, ids);
          return ids ? ids.length : n;
        },
      });
    },
    async check(h) {
      const { q } = await deadLetters(h, 1);
      const n = await h.adapter().purgeDeadLetters(q, ['dl-0', 'nope']);
      must(n === 1, `purgeDeadLetters(${q}, ["dl-0", "nope"]) with only dl-0 stored: returned ${n}`);
    },
  },
];
