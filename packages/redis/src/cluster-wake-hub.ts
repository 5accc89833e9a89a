import type { Cluster, Redis } from 'ioredis';
import { keySlot } from './key-slot.js';
import { bumpWatch, createWakeHub, LINGER_MS, newerStreamId, newWatch, type WakeHub, type Watch, waitOn } from './wake-hub.js';

/**
 * Most queues one adapter watches with a blocking read of their own on a cluster; receives on
 * queues past it poll (as every receive on a cluster did before).
 */
export const MAX_CLUSTER_WATCHES = 32;

/** Options of {@link createClusterWakeHub}. */
export interface ClusterWakeHubOptions {
  /** The adapter's cluster client: each queue's read goes to the master that holds its slot. */
  readonly cluster: Cluster;
  /** Longest a watched idle queue goes without a receive script (as {@link createWakeHub}'s). */
  readonly fallbackPollMs?: number;
  /** Queues watched with a blocking read at most (default {@link MAX_CLUSTER_WATCHES}). */
  readonly maxWatches?: number;
}

/** A queue watched by a hub of its own, on the master that held its slot when it started. */
interface Watched {
  readonly hub: WakeHub;
  /** `host:port` of that master. */
  readonly node: string;
}

/**
 * The {@link WakeHub} of an adapter on a Redis Cluster. A cluster has no blocking read over keys
 * in several slots, and every queue has a slot of its own (its hash tag), so each waiting queue
 * gets a hub of its own: one blocking connection to the master holding its slot, one command
 * per block period while idle. Up to {@link MAX_CLUSTER_WATCHES} queues; the others, and a queue
 * whose master is not known yet, are never healthy, so their receives poll. A queue whose read
 * fails (its slot moved, the master failed over) gets a new hub on the master that holds the
 * slot now; one not received from for {@link LINGER_MS} gives its connection up.
 */
export function createClusterWakeHub(options: ClusterWakeHubOptions): WakeHub {
  const { cluster } = options;
  const maxWatches = options.maxWatches ?? MAX_CLUSTER_WATCHES;
  const counter = { value: 0 };
  const watched = new Map<string, Watched>();
  /** Watches of queues without a hub of their own: never healthy (their receives poll). */
  const polled = new Map<string, Watch>();
  let closed = false;
  let sweptAt = Date.now();

  /** The master that holds `key`'s slot now, if the cluster has told. */
  function masterOf(key: string): { node: string; client: Redis } | undefined {
    const node = cluster.slots[keySlot(key)]?.[0];
    if (node === undefined) return undefined;
    const client = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === node);
    return client === undefined ? undefined : { node, client };
  }

  /** Gives up the hubs of queues nobody received from for a while (their connections close). */
  function sweep(): void {
    const t = Date.now();
    if (t - sweptAt < 1_000) return;
    sweptAt = t;
    for (const [key, { hub }] of watched) {
      const watch = hub.watch(key);
      if (watch.waiters.size === 0 && t - watch.lastUsed > LINGER_MS) {
        hub.close();
        watched.delete(key);
      }
    }
    for (const [key, watch] of polled) if (watch.waiters.size === 0 && t - watch.lastUsed > LINGER_MS) polled.delete(key);
  }

  /** The hub that watches `key`: its own (made or moved to its slot's master as needed), else none. */
  function hubOf(key: string): WakeHub | undefined {
    const current = watched.get(key);
    if (current?.hub.healthy) return current.hub;
    if (closed) return current?.hub;
    if (current === undefined && watched.size >= maxWatches) return undefined;
    const master = masterOf(key);
    if (master === undefined || (current !== undefined && current.node === master.node)) return current?.hub;
    // New, or its read is down and the slot is on another master now: a hub there.
    current?.hub.close();
    const hub = createWakeHub({
      client: master.client,
      counter,
      ...(options.fallbackPollMs !== undefined ? { fallbackPollMs: options.fallbackPollMs } : {}),
    });
    watched.set(key, { hub, node: master.node });
    polled.delete(key);
    return hub;
  }

  function polledWatch(key: string): Watch {
    let watch = polled.get(key);
    if (watch === undefined) {
      watch = newWatch(key, ++counter.value, Date.now());
      polled.set(key, watch);
    }
    watch.lastUsed = Date.now();
    return watch;
  }

  const bump = (watch: Watch): void => bumpWatch(watch, counter);

  return {
    get healthy() {
      return false; // per queue: healthyFor
    },

    healthyFor(watch) {
      const entry = watched.get(watch.wakeKey);
      return entry !== undefined && entry.hub.watch(watch.wakeKey) === watch && entry.hub.healthyFor(watch);
    },

    watch(wakeKey) {
      sweep();
      const hub = hubOf(wakeKey);
      return hub === undefined ? polledWatch(wakeKey) : hub.watch(wakeKey);
    },

    changed(watch) {
      const entry = watched.get(watch.wakeKey);
      if (entry !== undefined && entry.hub.watch(watch.wakeKey) === watch) entry.hub.changed(watch);
      else bump(watch);
    },

    noteEmpty(wakeKey, wakeId, nextDue) {
      const entry = watched.get(wakeKey);
      if (entry !== undefined) {
        entry.hub.noteEmpty(wakeKey, wakeId, nextDue);
        return;
      }
      const watch = polled.get(wakeKey);
      if (watch !== undefined && newerStreamId(wakeId, watch.wakeId)) watch.wakeId = wakeId;
    },

    wait(watch, ms, signal) {
      const entry = watched.get(watch.wakeKey);
      return entry !== undefined && entry.hub.watch(watch.wakeKey) === watch
        ? entry.hub.wait(watch, ms, signal)
        : waitOn(watch, ms, signal);
    },

    forget(wakeKey) {
      const entry = watched.get(wakeKey);
      if (entry !== undefined) {
        entry.hub.forget(wakeKey);
        entry.hub.close();
        watched.delete(wakeKey);
      }
      const watch = polled.get(wakeKey);
      if (watch !== undefined) {
        polled.delete(wakeKey);
        bump(watch);
      }
    },

    close() {
      closed = true;
      for (const { hub } of watched.values()) hub.close();
      watched.clear();
      for (const watch of polled.values()) bump(watch);
      polled.clear();
    },
  };
}
