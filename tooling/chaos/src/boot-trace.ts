import type { Adapter } from '@bg/core';
import type { BootPhase } from './boot-phases.js';

/**
 * The adapter, unchanged, except that the first `ensureQueue` and the first `receive` call
 * `mark` when they return / go out / return (the `ensure-queue`, `receive` and `received`
 * boot milestones). Every other member is the adapter's own, bound to it.
 */
export function traceBoot(adapter: Adapter, mark: (phase: BootPhase) => void): Adapter {
  let ensured = false;
  let received = false;
  return new Proxy(adapter, {
    get(target, key) {
      if (key === 'ensureQueue') {
        return async (queue: string) => {
          await target.ensureQueue(queue);
          if (!ensured) mark('ensure-queue');
          ensured = true;
        };
      }
      if (key === 'receive') {
        return async (...args: Parameters<Adapter['receive']>) => {
          const first = !received;
          received = true;
          if (first) mark('receive');
          const messages = await target.receive(...args);
          if (first) mark('received');
          return messages;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
