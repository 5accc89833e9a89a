import { BgError } from '@bg/core';
import { describe, must, mustReject, receiveOne, sendOne } from '../harness.js';
import { hasCode, healthy, patch, type Variant } from '../variant.js';

/** Error-mapping bugs. */
export const errorVariants: Variant[] = [
  {
    id: 'errors.lease-lost-retryable',
    family: 'errors',
    bug: 'LEASE_LOST is raised with retryable: true (a 404 mapped through the generic retry table)',
    make(store, caps) {
      const inner = healthy(store, caps);
      const remap = (error: unknown): never => {
        if (hasCode(error, 'LEASE_LOST')) throw new BgError('LEASE_LOST', (error as Error).message, { retryable: true });
        throw error;
      };
      return patch(inner, {
        ack: (q, h) => inner.ack(q, h).catch(remap),
        extend: (q, h, ms) => inner.extend(q, h, ms).catch(remap),
        release: (q, h, ms) => inner.release(q, h, ms).catch(remap),
        deadLetter: (q, m, i) => inner.deadLetter(q, m, i).catch(remap),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 60_000, `receive on ${q}`);
      await a.ack(q, m.handle);
      await sendOne(a, q);
      const m2 = await receiveOne(a, q, 60_000, `receive #2 on ${q}`);
      const ext = await a.extend(q, m2.handle, 60_000);
      let error: unknown;
      await a.extend(q, m2.handle, 60_000).catch((e: unknown) => {
        error = e;
      });
      must(
        hasCode(error, 'LEASE_LOST') && (error as BgError).retryable === false,
        `extend(stale handle) on ${q}: expected LEASE_LOST, not retryable; got ${describe(error)}`,
      );
      await a.ack(q, ext.handle);
    },
  },
  {
    id: 'errors.release-stale-plain-error',
    family: 'errors',
    bug: 'release with a stale handle lets the raw backend error through (a plain Error, no BgError code)',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        release: (q, h, ms) =>
          inner.release(q, h, ms).catch((error: unknown) => {
            if (hasCode(error, 'LEASE_LOST')) throw new Error(`ReceiptHandleIsInvalid: ${h}`);
            throw error;
          }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 60_000, `receive on ${q}`);
      await a.ack(q, m.handle);
      await mustReject(a.release(q, m.handle, 0), 'LEASE_LOST', `release(handle already acked) on ${q}`);
    },
  },
  {
    id: 'errors.closed-as-backend-error',
    family: 'errors',
    bug: 'calls after close fail inside the client library and are mapped to a retryable BACKEND_ERROR',
    make(store, caps) {
      const inner = healthy(store, caps);
      const remap = (error: unknown): never => {
        if (hasCode(error, 'CLOSED')) throw new BgError('BACKEND_ERROR', 'Connection is closed.');
        throw error;
      };
      return patch(inner, {
        send: (q, m) => inner.send(q, m).catch(remap),
        receive: (q, o) => inner.receive(q, o).catch(remap),
        stats: (q) => inner.stats(q).catch(remap),
        ack: (q, h) => inner.ack(q, h).catch(remap),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await a.close();
      await mustReject(sendOne(a, q), 'CLOSED', `send on ${q} after close()`);
    },
  },
  {
    id: 'errors.payload-too-large-as-backend-error',
    family: 'errors',
    bug: 'the size check is left to the backend, whose 413 is mapped to a retryable BACKEND_ERROR',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        send: (q, m) =>
          inner.send(q, m).catch((error: unknown) => {
            if (hasCode(error, 'PAYLOAD_TOO_LARGE')) throw new BgError('BACKEND_ERROR', 'Request Entity Too Large');
            throw error;
          }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      const body = 'x'.repeat(h.capabilities.maxPayloadBytes + 1);
      await mustReject(a.send(q, [{ id: 'big', body }]), 'PAYLOAD_TOO_LARGE', `send(maxPayloadBytes + 1 bytes) on ${q}`);
    },
  },
  {
    id: 'errors.release-delay-invalid-argument',
    family: 'errors',
    bug: 'a release delay above the maximum is refused with INVALID_ARGUMENT instead of DELAY_TOO_LONG',
    make(store, caps) {
      const inner = healthy(store, caps);
      return patch(inner, {
        release: (q, h, ms) =>
          inner.release(q, h, ms).catch((error: unknown) => {
            if (hasCode(error, 'DELAY_TOO_LONG')) throw new BgError('INVALID_ARGUMENT', 'VisibilityTimeout out of range');
            throw error;
          }),
      });
    },
    async check(h) {
      const a = h.adapter();
      const q = await h.queue();
      await sendOne(a, q);
      const m = await receiveOne(a, q, 60_000, `receive on ${q}`);
      const over = h.capabilities.maxReleaseDelayMs + 1;
      await mustReject(a.release(q, m.handle, over), 'DELAY_TOO_LONG', `release(handle, ${over}) on ${q}`);
    },
  },
];
