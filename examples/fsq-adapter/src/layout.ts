/**
 * The on-disk layout of a queue, as pure functions (names in, names out; no I/O).
 *
 * ```text
 * <root>/<queue>/msgs/<key>.json        one immutable file per message: id, body, attributes, enqueuedAt
 * <root>/<queue>/state/<key>.<deliveries>.<visibleAt>.<mode><token>
 *                                       one empty file per live message; its NAME is its state
 * <root>/<queue>/acked/<state name>     tombstones: a second ack of the same handle is harmless
 * <root>/<queue>/dead/<order>-<idHash>.json   one file per dead letter, named oldest first
 * ```
 *
 * Every state change renames the state file from the name the caller saw to a new name:
 * `rename` is atomic, so of two processes racing for the same message exactly one wins
 * (the other gets `ENOENT`). The state file's name is the lease handle: once it is renamed
 * (by an ack, extend, release or another consumer's receive) the old handle is stale.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';

/** Folder names inside a queue folder. */
export const DIRS = { msgs: 'msgs', state: 'state', acked: 'acked', dead: 'dead' } as const;

/** `l` = leased by a consumer; `w` = waiting (new, released or delayed). */
export type StateMode = 'l' | 'w';

/** What a state file's name says about its message. */
export interface StateName {
  /** The message's storage key (unique per stored message, time-ordered). */
  readonly key: string;
  /** Deliveries so far. */
  readonly deliveries: number;
  /** Epoch ms from which the message may be received. */
  readonly visibleAt: number;
  readonly mode: StateMode;
  /** Random; changes with every state change so an old name never comes back. */
  readonly token: string;
}

const STATE = /^([0-9a-z]{1,40})\.(\d{1,9})\.(\d{1,16})\.([lw])([0-9a-f]{8,32})$/;
const DEAD = /^(\d{13}-[0-9a-z]{1,20}-[0-9a-f]{8})-([0-9a-f]{32})\.json$/;

/** Formats a state file name (the lease handle). */
export function formatState(state: StateName): string {
  return `${state.key}.${state.deliveries}.${state.visibleAt}.${state.mode}${state.token}`;
}

/** Parses a state file name; `undefined` for anything else (temporary files, garbage, foreign handles). */
export function parseState(name: string): StateName | undefined {
  const m = STATE.exec(name);
  if (!m) return undefined;
  return {
    key: m[1] as string,
    deliveries: Number(m[2]),
    visibleAt: Number(m[3]),
    mode: m[4] as StateMode,
    token: m[5] as string,
  };
}

/** A fresh random token. */
export function newToken(): string {
  return randomBytes(6).toString('hex');
}

let sequence = 0;

/**
 * A new storage key: sortable by creation time (ms, base 36, fixed width), then a per-process
 * sequence and random bytes, so keys made in the same ms by several processes never collide.
 */
export function newKey(now: number): string {
  sequence = (sequence + 1) % 36 ** 4;
  return `${now.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(4, '0')}${randomBytes(5).toString('hex')}`;
}

/** The fixed-length hash of a job id used in dead-letter file names (ids may be any string). */
export function idHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32);
}

/**
 * A dead-letter file name: write time, a per-process sequence, random bytes and the id's
 * hash. Sorting names lists dead letters oldest first, ties included.
 */
export function deadName(now: number, id: string): string {
  sequence = (sequence + 1) % 36 ** 4;
  return `${String(now).padStart(13, '0')}-${sequence.toString(36).padStart(4, '0')}-${randomBytes(4).toString('hex')}-${idHash(id)}.json`;
}

/** Whether a name is a dead-letter file (and, given an id, that id's). */
export function isDeadName(name: string, id?: string): boolean {
  const m = DEAD.exec(name);
  return m !== null && (id === undefined || m[2] === idHash(id));
}

/** A listing cursor is the last dead-letter name returned; anything else is refused. */
export function isCursor(cursor: string): boolean {
  return DEAD.test(cursor);
}

/** What a live queue folder holds, counted from its state file names at `now`. */
export function countStates(names: readonly string[], now: number): { ready: number; inFlight: number; delayed: number } {
  let ready = 0;
  let inFlight = 0;
  let delayed = 0;
  for (const name of names) {
    const s = parseState(name);
    if (!s) continue;
    if (s.visibleAt <= now) ready++;
    else if (s.mode === 'l') inFlight++;
    else delayed++;
  }
  return { ready, inFlight, delayed };
}

/** The receivable state names at `now`, oldest message first. */
export function receivable(names: readonly string[], now: number): StateName[] {
  return names
    .map(parseState)
    .filter((s): s is StateName => s !== undefined && s.visibleAt <= now)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
