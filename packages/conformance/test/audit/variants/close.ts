import { BgError } from '@bg/core';
import { must, mustReject, receiveOne, sendOne } from '../harness.js';
import { healthy, patch, type Variant } from '../variant.js';

/** Close bugs: calls after close, a long poll that outlives close, a second close. */
export const closeVariants: Variant[] = [
  {
    id: 'close.lease-calls-after-close',
    family: 'close',
    bug: 'only send, receive and stats check the closed flag; ack, extend, release and deadLetter still work after close',
    make(store, caps) {
      const inner = healthy(store, caps);
      const spare = healthy(store, caps);
      return patch(inner, {
        ack: (q, h) => spare.ack(q, h),
        extend: (q, h, ms) => spare.extend(q, h, ms),
        release: (q, h, ms) => spare.release(q, h, ms),
        deadLetter: (q, m, i) => spare.deadLetter(q, m, i),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 60_000, `receive on ${q}`);
      await a.close();
      await mustReject(a.ack(q, m.handle), 'CLOSED', `ack on ${q} after close()`);
      must((await h.liveCount(q)) === 1, `ack after close on ${q}: the message must stay stored`);
    },
  },
  {
    id: 'close.dead-letter-calls-after-close',
    family: 'close',
    bug: 'the dead-letter calls go through a separate client that close() forgets',
    make(store, caps) {
      const inner = healthy(store, caps);
      const spare = healthy(store, caps);
      return patch(inner, {
        listDeadLetters: (q, o) => spare.listDeadLetters(q, o),
        getDeadLetter: (q, id) => spare.getDeadLetter(q, id),
        replayDeadLetter: (q, id) => spare.replayDeadLetter(q, id),
        purgeDeadLetters: (q, ids) => spare.purgeDeadLetters(q, ids),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await a.close();
      await mustReject(a.listDeadLetters(q), 'CLOSED', `listDeadLetters(${q}) after close()`);
      await mustReject(a.purgeDeadLetters(q), 'CLOSED', `purgeDeadLetters(${q}) after close()`);
    },
  },
  {
    id: 'close.long-poll-outlives-close',
    family: 'close',
    bug: 'close() marks the adapter closed but does not wake a pending long poll, which runs to waitMs',
    make(store, caps) {
      const inner = healthy(store, caps);
      const poller = healthy(store, caps);
      let closed = false;
      return patch(inner, {
        async receive(queue, opts) {
          if (closed) throw new BgError('CLOSED', 'the memory adapter is closed');
          return poller.receive(queue, opts);
        },
        async close() {
          closed = true;
          await inner.close();
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const t0 = Date.now();
      const poll = a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 3_000 }).catch(() => []);
      setTimeout(() => void a.close(), 100);
      await poll;
      const took = Date.now() - t0;
      must(took < 1_500, `receive(waitMs 3000) on ${q}, close() at 100 ms: the poll ended after ${took} ms`);
    },
  },
  {
    id: 'close.second-close-rejects',
    family: 'close',
    bug: 'a second close() rejects with CLOSED',
    make(store, caps) {
      const inner = healthy(store, caps);
      let closed = false;
      return patch(inner, {
        async close() {
          if (closed) throw new BgError('CLOSED', 'already closed');
          closed = true;
          await inner.close();
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      await a.close();
      let error: unknown;
      await a.close().catch((e: unknown) => {
        error = e;
      });
      must(error === undefined, `second close(): expected no error, got ${String(error)}`);
    },
  },
];
