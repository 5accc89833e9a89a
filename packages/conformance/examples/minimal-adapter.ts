/**
 * A minimal adapter that passes the conformance suite: an array-backed in-process queue in
 * about 150 lines. Start your own adapter from here; the comments say what each backend call
 * usually maps to.
 */
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  assertSendable,
  BgError,
  type Capabilities,
  CloseGuard,
  checkLeaseMs,
  checkReleaseDelayMs,
  type DeadLetter,
} from '@bg/core';

interface Row {
  id: string;
  body: string;
  attributes: Record<string, string>;
  visibleAt: number;
  deliveries: number;
  /** Changes on every receive and extend: a stale handle no longer matches. */
  token: number;
  enqueuedAt: number;
}

/** The manifest: declare only what you really do. */
export const MINIMAL_CAPABILITIES: Capabilities = {
  maxPayloadBytes: 256 * 1024,
  maxDelayMs: 15 * 60_000,
  maxLeaseMs: 12 * 3_600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: 12 * 3_600_000,
  maxBatchSize: 10,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: false,
  durable: false,
};

/** A shared "server": queues and dead letters that outlive each adapter instance. */
export interface MinimalBackend {
  readonly live: Map<string, Row[]>;
  readonly dead: Map<string, DeadLetter[]>;
}

/** Creates an empty backend. */
export function createMinimalBackend(): MinimalBackend {
  return { live: new Map(), dead: new Map() };
}

let tokens = 0;

/** An adapter over a {@link MinimalBackend}. */
export function minimalAdapter(backend: MinimalBackend): Adapter {
  const guard = new CloseGuard('minimal');
  const rows = (queue: string): Row[] => {
    guard.assertOpen();
    assertQueueName(queue);
    const list = backend.live.get(queue) ?? [];
    backend.live.set(queue, list);
    return list;
  };
  const deadOf = (queue: string): DeadLetter[] => {
    guard.assertOpen();
    const list = backend.dead.get(queue) ?? [];
    backend.dead.set(queue, list);
    return list;
  };
  // A handle names the row and the token it was issued with.
  const owned = (queue: string, handle: string): Row => {
    const [id, token] = handle.split('#');
    const row = rows(queue).find((r) => r.id === id && String(r.token) === token);
    if (!row) throw new BgError('LEASE_LOST', `lease ${handle} is stale`, { retryable: false });
    return row;
  };
  const acked = new Set<string>();

  return {
    name: 'minimal',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities: MINIMAL_CAPABILITIES,
    async ensureQueue(queue) {
      rows(queue); // CreateQueue / createIfNotExists
    },
    async send(queue, messages) {
      const list = rows(queue);
      assertSendable(MINIMAL_CAPABILITIES, messages); // before anything is written
      const now = Date.now();
      for (const m of messages) {
        list.push({
          id: m.id,
          body: m.body,
          attributes: { ...m.attributes },
          visibleAt: now + (m.delayMs ?? 0),
          deliveries: 0,
          token: 0,
          enqueuedAt: now,
        });
      }
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    },
    async receive(queue, { max, leaseMs, waitMs = 0, signal }) {
      rows(queue);
      if (!Number.isInteger(max) || max < 1) throw new BgError('INVALID_ARGUMENT', 'receive max must be an integer ≥ 1');
      if (max > MINIMAL_CAPABILITIES.maxBatchSize) {
        throw new BgError('BATCH_TOO_LARGE', `receive max ${max} exceeds ${MINIMAL_CAPABILITIES.maxBatchSize}`);
      }
      const lease = checkLeaseMs(MINIMAL_CAPABILITIES, leaseMs);
      const until = Date.now() + waitMs;
      for (;;) {
        const now = Date.now();
        const got = rows(queue)
          .filter((r) => r.visibleAt <= now)
          .slice(0, max);
        if (got.length > 0 || now >= until || signal?.aborted || guard.closed) {
          return got.map((r) => {
            r.deliveries++;
            r.token = ++tokens;
            r.visibleAt = now + lease;
            return {
              id: r.id,
              body: r.body,
              attributes: r.attributes,
              deliveryCount: r.deliveries,
              handle: `${r.id}#${r.token}`,
              leaseExpiresAt: r.visibleAt,
              enqueuedAt: r.enqueuedAt,
            };
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 10)); // a long poll, in a real backend
      }
    },
    async extend(queue, handle, leaseMs) {
      const row = owned(queue, handle);
      row.token = ++tokens; // rotate, like Azure pop receipts
      row.visibleAt = Date.now() + checkLeaseMs(MINIMAL_CAPABILITIES, leaseMs);
      return { handle: `${row.id}#${row.token}`, leaseExpiresAt: row.visibleAt };
    },
    async ack(queue, handle) {
      if (acked.has(handle)) return; // a second ack is harmless
      const row = owned(queue, handle);
      const list = rows(queue);
      list.splice(list.indexOf(row), 1);
      acked.add(handle);
    },
    async release(queue, handle, delayMs) {
      const row = owned(queue, handle);
      row.visibleAt = Date.now() + checkReleaseDelayMs(MINIMAL_CAPABILITIES, delayMs);
      row.token = ++tokens;
    },
    async deadLetter(queue, message, info) {
      const row = owned(queue, message.handle); // write only; the core acks afterwards
      const dead = deadOf(queue).filter((d) => d.id !== row.id);
      dead.push({ ...info, id: row.id, body: row.body, attributes: row.attributes });
      backend.dead.set(queue, dead);
    },
    async listDeadLetters(queue, { limit = 100, cursor } = {}) {
      rows(queue);
      // A cursor is an offset this adapter made; anything else is the caller's mistake, not page 1.
      if (cursor !== undefined && !/^\d+$/.test(cursor))
        throw new BgError('INVALID_ARGUMENT', `bad dead-letter cursor ${JSON.stringify(cursor.slice(0, 60))}`, {
          retryable: false,
        });
      const start = cursor ? Number(cursor) : 0;
      const all = deadOf(queue);
      const items = all.slice(start, start + limit);
      return start + items.length < all.length ? { items, cursor: String(start + items.length) } : { items };
    },
    async getDeadLetter(queue, id) {
      rows(queue);
      return deadOf(queue).find((d) => d.id === id);
    },
    async replayDeadLetter(queue, id) {
      const dead = deadOf(queue).find((d) => d.id === id);
      if (!dead) return false;
      await this.send(queue, [{ id: dead.id, body: dead.body, attributes: dead.attributes }]); // live first
      backend.dead.set(
        queue,
        deadOf(queue).filter((d) => d.id !== id),
      ); // then remove
      return true;
    },
    async purgeDeadLetters(queue, ids) {
      rows(queue);
      const before = deadOf(queue);
      const after = ids ? before.filter((d) => !ids.includes(d.id)) : [];
      backend.dead.set(queue, after);
      return before.length - after.length;
    },
    async stats(queue) {
      const now = Date.now();
      const list = rows(queue);
      const hidden = list.filter((r) => r.visibleAt > now);
      return {
        ready: list.length - hidden.length,
        inFlight: hidden.filter((r) => r.deliveries > 0).length,
        delayed: hidden.filter((r) => r.deliveries === 0).length,
        dead: deadOf(queue).length,
      };
    },
    async close() {
      guard.close();
    },
  };
}
