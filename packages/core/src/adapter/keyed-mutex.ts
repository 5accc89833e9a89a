/**
 * Runs async sections one at a time per key: a section of a key starts only after every
 * earlier section of that key settled (resolved or rejected). Keys are independent.
 * Memory stays bounded: a key is forgotten once its last section settled.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` after every earlier section of `key`; resolves or rejects as `fn` does. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous === undefined ? fn() : previous.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with a section running or waiting (for tests and diagnostics). */
  get busyKeys(): number {
    return this.#tails.size;
  }
}

/** What {@link KeyedMutex} offers; any lock with this shape serialises a dead-letter store. */
export interface SectionLock {
  /** Runs `fn` exclusively for `key`. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}
