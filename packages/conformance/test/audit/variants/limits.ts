import { assertSendable, BgError, type OutgoingMessage, utf8Bytes } from '@bg/core';
import { describe, must, mustReject, receiveOne, sendOne } from '../harness.js';
import { declaring, healthy, messageOf, patch, type Variant } from '../variant.js';

const FIFTEEN_MIN = 15 * 60_000;
const TWELVE_H = 12 * 3_600_000;
const YEAR = 365 * 24 * 3_600_000;

/** Limits bugs: clamping instead of typed errors, rounding, dropped or early long delays. */
export const limitVariants: Variant[] = [
  {
    id: 'limits.send-delay-clamped',
    family: 'limits',
    bug: 'a send delay above maxDelayMs is clamped to the maximum instead of DELAY_TOO_LONG',
    capabilities: { maxDelayMs: FIFTEEN_MIN },
    make(store, caps) {
      const inner = healthy(store, { ...caps, maxDelayMs: YEAR });
      return declaring(
        inner,
        { maxDelayMs: FIFTEEN_MIN },
        {
          send: (queue, messages) =>
            inner.send(
              queue,
              messages.map((m) => ({ ...m, ...(m.delayMs ? { delayMs: Math.min(m.delayMs, FIFTEEN_MIN) } : {}) })),
            ),
        },
      );
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const over = h.capabilities.maxDelayMs + 1;
      await mustReject(
        a.send(q, [{ id: 'd', body: '1', delayMs: over }]),
        'DELAY_TOO_LONG',
        `send(delayMs maxDelayMs + 1 = ${over}) on ${q}`,
      );
      must((await h.liveCount(q)) === 0, `send with a too long delay on ${q}: nothing may be stored`);
    },
  },
  {
    id: 'limits.release-delay-clamped',
    family: 'limits',
    bug: 'a release delay above maxReleaseDelayMs is clamped to the maximum instead of DELAY_TOO_LONG',
    capabilities: { maxReleaseDelayMs: TWELVE_H },
    make(store, caps) {
      const inner = healthy(store, { ...caps, maxReleaseDelayMs: YEAR });
      return declaring(
        inner,
        { maxReleaseDelayMs: TWELVE_H },
        {
          release: (queue, handle, delayMs) => inner.release(queue, handle, Math.min(delayMs, TWELVE_H)),
        },
      );
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const over = h.capabilities.maxReleaseDelayMs + 1;
      await mustReject(
        a.release(q, m.handle, over),
        'DELAY_TOO_LONG',
        `release(handle, maxReleaseDelayMs + 1 = ${over}) on ${q}`,
      );
    },
  },
  {
    id: 'limits.receive-max-clamped',
    family: 'limits',
    bug: 'receive with max above maxBatchSize is quietly clamped instead of BATCH_TOO_LARGE',
    capabilities: { maxBatchSize: 10 },
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        receive: (queue, opts) => inner.receive(queue, { ...opts, max: Math.min(opts.max, inner.capabilities.maxBatchSize) }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const over = h.capabilities.maxBatchSize + 1;
      await mustReject(
        a.receive(q, { max: over, leaseMs: 5_000 }),
        'BATCH_TOO_LARGE',
        `receive(max maxBatchSize + 1 = ${over}) on ${q}`,
      );
    },
  },
  {
    id: 'limits.send-batch-truncated',
    family: 'limits',
    bug: 'send with more than maxBatchSize messages stores the first maxBatchSize and drops the rest',
    capabilities: { maxBatchSize: 10 },
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async send(queue, messages) {
          const r = await inner.send(queue, messages.slice(0, inner.capabilities.maxBatchSize));
          return [...r, ...messages.slice(inner.capabilities.maxBatchSize).map((m) => ({ id: m.id, duplicate: false }))];
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const n = h.capabilities.maxBatchSize + 1;
      const batch = Array.from({ length: n }, (_, i) => ({ id: `m${i}`, body: '1' }));
      await mustReject(a.send(q, batch), 'BATCH_TOO_LARGE', `send(${n} messages, maxBatchSize ${n - 1}) on ${q}`);
      must((await h.liveCount(q)) === 0, `send of a too large batch on ${q}: nothing may be stored`);
    },
  },
  {
    id: 'limits.delay-floored-to-seconds',
    family: 'limits',
    bug: 'send delays are converted to whole seconds with Math.floor (800 ms becomes no delay)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        send: (queue, messages) =>
          inner.send(
            queue,
            messages.map((m) => ({ ...m, ...(m.delayMs ? { delayMs: Math.floor(m.delayMs / 1000) * 1000 } : {}) })),
          ),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const sentAt = Date.now();
      await sendOne(a, q, { delayMs: 800 });
      await receiveOne(a, q, 5_000, `receive on ${q} of a message delayed 800 ms`, 3_000);
      const early = Date.now() - sentAt;
      must(early >= 700, `send(delayMs 800) on ${q}: delivered after ${early} ms`);
    },
  },
  {
    id: 'limits.long-release-visible-at-once',
    family: 'limits',
    bug: 'release delays go through setTimeout, which fires at once above 2^31-1 ms (24.8 days)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        release: (queue, handle, delayMs) => inner.release(queue, handle, delayMs > 2 ** 31 - 1 ? 1 : delayMs),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const delay = Math.min(30 * 24 * 3_600_000, h.capabilities.maxReleaseDelayMs);
      await a.release(q, m.handle, delay);
      const got = await a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 200 });
      must(got.length === 0, `release(handle, ${delay} ms) on ${q}: redelivered within 200 ms`);
    },
  },
  {
    id: 'limits.long-release-dropped',
    family: 'limits',
    bug: 'a release delay above 7 days outlives the message time-to-live, so the message is silently lost',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async release(queue, handle, delayMs) {
          const m = messageOf(store, queue, handle);
          await inner.release(queue, handle, delayMs);
          if (m && delayMs > 7 * 24 * 3_600_000) store.queue(queue).remove(m, Date.now());
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const delay = h.capabilities.maxReleaseDelayMs;
      await a.release(q, m.handle, delay);
      const left = await h.liveCount(q);
      must(left === 1, `release(handle, maxReleaseDelayMs = ${delay}) on ${q}: the message must stay stored, ${left} left`);
      const s = await a.stats(q);
      must(s.delayed === 1, `stats on ${q} after a release with the maximum delay: ${JSON.stringify(s)}, expected delayed 1`);
    },
  },
  {
    id: 'limits.payload-counted-in-chars',
    family: 'limits',
    bug: 'the payload limit is checked with body.length (UTF-16 units), not UTF-8 bytes',
    make(store, caps) {
      const declared = caps.maxPayloadBytes ?? 0;
      const inner = healthy(store, { ...caps, maxPayloadBytes: declared * 4 });
      return declaring(
        inner,
        { maxPayloadBytes: declared },
        {
          async send(queue, messages: readonly OutgoingMessage[]) {
            for (const m of messages) {
              if (m.body.length > declared) throw new BgError('PAYLOAD_TOO_LARGE', `message ${m.id} is too large`);
            }
            return inner.send(queue, messages);
          },
        },
      );
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const body = 'é'.repeat(h.capabilities.maxPayloadBytes / 2 + 1);
      await mustReject(
        a.send(q, [{ id: 'big', body }]),
        'PAYLOAD_TOO_LARGE',
        `send(body of ${body.length} chars = ${utf8Bytes(body)} UTF-8 bytes, limit ${h.capabilities.maxPayloadBytes}) on ${q}`,
      );
    },
  },
  {
    id: 'limits.payload-max-refused',
    family: 'limits',
    bug: 'the payload limit is checked with >= so a body of exactly maxPayloadBytes is refused',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        async send(queue, messages) {
          assertSendable({ ...inner.capabilities, maxPayloadBytes: inner.capabilities.maxPayloadBytes - 1 }, messages);
          return inner.send(queue, messages);
        },
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const body = 'x'.repeat(h.capabilities.maxPayloadBytes);
      await a.send(q, [{ id: 'max', body }]).catch((error: unknown) => {
        throw new Error(
          `send(body of exactly maxPayloadBytes = ${body.length}) on ${q} must be accepted, got ${describe(error)}`,
        );
      });
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      must(m.body.length === body.length, `send(body of exactly maxPayloadBytes) on ${q}: ${m.body.length} chars came back`);
    },
  },
  {
    id: 'limits.extend-clamped-declared-reject',
    family: 'limits',
    bug: 'the manifest says extendBeyondMax "reject" but extend clamps a too long lease',
    capabilities: { maxLeaseMs: 60_000 },
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        extend: (queue, handle, leaseMs) => inner.extend(queue, handle, Math.min(leaseMs, inner.capabilities.maxLeaseMs)),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 5_000, `receive on ${q}`);
      const over = h.capabilities.maxLeaseMs + 1;
      if (h.capabilities.extendBeyondMax !== 'reject') return;
      await mustReject(
        a.extend(q, m.handle, over),
        'LEASE_TOO_LONG',
        `extend(handle, maxLeaseMs + 1 = ${over}) on ${q} (extendBeyondMax "reject")`,
      );
    },
  },
];
