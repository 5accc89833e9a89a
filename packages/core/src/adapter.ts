/**
 * The adapter contract, version 1.
 *
 * An adapter maps a backend (Redis, SQS, Azure Storage Queues, Pub/Sub, memory)
 * onto a small lease-based contract. Everything else — envelopes, retries, backoff,
 * poison handling, versioning, delay hops, shutdown — lives once in `@bg/core`.
 *
 * Rules every adapter honours (checked by `@bg/conformance`):
 * - A message is removed from storage only by {@link Adapter.ack}. Any crash leaves it stored.
 * - {@link Adapter.receive} leases each message for `leaseMs`; while leased no other
 *   consumer receives it. An expired lease makes it visible again and the next delivery
 *   has `deliveryCount` increased by one.
 * - Lease handles are opaque and may rotate on {@link Adapter.extend}. `ack`, `extend`,
 *   `release` and `deadLetter` with a handle that no longer owns the delivery reject with a
 *   `LEASE_LOST` {@link BgError}; they never act on someone else's delivery.
 * - Limits declared in {@link Capabilities} are enforced with typed errors, never by truncation.
 *
 * @module
 */

/** The adapter contract version this build of `@bg/core` speaks. */
export const ADAPTER_CONTRACT_VERSION = 1 as const;

/** Opaque lease handle (receipt handle, pop receipt, ack id, stream entry …). */
export type LeaseHandle = string;

/**
 * What an adapter can do, and its hard limits. The producer and the worker read it to
 * check input before anything is sent, to clamp leases and to decide when to hop delays.
 */
export interface Capabilities {
  /** Largest encoded message body accepted, in UTF-8 bytes. */
  readonly maxPayloadBytes: number;
  /** Longest native delivery delay in ms (`0` when the backend has none). Longer delays hop. */
  readonly maxDelayMs: number;
  /** Longest lease a single `receive`/`extend` can set, in ms. */
  readonly maxLeaseMs: number;
  /** Shortest lease the backend honours, in ms (e.g. 1 000 on SQS, 10 000 on Pub/Sub). */
  readonly minLeaseMs: number;
  /** Longest delay `release` accepts, in ms. Retry backoff is clamped to it. */
  readonly maxReleaseDelayMs: number;
  /** Most messages per `send` call and per `receive` call. */
  readonly maxBatchSize: number;
  /** Whether `extend` beyond `maxLeaseMs` is clamped to it or rejected with `LEASE_TOO_LONG`. */
  readonly extendBeyondMax: 'clamp' | 'reject';
  /** The backend counts deliveries itself (survives crashes of every consumer). */
  readonly nativeDeliveryCount: boolean;
  /** The backend can also move crash-looping messages to a dead-letter store by itself. */
  readonly nativeDeadLetter: boolean;
  /**
   * Deliveries after which the backend itself moves a message to its dead-letter store (SQS
   * `maxReceiveCount`, Pub/Sub `maxDeliveryAttempts`); absent when it never does. The worker
   * parks early deliveries of a delayed job with `release` only while the delivery count is
   * below half of it, then re-sends the job as a new message, so a long delay never reaches it.
   */
  readonly maxDeliveries?: number;
  /** Messages sharing an `orderingKey` are delivered one at a time, in send order. */
  readonly ordering: boolean;
  /** A second send with the same `deduplicationKey` within the window is dropped. */
  readonly deduplication: boolean;
  /** The stored messages survive a restart of the backend server. */
  readonly durable: boolean;
}

/** A message handed to {@link Adapter.send}. */
export interface OutgoingMessage {
  /** Job id; kept by the adapter and returned on every delivery and dead letter. */
  readonly id: string;
  /** Encoded envelope (UTF-8 text, usually JSON). Stored and returned byte for byte. */
  readonly body: string;
  /**
   * Small string attributes stored beside the body and returned on every delivery and dead
   * letter. The core's own are named `bg-…` (`bg-type`; `bg-ordering-key`, `bg-hopped` and
   * `bg-deferred` on some jobs: up to four a message).
   */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Delay before first delivery, in ms; never above `capabilities.maxDelayMs`. */
  readonly delayMs?: number;
  /** Per-key ordering, when `capabilities.ordering`. */
  readonly orderingKey?: string;
  /** Enqueue deduplication key, when `capabilities.deduplication`. */
  readonly deduplicationKey?: string;
}

/** The outcome of sending one message. */
export interface SendResult {
  /**
   * The job id that is stored: the message's own id, or — for a duplicate — the id of the
   * message stored earlier with the same `deduplicationKey` (when the backend can tell it).
   */
  readonly id: string;
  /** True when the backend dropped the message as a duplicate of an earlier `deduplicationKey`. */
  readonly duplicate: boolean;
}

/** One leased delivery returned by {@link Adapter.receive}. */
export interface ReceivedMessage {
  /** Job id given at send (or the backend's own id for a message written by another client). */
  readonly id: string;
  /** The body exactly as sent. */
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** 1 on the first delivery; +1 on every later one (expired leases and releases included). */
  readonly deliveryCount: number;
  /** Opaque lease handle for ack/extend/release/deadLetter. */
  readonly handle: LeaseHandle;
  /** When the lease ends, epoch ms (adapter's clock). */
  readonly leaseExpiresAt: number;
  /** When the message was first written to this queue, epoch ms, when the backend knows. */
  readonly enqueuedAt?: number;
}

/** Options of {@link Adapter.receive}. */
export interface ReceiveOptions {
  /** At most this many messages (≤ `capabilities.maxBatchSize`). */
  readonly max: number;
  /** Lease length in ms (between `minLeaseMs` and `maxLeaseMs`). */
  readonly leaseMs: number;
  /** Long-poll: wait up to this long for the first message. 0 returns at once. */
  readonly waitMs?: number;
  /** Aborting ends a long poll promptly with whatever was received (possibly nothing). */
  readonly signal?: AbortSignal;
}

/** Why a job was set aside. */
export type DeadLetterReason =
  | 'max-attempts'
  | 'permanent-error'
  | 'malformed-envelope'
  | 'invalid-payload'
  | 'unknown-type'
  | 'unknown-version'
  | 'bad-signature'
  | 'timeout'
  | 'manual';

/** All dead-letter reasons, for validation and CLI filters. */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'max-attempts',
  'permanent-error',
  'malformed-envelope',
  'invalid-payload',
  'unknown-type',
  'unknown-version',
  'bad-signature',
  'timeout',
  'manual',
];

/** A serialisable description of the last error. */
export interface ErrorInfo {
  readonly message: string;
  readonly name?: string;
  readonly code?: string;
  readonly stack?: string;
}

/** What the core records when it dead-letters a delivery. */
export interface DeadLetterInfo {
  readonly reason: DeadLetterReason;
  readonly error?: ErrorInfo;
  /** Attempts made (the delivery count of the failing delivery). */
  readonly attempts: number;
  /** When the job was first enqueued, epoch ms, if known. */
  readonly enqueuedAt?: number;
  /** When it was dead-lettered, epoch ms. */
  readonly deadLetteredAt: number;
}

/** A stored dead letter: the original message plus why it was set aside. */
export interface DeadLetter extends DeadLetterInfo {
  readonly id: string;
  /** The original body, byte for byte. */
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** A page of dead letters. */
export interface DeadLetterPage {
  readonly items: readonly DeadLetter[];
  /** Pass back to get the next page; absent on the last page. */
  readonly cursor?: string;
}

/**
 * Counts for one queue. A count the backend cannot know is `null` (unknown), never a made-up
 * 0: Pub/Sub's data plane counts no backlog, Azure cannot tell a leased message from a
 * delayed one. Backends that only know approximations say so in their docs.
 */
export interface QueueStats {
  /** Visible now, waiting for a worker; `null` when unknown. */
  readonly ready: number | null;
  /** Leased by a worker; `null` when unknown. */
  readonly inFlight: number | null;
  /** Waiting for a delay to pass; `null` when unknown. */
  readonly delayed: number | null;
  /** Dead letters stored; `null` when unknown. */
  readonly dead: number | null;
  /**
   * All live messages (ready + in flight + delayed), when the backend knows the sum but not
   * every part (Azure's approximate message count). Absent when the parts are all known.
   */
  readonly total?: number | null;
}

/** {@link QueueStats} of a backend that knows every count exactly (memory, Redis). */
export interface KnownQueueStats extends QueueStats {
  readonly ready: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly dead: number;
}

/**
 * The contract an adapter implements. Queue names are plain strings
 * (see {@link QUEUE_NAME_PATTERN}); each call names its queue so one
 * adapter (one connection) serves many queues.
 */
export interface Adapter {
  /** Short backend name, e.g. `"redis"`. */
  readonly name: string;
  /** Must equal {@link ADAPTER_CONTRACT_VERSION}. */
  readonly contractVersion: typeof ADAPTER_CONTRACT_VERSION;
  readonly capabilities: Capabilities;

  /**
   * Creates the queue and its dead-letter store if missing; does nothing when it exists.
   * The producer and the worker call it unless told `missingQueue: 'fail'`.
   */
  ensureQueue(queue: string): Promise<void>;

  /**
   * Optional: whether the queue exists (without creating it). Used by
   * `missingQueue: 'fail'` and by `bgctl` to name a missing queue up front.
   */
  queueExists?(queue: string): Promise<boolean>;

  /**
   * Optional: the bg queues this adapter sees (its prefix or namespace only), sorted.
   * Dead-letter stores and other helper resources are not listed.
   */
  listQueues?(): Promise<string[]>;

  /**
   * Optional: deletes the queue, its dead letters and every helper resource, jobs included.
   * Resolves false when there was no such queue. Irreversible.
   */
  deleteQueue?(queue: string): Promise<boolean>;

  /**
   * Stores messages (at most `maxBatchSize`). Resolves only once every message is stored;
   * if any entry fails the call rejects and names the failed ids in the error's `details`.
   */
  send(queue: string, messages: readonly OutgoingMessage[]): Promise<SendResult[]>;

  /** Leases up to `max` visible messages. */
  receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]>;

  /**
   * Extends a lease to `leaseMs` from now. Returns the handle to use from now on
   * (it may rotate) and the new expiry. `LEASE_LOST` if the handle no longer owns it.
   */
  extend(queue: string, handle: LeaseHandle, leaseMs: number): Promise<{ handle: LeaseHandle; leaseExpiresAt: number }>;

  /** Removes the delivered message for good. A second ack of the same handle is harmless. */
  ack(queue: string, handle: LeaseHandle): Promise<void>;

  /**
   * Ends the lease early: the message becomes visible after `delayMs` (0 = at once), its
   * delivery count kept (the next delivery counts one more).
   */
  release(queue: string, handle: LeaseHandle, delayMs: number): Promise<void>;

  /**
   * Writes a dead-letter record for a leased delivery with the given message's id, body and
   * attributes (the core passes the delivery as received; it passes a shortened body only
   * when the whole one was refused with `PAYLOAD_TOO_LARGE`).
   * It does NOT remove the original: the core acks it afterwards, so a crash in between
   * leaves a duplicate, never a loss.
   */
  deadLetter(queue: string, message: ReceivedMessage, info: DeadLetterInfo): Promise<void>;

  /** Lists dead letters, oldest first. */
  listDeadLetters(queue: string, options?: { limit?: number; cursor?: string }): Promise<DeadLetterPage>;

  /** One dead letter by job id. */
  getDeadLetter(queue: string, id: string): Promise<DeadLetter | undefined>;

  /**
   * Moves a dead letter back to the live queue with the same id, body and attributes and
   * a fresh delivery count (writes the live message first, removes the dead letter second).
   * Returns false when no dead letter has that id.
   */
  replayDeadLetter(queue: string, id: string): Promise<boolean>;

  /** Deletes dead letters: the given ids, or all of them. Returns how many were removed. */
  purgeDeadLetters(queue: string, ids?: readonly string[]): Promise<number>;

  /** Counts for a queue. */
  stats(queue: string): Promise<QueueStats>;

  /** Releases connections and timers. A second call is harmless; any other call after it is `CLOSED`. */
  close(): Promise<void>;
}

/**
 * The queue-name pattern every adapter accepts: 3–48 characters, lowercase letters, digits
 * and single hyphens, starting with a letter. It is the intersection of what SQS, Azure
 * Storage Queues, Pub/Sub and Redis accept, leaving room for suffixes such as `-poison`,
 * so a queue name moves between clouds unchanged.
 */
export const QUEUE_NAME_PATTERN: RegExp = /^(?=.{3,48}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
