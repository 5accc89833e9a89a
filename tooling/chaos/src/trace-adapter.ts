import type { Adapter, ReceivedMessage } from '@bg/core';
import type { BootPhase } from './boot-phases.js';

/** What {@link traceAdapter} reports. */
export interface AdapterTrace {
  /** A boot milestone: the first `ensureQueue` returned, the first `receive` went out / returned. */
  mark(phase: BootPhase): void;
  /** Every delivery `receive` returned (in hand, before it waits for a slot or runs). */
  received(message: ReceivedMessage): void;
}

/**
 * The adapter, unchanged, except that `ensureQueue` and `receive` report to `trace`: the
 * `ensure-queue`, `receive` and `received` boot milestones (first calls only) and every
 * delivery received. Every other member is the adapter's own, bound to it.
 */
export function traceAdapter(adapter: Adapter, trace: AdapterTrace): Adapter {
  let ensured = false;
  let receivedOnce = false;
  return new Proxy(adapter, {
    get(target, key) {
      if (key === 'ensureQueue') {
        return async (queue: string) => {
          await target.ensureQueue(queue);
          if (!ensured) trace.mark('ensure-queue');
          ensured = true;
        };
      }
      if (key === 'receive') {
        return async (...args: Parameters<Adapter['receive']>) => {
          const first = !receivedOnce;
          receivedOnce = true;
          if (first) trace.mark('receive');
          const messages = await target.receive(...args);
          if (first) trace.mark('received');
          for (const m of messages) trace.received(m);
          return messages;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
