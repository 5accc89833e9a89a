/**
 * The file-system queue adapter: one folder per queue, one file per message, leases by
 * atomic renames (see `layout.ts`). Several processes on one machine (or one shared POSIX
 * file system with atomic `rename`) may use the same root at once.
 * @module
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  assertSendable,
  BgError,
  CloseGuard,
  checkLeaseMs,
  checkReleaseDelayMs,
  type DeadLetter,
  type DeadLetterInfo,
  type OutgoingMessage,
  type ReceivedMessage,
  type SendResult,
} from '@bg/core';
import { FSQ_CAPABILITIES } from './capabilities.js';
import { claim, createEmpty, isMissing, listNames, removeFile, syncDir, writeFileAtomic } from './files.js';
import { toBgError } from './fs-errors.js';
import {
  countStates,
  DIRS,
  deadName,
  formatState,
  isCursor,
  isDeadName,
  newKey,
  newToken,
  parseState,
  receivable,
  type StateName,
} from './layout.js';

/** Options of {@link fsqAdapter}. */
export interface FsqOptions {
  /** The root folder (it must exist: a missing one is `UNREACHABLE`); each queue is a folder inside it, made by `ensureQueue`. */
  readonly root: string;
  /** How often a long poll looks for new messages, in ms (default 20). */
  readonly pollMs?: number;
}

/** What a message file holds. */
interface StoredMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly enqueuedAt: number;
}

/** Folders of one queue. */
interface QueueDirs {
  readonly base: string;
  readonly msgs: string;
  readonly state: string;
  readonly acked: string;
  readonly dead: string;
}

/** Tombstones of acked handles are kept this long after their lease ended. */
const TOMBSTONE_MS = 3_600_000;

function leaseLost(queue: string, handle: string, call: string): BgError {
  return new BgError('LEASE_LOST', `fsq: ${call} on queue ${queue}: the handle no longer owns the delivery`, {
    retryable: false,
    details: { queue, handle },
  });
}

/**
 * Creates an adapter over the folder `root`.
 *
 * @example
 * ```ts
 * const adapter = fsqAdapter({ root: '/var/lib/queues' })
 * await adapter.ensureQueue('emails')
 * ```
 */
export function fsqAdapter(options: FsqOptions): Adapter {
  const root = options.root;
  const pollMs = options.pollMs ?? 20;
  const guard = new CloseGuard('fsq');
  const closing = new AbortController();
  let lastPrune = 0;

  const dirsOf = (queue: string): QueueDirs => {
    guard.assertOpen();
    assertQueueName(queue);
    const base = join(root, queue);
    return {
      base,
      msgs: join(base, DIRS.msgs),
      state: join(base, DIRS.state),
      acked: join(base, DIRS.acked),
      dead: join(base, DIRS.dead),
    };
  };

  /** Resolves when the root folder exists; `UNREACHABLE` when it does not (an unmounted volume). */
  const rootThere = async (): Promise<void> => {
    try {
      await stat(root);
    } catch (error) {
      if (isMissing(error)) {
        throw new BgError('UNREACHABLE', `fsq: the root folder ${root} does not exist (not mounted?)`, { retryable: true });
      }
      throw toBgError(error, `root ${root}`);
    }
  };

  /** The queue's folders, or `QUEUE_NOT_FOUND` (root there, queue not) / `UNREACHABLE` (no root). */
  const existing = async (queue: string): Promise<QueueDirs> => {
    const dirs = dirsOf(queue);
    try {
      await stat(dirs.state);
      return dirs;
    } catch (error) {
      if (!isMissing(error)) throw toBgError(error, `queue ${queue}`);
    }
    await rootThere();
    throw new BgError('QUEUE_NOT_FOUND', `fsq: queue ${queue} does not exist in ${root}; create it with ensureQueue`, {
      retryable: false,
    });
  };

  const readMessage = async (dirs: QueueDirs, key: string): Promise<StoredMessage | undefined> => {
    try {
      return JSON.parse(await readFile(join(dirs.msgs, `${key}.json`), 'utf8')) as StoredMessage;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };

  /** Stores messages: every message file flushed first, then the state files that make them live. */
  const store = async (dirs: QueueDirs, messages: readonly OutgoingMessage[]): Promise<void> => {
    const now = Date.now();
    const keyed = messages.map((m) => ({ m, key: newKey(now) }));
    const failed: string[] = [];
    const written: typeof keyed = [];
    await Promise.all(
      keyed.map(async (entry) => {
        const stored: StoredMessage = {
          id: entry.m.id,
          body: entry.m.body,
          attributes: { ...entry.m.attributes },
          enqueuedAt: now,
        };
        try {
          await writeFileAtomic(dirs.msgs, `${entry.key}.json`, JSON.stringify(stored));
          written.push(entry);
        } catch {
          failed.push(entry.m.id);
        }
      }),
    );
    await syncDir(dirs.msgs);
    await Promise.all(
      written.map(async ({ m, key }) => {
        const state: StateName = { key, deliveries: 0, visibleAt: now + (m.delayMs ?? 0), mode: 'w', token: newToken() };
        try {
          await createEmpty(join(dirs.state, formatState(state)));
        } catch {
          failed.push(m.id);
        }
      }),
    );
    await syncDir(dirs.state);
    if (failed.length > 0) {
      throw new BgError('BACKEND_ERROR', `fsq: ${failed.length} of ${messages.length} messages could not be stored`, {
        details: { failed },
      });
    }
  };

  /** One pass over the queue: leases up to `max` visible messages, each by an atomic rename. */
  const claimVisible = async (dirs: QueueDirs, max: number, leaseMs: number): Promise<ReceivedMessage[]> => {
    const got: ReceivedMessage[] = [];
    for (const state of receivable(await listNames(dirs.state), Date.now())) {
      if (got.length >= max) break;
      // The message file never changes: read it before the claim, so the lease starts as late
      // as possible — at the rename, right before the delivery is handed over.
      const stored = await readMessage(dirs, state.key);
      const leaseExpiresAt = Date.now() + leaseMs;
      const leased: StateName = {
        ...state,
        deliveries: state.deliveries + 1,
        visibleAt: leaseExpiresAt,
        mode: 'l',
        token: newToken(),
      };
      const handle = formatState(leased);
      if (!(await claim(join(dirs.state, formatState(state)), join(dirs.state, handle)))) continue; // another consumer won
      if (!stored) {
        await removeFile(join(dirs.state, handle)); // a state file without its message: debris of a crashed send
        continue;
      }
      got.push({
        id: stored.id,
        body: stored.body,
        attributes: stored.attributes,
        deliveryCount: leased.deliveries,
        handle,
        leaseExpiresAt,
        enqueuedAt: stored.enqueuedAt,
      });
    }
    return got;
  };

  const pruneTombstones = async (dirs: QueueDirs): Promise<void> => {
    const now = Date.now();
    if (now - lastPrune < 60_000) return;
    lastPrune = now;
    for (const name of await listNames(dirs.acked)) {
      const s = parseState(name);
      if (!s || s.visibleAt < now - TOMBSTONE_MS) await removeFile(join(dirs.acked, name));
    }
  };

  const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      closing.signal.addEventListener('abort', done, { once: true });
    });

  /** Moves a leased state file to a new state; `LEASE_LOST` when the handle no longer owns it. */
  const transition = async (queue: string, handle: string, call: string, next: (s: StateName) => StateName): Promise<string> => {
    const dirs = await existing(queue);
    const current = parseState(handle);
    if (current?.mode !== 'l') throw leaseLost(queue, handle, call);
    const name = formatState(next(current));
    try {
      if (await claim(join(dirs.state, handle), join(dirs.state, name))) return name;
    } catch (error) {
      throw toBgError(error, `${call} on queue ${queue}`);
    }
    throw leaseLost(queue, handle, call);
  };

  const deadFiles = async (dirs: QueueDirs, id?: string): Promise<string[]> =>
    (await listNames(dirs.dead)).filter((name) => isDeadName(name, id)).sort();

  const readDead = async (dirs: QueueDirs, name: string): Promise<DeadLetter | undefined> => {
    try {
      return JSON.parse(await readFile(join(dirs.dead, name), 'utf8')) as DeadLetter;
    } catch (error) {
      if (isMissing(error)) return undefined; // purged or replayed meanwhile
      throw error;
    }
  };

  /** The files of the dead letters with exactly this id (the hash in the name, then the id inside). */
  const deadOf = async (dirs: QueueDirs, id: string): Promise<{ name: string; dead: DeadLetter }[]> => {
    const found: { name: string; dead: DeadLetter }[] = [];
    for (const name of await deadFiles(dirs, id)) {
      const dead = await readDead(dirs, name);
      if (dead && dead.id === id) found.push({ name, dead });
    }
    return found;
  };

  const wrap = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw toBgError(error, what);
    }
  };

  return {
    name: 'fsq',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities: FSQ_CAPABILITIES,

    async ensureQueue(queue) {
      const dirs = dirsOf(queue);
      // The root is the backend: a missing one is an unmounted volume, never created here (a
      // queue made on the disk under the mount point would hide the real one).
      await rootThere();
      await wrap(`ensureQueue ${queue}`, async () => {
        for (const dir of [dirs.msgs, dirs.acked, dirs.dead, dirs.state]) await mkdir(dir, { recursive: true });
        await syncDir(dirs.base);
      });
    },

    async send(queue, messages): Promise<SendResult[]> {
      dirsOf(queue);
      assertSendable(FSQ_CAPABILITIES, messages);
      const dirs = await existing(queue);
      await wrap(`send to ${queue}`, () => store(dirs, messages));
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    },

    async receive(queue, { max, leaseMs, waitMs = 0, signal }) {
      dirsOf(queue);
      if (!Number.isInteger(max) || max < 1)
        throw new BgError('INVALID_ARGUMENT', `fsq: receive max must be an integer ≥ 1, got ${max}`);
      if (max > FSQ_CAPABILITIES.maxBatchSize) {
        throw new BgError(
          'BATCH_TOO_LARGE',
          `fsq: receive max ${max} exceeds the batch limit of ${FSQ_CAPABILITIES.maxBatchSize}`,
          {
            details: { limit: FSQ_CAPABILITIES.maxBatchSize, size: max },
          },
        );
      }
      if (!(waitMs >= 0) || !Number.isFinite(waitMs))
        throw new BgError('INVALID_ARGUMENT', `fsq: waitMs must be ≥ 0, got ${waitMs}`);
      const lease = checkLeaseMs(FSQ_CAPABILITIES, leaseMs);
      const dirs = await existing(queue);
      const until = Date.now() + waitMs;
      return wrap(`receive from ${queue}`, async () => {
        await pruneTombstones(dirs);
        for (;;) {
          if (guard.closed) return []; // close() ends a long poll at once, leasing nothing more
          const got = await claimVisible(dirs, max, lease);
          const left = until - Date.now();
          if (got.length > 0 || left <= 0 || signal?.aborted || guard.closed) return got;
          await pause(Math.min(pollMs, left), signal);
        }
      });
    },

    async extend(queue, handle, leaseMs) {
      dirsOf(queue);
      const lease = checkLeaseMs(FSQ_CAPABILITIES, leaseMs);
      let leaseExpiresAt = 0;
      const next = await transition(queue, handle, 'extend', (s) => {
        leaseExpiresAt = Date.now() + lease;
        return { ...s, visibleAt: leaseExpiresAt, mode: 'l', token: newToken() };
      });
      return { handle: next, leaseExpiresAt };
    },

    async ack(queue, handle) {
      const dirs = await existing(queue);
      const current = parseState(handle);
      if (current?.mode !== 'l') throw leaseLost(queue, handle, 'ack');
      const moved = await wrap(`ack on ${queue}`, () => claim(join(dirs.state, handle), join(dirs.acked, handle)));
      if (moved) {
        await wrap(`ack on ${queue}`, async () => {
          await removeFile(join(dirs.msgs, `${current.key}.json`));
          await syncDir(dirs.state);
        });
        return;
      }
      const tombstone = await stat(join(dirs.acked, handle)).then(
        () => true,
        () => false,
      );
      if (!tombstone) throw leaseLost(queue, handle, 'ack'); // a second ack of the same handle is harmless
    },

    async release(queue, handle, delayMs) {
      dirsOf(queue);
      const delay = checkReleaseDelayMs(FSQ_CAPABILITIES, delayMs);
      await transition(queue, handle, 'release', (s) => ({ ...s, visibleAt: Date.now() + delay, mode: 'w', token: newToken() }));
    },

    async deadLetter(queue, message, info: DeadLetterInfo) {
      const dirs = await existing(queue);
      const current = parseState(message.handle);
      const owned =
        current?.mode === 'l' &&
        (await stat(join(dirs.state, message.handle)).then(
          () => true,
          () => false,
        ));
      if (!owned) throw leaseLost(queue, message.handle, 'deadLetter');
      await wrap(`deadLetter on ${queue}`, async () => {
        const earlier = await deadFiles(dirs, message.id);
        const record: DeadLetter = {
          id: message.id,
          body: message.body,
          attributes: { ...message.attributes },
          reason: info.reason,
          attempts: info.attempts,
          deadLetteredAt: info.deadLetteredAt,
          ...(info.error ? { error: info.error } : {}),
          ...(info.enqueuedAt !== undefined ? { enqueuedAt: info.enqueuedAt } : {}),
        };
        await writeFileAtomic(dirs.dead, deadName(Date.now(), message.id), JSON.stringify(record));
        for (const name of earlier) {
          const dead = await readDead(dirs, name);
          if (dead?.id === message.id) await removeFile(join(dirs.dead, name)); // one dead letter per job id
        }
        await syncDir(dirs.dead);
      });
    },

    async listDeadLetters(queue, { limit = 100, cursor } = {}) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new BgError('INVALID_ARGUMENT', `fsq: limit must be an integer ≥ 1, got ${limit}`);
      if (cursor !== undefined && !isCursor(cursor)) throw new BgError('INVALID_ARGUMENT', 'fsq: not a cursor of this adapter');
      const dirs = await existing(queue);
      return wrap(`listDeadLetters of ${queue}`, async () => {
        const names = (await deadFiles(dirs)).filter((name) => cursor === undefined || name > cursor);
        const items: DeadLetter[] = [];
        let last: string | undefined;
        let index = 0;
        for (; index < names.length && items.length < limit; index++) {
          const name = names[index] as string;
          const dead = await readDead(dirs, name);
          if (dead) items.push(dead);
          last = name;
        }
        return index < names.length && last !== undefined ? { items, cursor: last } : { items };
      });
    },

    async getDeadLetter(queue, id) {
      const dirs = await existing(queue);
      return wrap(`getDeadLetter of ${queue}`, async () => (await deadOf(dirs, id)).at(-1)?.dead);
    },

    async replayDeadLetter(queue, id) {
      const dirs = await existing(queue);
      return wrap(`replayDeadLetter of ${queue}`, async () => {
        const found = await deadOf(dirs, id);
        const latest = found.at(-1);
        if (!latest) return false;
        await store(dirs, [{ id, body: latest.dead.body, attributes: latest.dead.attributes }]); // live first
        for (const { name } of found) await removeFile(join(dirs.dead, name)); // then the dead letter
        await syncDir(dirs.dead);
        return true;
      });
    },

    async purgeDeadLetters(queue, ids) {
      const dirs = await existing(queue);
      return wrap(`purgeDeadLetters of ${queue}`, async () => {
        const names =
          ids === undefined
            ? await deadFiles(dirs)
            : (await Promise.all([...new Set(ids)].map((id) => deadOf(dirs, id)))).flat().map((f) => f.name);
        let removed = 0;
        for (const name of names) if (await removeFile(join(dirs.dead, name))) removed++;
        if (removed > 0) await syncDir(dirs.dead);
        return removed;
      });
    },

    async stats(queue) {
      const dirs = await existing(queue);
      return wrap(`stats of ${queue}`, async () => {
        const counts = countStates(await listNames(dirs.state), Date.now());
        return { ...counts, dead: (await deadFiles(dirs)).length };
      });
    },

    async close() {
      if (!guard.close()) return;
      closing.abort();
    },
  };
}
