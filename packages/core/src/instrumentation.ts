import type { Adapter, ReceivedMessage } from './adapter.js';
import type { Envelope } from './envelope.js';
import type { EnqueueResult } from './queue.js';
import { quietlyNotify } from './quietly.js';
import type { JobContext } from './worker.js';
import type { Logger, WorkerEvent } from './worker-events.js';

/** W3C trace context as an envelope carries it (`trace` field). */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** The queue of one adapter that a producer or a worker is bound to. */
export interface InstrumentationTarget {
  readonly adapter: Adapter;
  readonly queue: string;
}

/** One call of `enqueue` (one job) or `enqueueMany` (a batch), as a producer hook sees it. */
export interface SendInfo {
  /** The job type of every job in the call. */
  readonly jobType: string;
  /** Jobs in the call (1 for `enqueue`). */
  readonly count: number;
  /** True for `enqueueMany`. */
  readonly batch: boolean;
  /** The trace context the caller gave explicitly (`trace` option), if any. */
  readonly trace: TraceCarrier | undefined;
}

/** Hooks of one producer (see {@link Instrumentation.producer}). */
export interface ProducerHooks {
  /**
   * Wraps one `enqueue`/`enqueueMany`: it must call `run` exactly once and return its result.
   * The trace `run` is given is stored in every envelope of the call (instead of the caller's
   * `trace` option); `undefined` keeps the caller's.
   */
  send(info: SendInfo, run: (trace: TraceCarrier | undefined) => Promise<EnqueueResult[]>): Promise<EnqueueResult[]>;
}

/** Hooks of one worker (see {@link Instrumentation.worker}). Every hook must not throw. */
export interface WorkerHooks {
  /** Every worker event, as `onEvent` sees them (also when no `onEvent` is given). */
  onEvent?(event: WorkerEvent): void;
  /**
   * A delivery's envelope was decoded, before anything else happens to the delivery.
   * `registered`: this worker has a handler for its type (else the type came from the message
   * alone: keep it out of metric attributes, where every new value is a new series).
   */
  decoded?(message: ReceivedMessage, envelope: Envelope, registered: boolean): void;
  /** Runs a handler (`run`) and returns what it returns, e.g. inside a trace context. */
  runHandler?<T>(context: JobContext, run: () => T): T;
  /** Wraps the worker's logger (e.g. to add trace ids); gets `{}` when no logger is given. */
  logger?(logger: Logger): Logger;
}

/**
 * Observability hooks for producers and workers (`instrumentation` option of
 * `createQueue` and `createWorker`), e.g. `@bg/otel`'s `instrument()`. Core calls
 * `producer` once per `createQueue` and `worker` once per `createWorker`.
 */
export interface Instrumentation {
  producer?(target: InstrumentationTarget): ProducerHooks | undefined;
  worker?(target: InstrumentationTarget): WorkerHooks | undefined;
}

/** Tells the hooks that a delivery's envelope was decoded; what a hook throws is ignored. */
export function hookDecoded(
  hooks: WorkerHooks | undefined,
  message: ReceivedMessage,
  envelope: Envelope,
  registered: boolean,
): void {
  try {
    hooks?.decoded?.(message, envelope, registered);
  } catch {
    // observability must never break job handling
  }
}

/** Passes a worker event to the hooks; what a hook throws is ignored. */
export function hookEvent(hooks: WorkerHooks | undefined, event: WorkerEvent): void {
  if (hooks?.onEvent !== undefined) quietlyNotify(hooks.onEvent, hooks, event);
}

/** True for a promise or another thenable. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Runs a handler through the hooks' `runHandler` (e.g. inside a span's context) and returns the
 * handler's OWN result (its return value, or its synchronous throw): instrumentation never
 * decides an outcome.
 * - A hook that throws before calling `run` is reported, and the handler runs directly.
 * - A hook that throws (or whose returned promise rejects) after `run` is reported and ignored.
 * - A hook that returns without calling `run` leaves the handler to run directly; a later call
 *   of `run` by the hook gets the same result: the handler runs exactly once.
 * - A throw of the handler itself stays the handler's, whatever the hook does with it.
 */
export function runHandlerThrough(
  runHandler: NonNullable<WorkerHooks['runHandler']>,
  hooks: WorkerHooks,
  context: JobContext,
  handler: () => unknown,
  report: (error: unknown) => void,
): unknown {
  let ran = false;
  let threw = false;
  let result: unknown;
  const run = (): unknown => {
    if (!ran) {
      ran = true;
      try {
        result = handler();
      } catch (error) {
        threw = true;
        result = error;
      }
    }
    if (threw) throw result;
    return result;
  };
  let returned: unknown;
  try {
    returned = runHandler.call(hooks, context, run);
  } catch (error) {
    // The handler's own throw, passed on by the hook, is no failure of the hook.
    if (!(threw && error === result)) report(error);
  }
  if (!ran) run();
  if (returned !== result && isThenable(returned)) {
    // An async hook: its rejection is reported, unless it only passes on the handler's own.
    returned.then(undefined, (error: unknown) => {
      if (threw) {
        if (error !== result) report(error);
      } else if (isThenable(result)) {
        result.then(
          () => report(error),
          (own: unknown) => {
            if (own !== error) report(error);
          },
        );
      } else {
        report(error);
      }
    });
  }
  if (threw) throw result;
  return result;
}
