import type { DeadLetter, DeadLetterBackend } from '@bg/core/adapter';
import type { MemoryQueueState } from './memory-store.js';

/** A dead letter with its own attributes (and error): what list, get and replay hand out. */
function copyLetter(record: DeadLetter): DeadLetter {
  return {
    ...record,
    attributes: { ...record.attributes },
    ...(record.error !== undefined ? { error: { ...record.error } } : {}),
  };
}

/**
 * The memory adapter's dead letters for the kit's `DeadLetterStore`: a map by job id per
 * queue (random access, so `find` instead of scans; a record is the dead letter itself).
 * `requeue` stores the letter as a new live message.
 */
export function memoryDeadLetterBackend(
  stateOf: (queue: string) => MemoryQueueState,
  requeue: (state: MemoryQueueState, letter: DeadLetter) => void,
): DeadLetterBackend<DeadLetter> {
  return {
    async scan(queue) {
      return [...stateOf(queue).dead.values()];
    },
    // A copy: a caller changing a listed or fetched letter must not change the stored one.
    letterOf: copyLetter,
    async find(queue, id) {
      const record = stateOf(queue).dead.get(id);
      return record === undefined ? [] : [record];
    },
    async remove(queue, records) {
      const dead = stateOf(queue).dead;
      for (const record of records) if (dead.get(record.id) === record) dead.delete(record.id);
    },
    async requeue(queue, letter) {
      requeue(stateOf(queue), letter);
    },
  };
}
