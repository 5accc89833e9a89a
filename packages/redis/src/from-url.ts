import { type RedisAdapter, redisAdapter } from './redis-adapter.js';

/**
 * `connect()` entry point: `redis://[user:password@]host:port[/db][?prefix=bg]`
 * (`rediss://` for TLS). `prefix` sets the key prefix; every other part goes to ioredis.
 */
export function fromUrl(url: URL): RedisAdapter {
  const copy = new URL(url.toString());
  const prefix = copy.searchParams.get('prefix') ?? undefined;
  copy.searchParams.delete('prefix');
  return redisAdapter({ url: copy.toString(), ...(prefix ? { prefix } : {}) });
}
