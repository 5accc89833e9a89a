import type { Inspector } from '@bg/conformance';
import { Cluster, Redis } from 'ioredis';
import { queueKeys } from '../src/index.js';

/** Reads the queue's keys with a plain ioredis client or cluster (not through the adapter). */
export function redisInspector(
  target: string | readonly { host: string; port: number }[],
  prefix: string,
): Inspector & { close(): Promise<void> } {
  const client: Redis | Cluster =
    typeof target === 'string' ? new Redis(target, { maxRetriesPerRequest: 50 }) : new Cluster([...target]);
  client.on('error', () => {}); // reconnects by itself across the durability case's restart
  return {
    async liveCount(queue) {
      const k = queueKeys(prefix, queue);
      const [[, len], [, delayed]] = (await client.multi().xlen(k.stream).zcard(k.delayed).exec()) as [
        [null, number],
        [null, number],
      ];
      return len + delayed;
    },
    async deadCount(queue) {
      return client.hlen(queueKeys(prefix, queue).dead);
    },
    async sendRaw(queue, body) {
      // As a bg producer writes: the entry, then the wake-up of waiting workers.
      const k = queueKeys(prefix, queue);
      await client.multi().xadd(k.stream, '*', 'b', body).xadd(k.wake, 'MAXLEN', '1', '*', 'w', '1').exec();
    },
    async close() {
      await client.quit();
    },
  };
}
