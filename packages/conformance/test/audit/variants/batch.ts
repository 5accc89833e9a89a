import type { OutgoingMessage } from '@bg/core';
import { drain, type Harness, must } from '../harness.js';
import { healthy, patch, type Variant } from '../variant.js';

/** Sends `n` messages in one call and checks that `n` distinct ones come back (or the call rejects). */
async function wholeBatch(h: Harness, n: number, extra: (i: number) => Partial<OutgoingMessage> = () => ({})): Promise<void> {
  const a = h.adapter();
  const q = await h.queue();
  const messages = Array.from({ length: n }, (_, i) => ({ id: `b${i}`, body: `{"i":${i}}`, ...extra(i) }));
  let rejected = false;
  await a.send(q, messages).catch(() => {
    rejected = true;
  });
  const stored = await h.liveCount(q);
  must(rejected || stored === n, `send(${n} messages in one call) on ${q} resolved, but ${stored} are stored`);
  if (rejected) return;
  const got = new Set((await drain(a, q)).map((m) => m.id));
  must(got.size === n, `send(${n} in one call) on ${q}: ${got.size} distinct ids came back`);
}

/** Batching and partial-failure bugs. */
export const batchVariants: Variant[] = [
  {
    id: 'batch.first-ten-only',
    family: 'batch',
    bug: 'send makes one backend batch call, which takes at most 10 entries; the rest are ignored but reported sent',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async send(queue, messages) {
          const r = await inner.send(queue, messages.slice(0, 10));
          return [...r, ...messages.slice(10).map((m) => ({ id: m.id, duplicate: false }))];
        },
      });
    },
    check: (h) => wholeBatch(h, 25),
  },
  {
    id: 'batch.chunk-off-by-one',
    family: 'batch',
    bug: 'batches are chunked with slice(i, i + 9) while stepping by 10, losing every tenth message',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async send(queue, messages) {
          for (let i = 0; i < messages.length; i += 10) {
            const chunk = messages.slice(i, i + 9);
            if (chunk.length > 0) await inner.send(queue, chunk);
          }
          return messages.map((m) => ({ id: m.id, duplicate: false }));
        },
      });
    },
    check: (h) => wholeBatch(h, 20),
  },
  {
    id: 'batch.failed-entries-ignored',
    family: 'batch',
    bug: 'entries are sent one by one with Promise.allSettled; an entry the backend refuses (delay over 15 min) is reported sent',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async send(queue, messages) {
          await inner.stats(queue);
          await Promise.allSettled(
            messages.map(async (m) => {
              if ((m.delayMs ?? 0) > 15 * 60_000) throw new Error('InvalidParameterValue: DelaySeconds');
              await inner.send(queue, [m]);
            }),
          );
          return messages.map((m) => ({ id: m.id, duplicate: false }));
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      let rejected = false;
      await a
        .send(q, [
          { id: 'now', body: '1' },
          { id: 'later', body: '2', delayMs: 20 * 60_000 },
        ])
        .catch(() => {
          rejected = true;
        });
      const stored = await h.liveCount(q);
      must(rejected || stored === 2, `send([no delay, 20 min delay]) on ${q} resolved, but ${stored} of 2 are stored`);
    },
  },
  {
    id: 'batch.duplicate-flag-lost',
    family: 'batch',
    bug: 'in a batch the backend\'s per-entry "duplicate" answer is dropped and every entry is reported sent',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async send(queue, messages) {
          const r = await inner.send(queue, messages);
          return messages.length > 1 ? r.map((x) => ({ ...x, duplicate: false })) : r;
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await a.send(q, [{ id: 'd1', body: '1', deduplicationKey: 'k' }]);
      const r = await a.send(q, [
        { id: 'd2', body: '2', deduplicationKey: 'k' },
        { id: 'd3', body: '3' },
      ]);
      must(
        r[0]?.duplicate === true,
        `send batch on ${q} with a repeated deduplicationKey: result ${JSON.stringify(r)}, expected d2 duplicate`,
      );
    },
  },
];
