import { type Adapter, BgError } from '@bg/core';
import type pg from 'pg';

/** Relays running now whose target queries through the relay's own `db`, per pool. */
const sharing = new WeakMap<pg.Pool, number>();

/**
 * A relay's round holds one connection of `db` for its transaction while it calls the target.
 * A target that queries through `db` itself (a PostgreSQL adapter made with `{ pool: db }`, or
 * the adapter whose `pool` is `db`) then needs another connection at the same time: with every
 * connection held by a relay's round, every round waits for ever. So a pool shared by relays and
 * their target needs `max` of at least one more than those relays: fewer is `INVALID_ARGUMENT`
 * (not retryable) here. Returns what the relay calls when it stops (its place is free again).
 */
export function claimSharedPool(db: pg.Pool, target: Adapter): () => void {
  if ((target as { readonly pool?: unknown }).pool !== db) return () => {};
  const max = (db as { readonly options?: { readonly max?: unknown } }).options?.max;
  const relays = (sharing.get(db) ?? 0) + 1;
  if (typeof max === 'number' && max < relays + 1) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `startRelay: the target queries through db itself, a pool of max ${max} connection(s), shared by ${relays} relay(s): each relay's round holds one connection of db for its transaction while target.send needs another, so the relays would wait for ever. Give the pool max ${relays + 1} or more (one more than the relays sharing it), or give the target a pool of its own`,
      { retryable: false },
    );
  }
  sharing.set(db, relays);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    sharing.set(db, (sharing.get(db) ?? 1) - 1);
  };
}
