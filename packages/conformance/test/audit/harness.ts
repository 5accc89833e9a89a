import type { Adapter, Capabilities, DeadLetterInfo, OutgoingMessage, ReceivedMessage } from '@bg/core';
import { createMemoryStore, type MemoryStore, memoryInspector } from '@bg/memory';
import { type CapabilityOverrides, hasCode } from './variant.js';

/** What a direct check gets: adapters (each another "process") on one store, fresh queues. */
export interface Harness {
  /** The store behind every adapter of this check. */
  readonly store: MemoryStore;
  /** The manifest the adapter under check declares. */
  readonly capabilities: Capabilities;
  /** A new adapter on the same store (closed when the check ends). */
  adapter(): Adapter;
  /** A fresh, ensured queue. */
  queue(): Promise<string>;
  /** Messages stored in the live queue, read from the store (not through the adapter). */
  liveCount(queue: string): Promise<number>;
  /** Dead letters stored, read from the store. */
  deadCount(queue: string): Promise<number>;
}

let queueSeq = 0;

/**
 * Runs a direct check against adapters made by `make`. Resolves with the failure message,
 * or undefined when the check passed.
 */
export async function runCheck(
  make: (store: MemoryStore, capabilities: CapabilityOverrides) => Adapter,
  capabilities: CapabilityOverrides,
  check: (h: Harness) => Promise<void>,
): Promise<string | undefined> {
  const store = createMemoryStore();
  const opened: Adapter[] = [];
  const inspector = memoryInspector(store);
  const adapter = (): Adapter => {
    const a = make(store, capabilities);
    opened.push(a);
    return a;
  };
  const first = adapter();
  const h: Harness = {
    store,
    capabilities: first.capabilities,
    adapter,
    async queue() {
      const name = `audit-${process.pid}-${++queueSeq}`;
      await first.ensureQueue(name);
      return name;
    },
    liveCount: (q) => inspector.liveCount(q),
    deadCount: (q) => inspector.deadCount(q),
  };
  try {
    await check(h);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    for (const a of opened) await a.close().catch(() => {});
  }
}

/** Throws `message` unless `condition` holds. */
export function must(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Awaits `call`, which must reject with a BgError of `code`; `what` names the call and the rule. */
export async function mustReject(call: Promise<unknown>, code: string, what: string): Promise<void> {
  let result: unknown;
  try {
    result = await call;
  } catch (error) {
    must(hasCode(error, code), `${what}: expected BgError ${code}, got ${describe(error)}`);
    return;
  }
  throw new Error(`${what}: expected BgError ${code}, but the call succeeded with ${JSON.stringify(result)}`);
}

/** A short description of a thrown value. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const e = error as Error & { code?: string; retryable?: boolean };
    return `${e.name}${e.code ? ` ${e.code}` : ''}${e.retryable !== undefined ? ` (retryable ${e.retryable})` : ''}: ${e.message}`;
  }
  return String(error);
}

/** Resolves after `ms`: only where time itself must pass (a lease or a delay running out). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends one message with a fresh id and returns the id. */
export async function sendOne(a: Adapter, queue: string, extra: Partial<OutgoingMessage> = {}): Promise<string> {
  const id = extra.id ?? `job-${Math.random().toString(36).slice(2, 10)}`;
  await a.send(queue, [{ id, body: `{"n":"${id}"}`, ...extra }]);
  return id;
}

/** Polls `receive` until at least one message arrives or `deadlineMs` passes. */
export async function receiveSome(
  a: Adapter,
  queue: string,
  leaseMs: number,
  deadlineMs = 2_000,
  max = 10,
): Promise<ReceivedMessage[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const got = await a.receive(queue, { max, leaseMs, waitMs: 50 });
    if (got.length > 0 || Date.now() > until) return got;
  }
}

/** Receives exactly one message (polling), failing with `what` when none arrives in time. */
export async function receiveOne(
  a: Adapter,
  queue: string,
  leaseMs: number,
  what: string,
  deadlineMs = 2_000,
): Promise<ReceivedMessage> {
  const got = await receiveSome(a, queue, leaseMs, deadlineMs, 1);
  const m = got[0];
  must(m !== undefined, `${what}: expected a delivery within ${deadlineMs} ms, got none`);
  return m;
}

/** Receives everything visible (polling until `quietMs` brings nothing more). */
export async function drain(a: Adapter, queue: string, quietMs = 100, leaseMs = 60_000): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  for (;;) {
    const got = await a.receive(queue, { max: 100, leaseMs, waitMs: quietMs });
    if (got.length === 0) return out;
    out.push(...got);
  }
}

/** Dead-letter info with fixed values (the check decides every field). */
export function info(overrides: Partial<DeadLetterInfo> = {}): DeadLetterInfo {
  return { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now(), ...overrides };
}

/** Receives one message and dead-letters it; returns the delivery. */
export async function deadLetterOne(
  a: Adapter,
  queue: string,
  message: Partial<OutgoingMessage> = {},
  extra: Partial<DeadLetterInfo> = {},
): Promise<ReceivedMessage> {
  await sendOne(a, queue, message);
  const m = await receiveOne(a, queue, 60_000, `receive on ${queue} before deadLetter`);
  await a.deadLetter(queue, m, info({ attempts: m.deliveryCount, ...extra }));
  await a.ack(queue, m.handle);
  return m;
}
