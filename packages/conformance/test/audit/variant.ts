import type { Adapter, Capabilities } from '@bg/core';
import { type MemoryAdapter, type MemoryAdapterOptions, type MemoryStore, memoryAdapter } from '@bg/memory';
import type { Harness } from './harness.js';

/** The manifest limits a variant may change (applied to it and to its healthy twin alike). */
export type CapabilityOverrides = NonNullable<MemoryAdapterOptions['capabilities']>;

/** The payload limit every audited adapter declares (as the suite's own memory baseline does). */
export const AUDIT_PAYLOAD_BYTES = 64 * 1024;

/**
 * One broken adapter: a single realistic bug wrapped around the healthy memory adapter,
 * and the direct check that shows the bug (the healthy twin passes the same check).
 */
export interface Variant {
  /** Stable id, `family.slug`. */
  readonly id: string;
  /** Family the bug belongs to (lease, count, receive, body, batch, limits, dead, stats, close, queue, errors). */
  readonly family: string;
  /** The bug in one sentence, as an adapter author would have written it. */
  readonly bug: string;
  /** Manifest limits declared by both the variant and its healthy twin. */
  readonly capabilities?: CapabilityOverrides;
  /** Builds the broken adapter on a shared store (several calls = several "processes"). */
  make(store: MemoryStore, capabilities: CapabilityOverrides): Adapter;
  /** Asserts the contract rule the bug breaks; throws with what broke. */
  check(h: Harness): Promise<void>;
}

/** The capabilities of a variant and its healthy twin. */
export function variantCapabilities(variant: Pick<Variant, 'capabilities'> | undefined): CapabilityOverrides {
  return { maxPayloadBytes: AUDIT_PAYLOAD_BYTES, ...variant?.capabilities };
}

/** The healthy memory adapter on `store` with the given limits. */
export function healthy(store: MemoryStore, capabilities: CapabilityOverrides): MemoryAdapter {
  return memoryAdapter({ store, capabilities });
}

/** Replaces some methods of a healthy adapter, keeping the rest (and its `store`). */
export function patch(inner: MemoryAdapter, methods: Partial<Adapter>): MemoryAdapter {
  return { ...inner, ...methods } as MemoryAdapter;
}

/** A manifest that differs from what the inner adapter enforces (the "manifest lies" bugs). */
export function declaring(inner: MemoryAdapter, declared: Partial<Capabilities>, methods: Partial<Adapter>): MemoryAdapter {
  return { ...inner, ...methods, capabilities: Object.freeze({ ...inner.capabilities, ...declared }) } as MemoryAdapter;
}

/** One queue's internal state in a memory store. */
export type QueueState = ReturnType<MemoryStore['queue']>;
/** One stored live message of a memory store. */
export type Stored = QueueState['messages'] extends Map<number, infer M> ? M : never;

/** Splits a memory lease handle (`seq.token`). */
export function splitHandle(handle: string): { seq: number; token: string } {
  const dot = handle.indexOf('.');
  return { seq: Number(handle.slice(0, dot)), token: handle.slice(dot + 1) };
}

/** The live message a handle points at (whoever owns it now), if it still exists. */
export function messageOf(store: MemoryStore, queue: string, handle: string): Stored | undefined {
  return store.queue(queue).messages.get(splitHandle(handle).seq);
}

/** The handle of the current lease of the message a (possibly stale) handle points at. */
export function currentHandle(store: MemoryStore, queue: string, handle: string): string | undefined {
  const message = messageOf(store, queue, handle);
  return message?.state === 'leased' && message.leaseToken ? `${message.seq}.${message.leaseToken}` : undefined;
}

/** True when `error` is a BgError with `code`. */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

let forced = 0;

/** Leases a message whatever its state (what a non-atomic "read, then claim" ends up doing). */
export function forceLease(state: QueueState, message: Stored, leaseMs: number, now: number): string {
  message.deliveryCount++;
  message.leaseToken = `z${(++forced).toString(36)}`;
  message.leaseExpiresAt = now + leaseMs;
  state.schedule(message, 'leased', message.leaseExpiresAt);
  return `${message.seq}.${message.leaseToken}`;
}

/** Per-store state of a variant, shared by every adapter on that store (one "backend"). */
export function perStore<T>(init: () => T): (store: MemoryStore) => T {
  const map = new WeakMap<MemoryStore, T>();
  return (store) => {
    let value = map.get(store);
    if (value === undefined) {
      value = init();
      map.set(store, value);
    }
    return value;
  };
}

/** Resolves after `ms` (models a network round trip inside a broken adapter). */
export function roundTrip(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
