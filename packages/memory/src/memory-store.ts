import { type DeadLetter, RecentHandles } from '@bg/core/adapter';
import { MinHeap } from './min-heap.js';

/** A clock; pass a fake one to control leases and delays in tests. */
export interface Clock {
  now(): number;
}

/** Where a stored message is. */
export type MessageState = 'ready' | 'delayed' | 'leased' | 'blocked';

/** One stored live message. */
export interface StoredMessage {
  readonly seq: number;
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly enqueuedAt: number;
  readonly orderingKey: string | undefined;
  state: MessageState;
  /** Bumped on every state change; stale ready/heap entries are skipped by it. */
  stateToken: number;
  /** Lease token of the current delivery; changes on receive and extend. */
  leaseToken: string | undefined;
  visibleAt: number;
  leaseExpiresAt: number;
  deliveryCount: number;
}

interface Due {
  readonly seq: number;
  readonly stateToken: number;
}

/** One queue's state. */
export class MemoryQueueState {
  readonly messages = new Map<number, StoredMessage>();
  readonly ready: number[] = [];
  readyHead = 0;
  readonly due = new MinHeap<Due>();
  readonly dead = new Map<string, DeadLetter>();
  readonly dedup = new Map<string, { readonly until: number; readonly id: string }>();
  /** Ordering key → seqs in send order; the head is the only one that can be delivered. */
  readonly groups = new Map<string, number[]>();
  /** Recently acked lease handles, so a second ack is harmless. */
  readonly acked = new RecentHandles(10_000);
  readonly waiters = new Set<() => void>();

  /**
   * Stores a live message (seq from the store): ready, delayed, or blocked behind the head of
   * its ordering group.
   */
  add(
    seq: number,
    m: { readonly id: string; readonly body: string; readonly attributes: Readonly<Record<string, string>> },
    now: number,
    delayMs: number,
    orderingKey?: string,
  ): void {
    const message: StoredMessage = {
      seq,
      id: m.id,
      body: m.body,
      attributes: { ...m.attributes },
      enqueuedAt: now,
      orderingKey,
      state: 'ready',
      stateToken: 0,
      leaseToken: undefined,
      visibleAt: now + delayMs,
      leaseExpiresAt: 0,
      deliveryCount: 0,
    };
    this.messages.set(seq, message);
    if (orderingKey !== undefined) {
      const group = this.groups.get(orderingKey);
      if (group && group.length > 0) {
        group.push(seq);
        message.state = 'blocked';
        return;
      }
      this.groups.set(orderingKey, [seq]);
    }
    if (delayMs > 0) this.schedule(message, 'delayed', message.visibleAt);
    else this.makeReady(message);
  }

  /** Wakes long polls. */
  notify(): void {
    if (this.waiters.size === 0) return;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Puts a message into the ready list. */
  makeReady(message: StoredMessage): void {
    message.state = 'ready';
    message.stateToken++;
    this.ready.push(message.seq, message.stateToken);
  }

  /** Schedules a state change at `at`. */
  schedule(message: StoredMessage, state: 'delayed' | 'leased', at: number): void {
    message.state = state;
    message.stateToken++;
    this.due.push(at, { seq: message.seq, stateToken: message.stateToken });
  }

  /** Moves every due delayed message and expired lease to ready. */
  promote(now: number): void {
    for (;;) {
      const at = this.due.peekKey();
      if (at === undefined || at > now) break;
      const entry = this.due.pop() as Due;
      const message = this.messages.get(entry.seq);
      if (!message || message.stateToken !== entry.stateToken) continue;
      this.makeReady(message);
    }
    if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
  }

  /** Next ready message, skipping stale entries. */
  nextReady(): StoredMessage | undefined {
    while (this.readyHead < this.ready.length) {
      const seq = this.ready[this.readyHead] as number;
      const token = this.ready[this.readyHead + 1] as number;
      this.readyHead += 2;
      const message = this.messages.get(seq);
      if (message && message.state === 'ready' && message.stateToken === token) return message;
    }
    return undefined;
  }

  /** Removes a live message; unblocks the next one of its ordering group. */
  remove(message: StoredMessage, now: number): void {
    this.messages.delete(message.seq);
    message.stateToken++;
    if (message.orderingKey === undefined) return;
    const group = this.groups.get(message.orderingKey);
    if (!group) return;
    const at = group.indexOf(message.seq);
    if (at >= 0) group.splice(at, 1);
    if (group.length === 0) {
      this.groups.delete(message.orderingKey);
      return;
    }
    const next = this.messages.get(group[0] as number);
    if (next && next.state === 'blocked') {
      if (next.visibleAt > now) this.schedule(next, 'delayed', next.visibleAt);
      else this.makeReady(next);
    }
  }
}

/**
 * The data behind one or more memory adapters. Share a store between adapters to model
 * several processes talking to one backend.
 */
export class MemoryStore {
  readonly queues = new Map<string, MemoryQueueState>();
  seq = 0;
  /** The store's clock: the one it was given, else the real one. */
  readonly clock: Clock;
  /**
   * True when the store was given a clock (a fake one, in tests): such a clock moves without
   * telling anyone, so a waiting long poll looks at it again every few milliseconds.
   */
  readonly customClock: boolean;

  constructor(clock?: Clock) {
    this.clock = clock ?? { now: Date.now };
    this.customClock = clock !== undefined;
  }

  /** The state of a queue, created on first use. */
  queue(name: string): MemoryQueueState {
    let state = this.queues.get(name);
    if (!state) {
      state = new MemoryQueueState();
      this.queues.set(name, state);
    }
    return state;
  }
}

/** Creates a store, optionally with a fake clock. */
export function createMemoryStore(options: { clock?: Clock } = {}): MemoryStore {
  return new MemoryStore(options.clock);
}
