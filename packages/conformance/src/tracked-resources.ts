import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';

/**
 * Resources (timers, sockets, other libuv handles) created by code running inside
 * {@link ResourceTracker.run}, followed with `async_hooks`: whatever that code starts — and
 * whatever the callbacks of what it started start — carries the run's tag, so cases running side
 * by side in one process (`it.concurrent`) do not see each other's resources. A resource counts
 * while it is alive (not destroyed: a timer not cleared nor fired, a handle not closed) and keeps
 * the event loop alive (`hasRef()`), the rule of `process.getActiveResourcesInfo()`.
 */
interface Tracked {
  readonly tag: object;
  readonly type: string;
  readonly resource: { hasRef?: () => boolean };
  readonly createdAt: string;
}

const store = new AsyncLocalStorage<object>();
const tracked = new Map<number, Tracked>();
let users = 0;
const here = fileURLToPath(import.meta.url);

/** The first frames of the creating call's stack that are neither Node's nor this file's. */
function creationSite(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const own = frames
    .map((f) => f.trim().replace(/^at /, ''))
    .filter((f) => !f.includes('node:') && !f.includes(here) && !f.includes('tracked-resources'));
  return own.slice(0, 3).join(' < ') || 'unknown';
}

const hook = createHook({
  init(asyncId, type, _trigger, resource) {
    if (type === 'PROMISE') return;
    const tag = store.getStore();
    if (tag === undefined) return;
    tracked.set(asyncId, { tag, type, resource: resource as Tracked['resource'], createdAt: creationSite() });
  },
  destroy(asyncId) {
    tracked.delete(asyncId);
  },
});

/** One tracked run: start it, run code in it, then ask what it left. */
export interface ResourceTracker {
  /** Runs `fn` (and everything it starts) with this tracker's tag. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** What is alive and keeps the event loop alive now, e.g. `Timeout created at receive (…)`. */
  alive(): string[];
  /** Stops tracking (the hook is disabled when no tracker is left). Call it once. */
  stop(): void;
}

/** Starts tracking the resources of code run through the returned tracker. */
export function trackResources(): ResourceTracker {
  const tag = {};
  if (users++ === 0) hook.enable();
  let stopped = false;
  return {
    run: (fn) => store.run(tag, fn),
    alive() {
      const out: string[] = [];
      for (const t of tracked.values()) {
        if (t.tag !== tag) continue;
        const ref = typeof t.resource.hasRef === 'function' ? t.resource.hasRef() : false;
        if (ref) out.push(`${t.type} created at ${t.createdAt}`);
      }
      return out;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const [id, t] of tracked) if (t.tag === tag) tracked.delete(id);
      if (--users === 0) hook.disable();
    },
  };
}

/**
 * Waits until `tracker` sees nothing alive (a socket being closed takes a turn of the event loop
 * or two; a shared connection may be in use by someone else for a moment), looking every 20 ms
 * from a `setImmediate` callback, for at most `deadlineMs`; resolves with what is still alive at
 * the last look (nothing on a clean close).
 */
export async function settledTracked(tracker: ResourceTracker, deadlineMs: number): Promise<string[]> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const left = await new Promise<string[]>((resolve) => setImmediate(() => resolve(tracker.alive())));
    if (left.length === 0 || Date.now() >= end) return left;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
