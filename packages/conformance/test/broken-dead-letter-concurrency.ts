import type { DeadLetter } from '@bg/core';
import { type DeadLetterBackend, DeadLetterStore, type SectionLock } from '@bg/core/adapter';
import type { MemoryStore } from '@bg/memory';
import type { BrokenVariant } from './broken-adapters.js';
import { sharedMemory } from './memory-options.js';

/**
 * Memory dead letters read the way SQS, Azure and Pub/Sub read them: a scan hides every record
 * it reads until it hands them back (a receive with a visibility timeout), with a turn of the
 * event loop between the steps, as network calls have.
 */
function hidingBackend(store: MemoryStore): DeadLetterBackend<DeadLetter> {
  const hidden = new WeakSet<DeadLetter>();
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  return {
    async scan(queue) {
      await tick();
      const got = [...store.queue(queue).dead.values()].filter((d) => !hidden.has(d));
      for (const d of got) hidden.add(d);
      await tick();
      return got;
    },
    letterOf: (d) => d,
    async remove(queue, records) {
      await tick();
      const dead = store.queue(queue).dead;
      for (const d of records) if (dead.get(d.id) === d) dead.delete(d.id);
    },
    async restore(_queue, records) {
      await tick();
      for (const d of records) hidden.delete(d);
    },
    async requeue(queue, letter) {
      await tick();
      const state = store.queue(queue);
      state.add(++store.seq, letter, store.clock.now(), 0);
      state.notify();
    },
  };
}

/** A lock that does not lock: the unserialised store. */
const NO_LOCK: SectionLock = { run: (_key, fn) => fn() };

/** Dead-letter stores whose concurrent mutations hide each other's records. */
export const DEAD_LETTER_CONCURRENCY_VARIANTS: readonly BrokenVariant[] = [
  {
    name: 'scanning dead-letter store without a per-queue lock',
    caughtBy: 'dead-letter.concurrent-mutations',
    make: (s) => {
      const inner = sharedMemory(s);
      const dead = new DeadLetterStore(hidingBackend(inner.store), { lock: NO_LOCK });
      return Object.assign(Object.create(inner) as typeof inner, inner, {
        replayDeadLetter: (queue: string, id: string) => dead.replay(queue, id),
        purgeDeadLetters: (queue: string, ids?: readonly string[]) => dead.purge(queue, ids),
      });
    },
  },
];
