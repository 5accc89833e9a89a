import type { Adapter, ReceivedMessage } from './adapter.js';
import { answeredAtOnce, emptyPollPause } from './empty-poll.js';
import { mustYield, planReceive, type ReceivePlan, receiveFailurePause } from './receive-planner.js';

/** The worker's slot counts, shared with its receive loop. */
export interface SlotCounts {
  /** Every delivery held (running, waiting, being settled). */
  readonly held: { readonly size: number };
  /** Deliveries received ahead, waiting for a slot. */
  readonly waiting: { readonly length: number };
  /** Deliveries holding a slot: their handler has not returned yet. */
  handling: number;
  /** How long a job typically takes here (a moving average of handler durations), once known. */
  typicalMs: number | undefined;
}

/** What a {@link ReceiveLoop} needs from its worker. */
export interface ReceiveLoopOptions {
  readonly adapter: Adapter;
  readonly queue: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly random: () => number;
  readonly slots: SlotCounts;
  readonly isRunning: () => boolean;
  /** Takes a received delivery in (starts it, or queues it for a slot). */
  readonly admit: (message: ReceivedMessage) => void;
  /** Gives back deliveries that arrived after the worker began to stop. */
  readonly handBackUnheld: (messages: readonly ReceivedMessage[]) => Promise<void>;
  readonly reportError: (during: string, error: unknown) => void;
}

/** Waits `ms` (0: one turn of the event loop), or less when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return;
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * What one run of a {@link ReceiveLoop} counts. Each run has its own: a receive of an earlier
 * run that never answered (a stop does not wait for it for ever) must not hold up a restarted
 * worker, nor its late answer change the new run's counts.
 */
interface RunState {
  /** Receives in flight. */
  readonly receiving: Set<Promise<void>>;
  /** Slots promised to receives in flight. */
  reserved: number;
  /** Failed receives in a row. */
  failures: number;
  /** The last receive came back full. */
  lastFull: boolean;
}

const newRunState = (): RunState => ({ receiving: new Set(), reserved: 0, failures: 0, lastFull: false });

/**
 * The worker's receive loop, the I/O side of {@link planReceive}: it receives what the plan
 * allows, hands each delivery to `admit`, sleeps until {@link ReceiveLoop.wake} when the plan
 * says wait, and paces itself. Never starving the event loop: after an empty receive the next
 * one waits at least a turn of the event loop, and while receives come back empty at once (no
 * long poll, or an adapter answering from memory) it backs off ({@link emptyPollPause}); it
 * also yields regularly ({@link mustYield}) however its receives and handlers complete.
 * Failed receives back off too ({@link receiveFailurePause}).
 */
export class ReceiveLoop {
  readonly #o: ReceiveLoopOptions;
  /** The backend's largest receive (its capabilities do not change). */
  readonly #maxBatchSize: number;
  #wake: (() => void) | undefined;
  /** The current run's counts. */
  #run: RunState = newRunState();

  constructor(options: ReceiveLoopOptions) {
    this.#o = options;
    this.#maxBatchSize = options.adapter.capabilities.maxBatchSize;
  }

  /** The plan for the next receive, from the worker's slots and this loop's state. */
  #plan(): ReceivePlan {
    const o = this.#o;
    const { slots } = o;
    const run = this.#run;
    return planReceive({
      concurrency: o.concurrency,
      leaseMs: o.leaseMs,
      maxBatchSize: this.#maxBatchSize,
      handling: slots.handling,
      waiting: slots.waiting.length,
      reserved: run.reserved,
      held: slots.held.size,
      receiving: run.receiving.size,
      lastFull: run.lastFull,
      failures: run.failures,
      typicalMs: slots.typicalMs,
    });
  }

  /**
   * Wakes the loop (a slot freed up, a delivery was settled, or the worker stops) when it
   * waits and has something to do: a receive the plan now allows, or stopping. Most slots
   * that free up do not allow one yet (a receive waits for a quarter of them): those wakes
   * cost a plan, not a turn of the loop and a new promise to wait on.
   */
  wake(): void {
    const wake = this.#wake;
    if (wake !== undefined && (!this.#o.isRunning() || this.#plan().max > 0)) wake();
  }

  /**
   * Runs until the worker stops (`isRunning` false, or `signal` aborted: a loop the worker gave
   * up waiting for must not come back to life when it starts again), then waits for the
   * receives in flight.
   */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const state = newRunState();
    this.#run = state;
    const { receiving } = state;
    /** Empty receives in a row that came back at once. */
    let emptyStreak = 0;
    /** When the loop last let the event loop turn (receives answered from memory never do). */
    let yieldedAt = performance.now();
    const live = (): boolean => o.isRunning() && !signal.aborted;

    const pull = async (max: number): Promise<void> => {
      let messages: ReceivedMessage[];
      const askedAt = performance.now();
      try {
        messages = await o.adapter.receive(o.queue, { max, leaseMs: o.leaseMs, waitMs: o.pollMs, signal });
        state.reserved -= max;
        state.failures = 0;
      } catch (error) {
        state.reserved -= max;
        state.lastFull = false;
        if (!live()) return;
        state.failures++;
        o.reportError('receive', error);
        await pause(receiveFailurePause(state.failures, o.random()), signal);
        return;
      }
      if (messages.length === 0) {
        state.lastFull = false;
        if (!live()) return;
        // Never poll again in the same turn of the event loop (timers, heartbeats and stop()
        // must run), and back off while the backend answers empty at once.
        emptyStreak = answeredAtOnce(performance.now() - askedAt, o.pollMs) ? emptyStreak + 1 : 0;
        await pause(emptyStreak > 0 ? emptyPollPause(emptyStreak, o.pollMs, o.random()) : 0, signal);
        return;
      }
      emptyStreak = 0;
      state.lastFull = messages.length >= max;
      if (!live()) {
        // Stopped while polling: give anything that arrived back at once.
        await o.handBackUnheld(messages);
        return;
      }
      for (const message of messages) o.admit(message);
    };

    while (live()) {
      const plan = this.#plan();
      if (plan.max === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      state.reserved += plan.max;
      const done: Promise<void> = pull(plan.max)
        .catch((error: unknown) => o.reportError('receive', error))
        .finally(() => {
          receiving.delete(done);
          this.wake();
        });
      receiving.add(done);
      if (mustYield(receiving.size, plan.prefetch, performance.now() - yieldedAt)) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yieldedAt = performance.now();
      }
    }
    await Promise.all(receiving);
  }
}
