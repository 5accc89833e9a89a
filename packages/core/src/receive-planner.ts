/** The receive loop lets the event loop turn at least this often (ms), whatever the backend answers. */
export const YIELD_EVERY_MS = 20;

/** Receives a worker keeps in flight at most while it prefetches. */
export const MAX_RECEIVES = 2;

/** A worker prefetches only while its jobs typically finish within this time (ms). */
export const PREFETCH_BELOW_MS = 100;

/**
 * The largest batch of very short jobs, whatever the concurrency: under a backlog of jobs of a
 * fraction of a millisecond, every receive, and the acks of every turn of the event loop, carry
 * up to this many, so that what a call costs of itself is shared by many jobs (Redis at
 * concurrency 50: 15–30 % less CPU per job than with batches of 50). A worker of concurrency 1
 * does not pay a round trip per job either. See {@link PREFETCH_WINDOW_MS}.
 */
export const PREFETCH_SHORT_BATCH = 200;

/**
 * The work (in typical job durations) a batch larger than the concurrency may hold: about a
 * receive's round trip. Jobs of 0.25 ms or less get batches of {@link PREFETCH_SHORT_BATCH},
 * jobs of 1 ms batches of 50, jobs of 10 ms batches of `max(concurrency, 5)`, jobs of 50 ms or
 * more batches of `concurrency`.
 */
export const PREFETCH_WINDOW_MS = 50;

/** What the receive planner looks at before each receive. */
export interface ReceiveState {
  readonly concurrency: number;
  /** The lease of the worker (ms): jobs prefetch only while they typically take under a tenth of it. */
  readonly leaseMs: number;
  /** The backend's largest receive. */
  readonly maxBatchSize: number;
  /** Deliveries holding a slot (their handler has not returned). */
  readonly handling: number;
  /** Deliveries received ahead, waiting for a slot. */
  readonly waiting: number;
  /** Slots promised to receives in flight. */
  readonly reserved: number;
  /** Every delivery held, including those being acked, retried or dead-lettered. */
  readonly held: number;
  /** Receives in flight. */
  readonly receiving: number;
  /** The last receive came back full (a backlog waits). */
  readonly lastFull: boolean;
  /** Failed receives in a row. */
  readonly failures: number;
  /** How long a job typically takes here (moving average), once known. */
  readonly typicalMs: number | undefined;
}

/** The planner's answer: receive up to `max` deliveries now (0: wait until something changes). */
export interface ReceivePlan {
  readonly max: number;
  /** The worker prefetches (batches beyond the free slots, two receives in flight). */
  readonly prefetch: boolean;
}

/**
 * Plans the next receive. A receive asks for free slots, in batches: with most slots busy it
 * waits for a quarter of them to free up. Deliveries being settled (ack, retry, dead letter)
 * hold no slot, but no more of them wait at once than the loop may have in hand.
 *
 * Prefetch: while receives come back full and jobs typically finish within
 * {@link PREFETCH_BELOW_MS} (or a tenth of the lease), batches are `concurrency` (up to
 * {@link PREFETCH_SHORT_BATCH} for very short jobs, see {@link PREFETCH_WINDOW_MS}) and up to two
 * batches are in hand, so the backend prepares the next one while this process runs the
 * current one. Otherwise only free slots are asked for, one receive at a time.
 */
export function planReceive(s: ReceiveState): ReceivePlan {
  const typical = s.typicalMs;
  const prefetch =
    s.lastFull && s.failures === 0 && typical !== undefined && typical <= Math.min(PREFETCH_BELOW_MS, s.leaseMs / 10);
  const batch = prefetch
    ? Math.max(s.concurrency, Math.min(PREFETCH_SHORT_BATCH, Math.floor(PREFETCH_WINDOW_MS / Math.max(typical ?? 0, 0.001))))
    : s.concurrency;
  const capacity = prefetch ? 2 * batch : s.concurrency;
  const inHand = s.handling + s.waiting + s.reserved;
  const room = capacity - inHand;
  const settling = s.held - s.handling - s.waiting;
  const refillAt = Math.max(1, Math.floor(s.concurrency / 4));
  const mayReceive =
    room > 0 &&
    !(inHand > 0 && room < refillAt) &&
    settling <= capacity &&
    (s.receiving === 0 || (prefetch && s.receiving < MAX_RECEIVES));
  return { max: mayReceive ? Math.min(room, batch, s.maxBatchSize) : 0, prefetch };
}

/**
 * True when the loop must let the event loop turn after starting a receive: one receive per
 * turn while two are in flight or it prefetches (so two in flight are two requests), and at
 * least every {@link YIELD_EVERY_MS} when receives and handlers complete without I/O.
 */
export function mustYield(receiving: number, prefetch: boolean, sinceYieldMs: number): boolean {
  return receiving > 1 || prefetch || sinceYieldMs > YIELD_EVERY_MS;
}

/**
 * The pause after `failures` (≥ 1) failed receives in a row: 100 ms doubling up to 5 s, times
 * a jitter factor of 0.5–1 from `random` (a number in [0, 1)).
 */
export function receiveFailurePause(failures: number, random: number): number {
  return Math.min(100 * 2 ** Math.min(failures - 1, 6), 5_000) * (0.5 + random / 2);
}
