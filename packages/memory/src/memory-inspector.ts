import type { MemoryStore } from './memory-store.js';

/**
 * Reads a memory store directly, bypassing the adapter: the inspector hook that
 * `@bg/conformance` asks for, and a handy assertion helper in your own tests.
 */
export function memoryInspector(store: MemoryStore): {
  liveCount(queue: string): Promise<number>;
  deadCount(queue: string): Promise<number>;
  sendRaw(queue: string, body: string): Promise<void>;
} {
  return {
    async liveCount(queue) {
      return store.queues.get(queue)?.messages.size ?? 0;
    },
    async deadCount(queue) {
      return store.queues.get(queue)?.dead.size ?? 0;
    },
    async sendRaw(queue, body) {
      const state = store.queue(queue);
      const seq = ++store.seq;
      state.add(seq, { id: `raw-${seq}`, body, attributes: {} }, store.clock.now(), 0);
      state.notify();
    },
  };
}
