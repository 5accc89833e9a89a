import type { Cluster, Redis } from 'ioredis';

/**
 * Warns when the server could lose jobs: an eviction policy other than `noeviction`
 * (Redis may delete job keys under memory pressure) or no persistence at all (a restart
 * loses every queued job). Servers that forbid CONFIG (managed Redis) are not checked.
 * `warn` gets each message with a stable key (for once-per-process printing).
 */
export async function checkServer(client: Redis | Cluster, warn: (message: string, key: string) => void): Promise<void> {
  try {
    const policy = (await client.config('GET', 'maxmemory-policy')) as string[];
    const value = policy[1];
    if (value !== undefined && value !== 'noeviction') {
      warn(
        `@bg/redis: maxmemory-policy is "${value}": Redis may evict job keys under memory pressure and lose jobs. Set maxmemory-policy noeviction.`,
        'redis:maxmemory-policy',
      );
    }
    const aof = (await client.config('GET', 'appendonly')) as string[];
    const save = (await client.config('GET', 'save')) as string[];
    if (aof[1] === 'no' && (save[1] ?? '') === '') {
      warn(
        '@bg/redis: persistence is off (no AOF, no RDB snapshots): a Redis restart loses every queued job. Enable appendonly yes.',
        'redis:persistence',
      );
    }
  } catch {
    // CONFIG is disabled on many managed services: nothing to check.
  }
}
